"""Rule evidence (churnlab.decide.rule_evidence): how often each rule fired over the training
snapshots and how much more often customers churned when it did, on hand-made training sets."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from churnlab.decide.rule_evidence import rule_evidence
from churnlab.decide.rules import load_rules, parse_rules

RULES = """
rules:
  - name: quiet
    kind: risk_factor
    severity: recapitulative
    when: days_since_last_use >= 30
    message: "quiet"
  - name: dropped
    kind: symptom
    severity: recapitulative
    when: events_30d < prev.events_30d
    message: "dropped"
"""


def _training(rows: list[tuple[str, str, int, int, object]]) -> pd.DataFrame:
    """(snapshot, customer_id, days_since_last_use, events_30d, churned) rows."""
    return pd.DataFrame(rows, columns=["snapshot", "customer_id", "days_since_last_use", "events_30d", "churned"]) \
        .assign(snapshot=lambda f: pd.to_datetime(f["snapshot"]))


def test_lift_precision_and_recall_are_worked_out_from_the_rows_it_fired_on():
    # 4 quiet rows, 2 churned; 6 other rows, 1 churned
    rows = [("2026-01-31", f"Q{i}", 40, 5, i < 2) for i in range(4)]
    rows += [("2026-01-31", f"A{i}", 3, 5, i < 1) for i in range(6)]
    got = rule_evidence(parse_rules(RULES), _training(rows)).set_index("rule").loc["quiet"]
    assert (got["fired"], got["rows"]) == (4, 10)
    assert got["churn_when_fired"] == pytest.approx(0.5) and got["churn_when_not"] == pytest.approx(1 / 6)
    assert got["lift"] == pytest.approx(3.0)
    se = math.sqrt(1 / 2 - 1 / 4 + 1 / 1 - 1 / 6)
    assert got["lift_low"] == pytest.approx(3.0 * math.exp(-1.959964 * se), rel=1e-5)
    assert got["precision"] == pytest.approx(0.5) and got["recall"] == pytest.approx(2 / 3)
    assert got["flag"] == "lift not clearly above 1"     # three churners cannot show it


def test_a_rule_that_fires_on_stayers_is_flagged():
    rows = [("2026-01-31", f"Q{i}", 40, 5, False) for i in range(10)]
    rows += [("2026-01-31", f"A{i}", 3, 5, i < 5) for i in range(10)]
    got = rule_evidence(parse_rules(RULES), _training(rows)).set_index("rule").loc["quiet"]
    assert got["lift"] == 0.0 and got["flag"] == "lift not above 1"


def test_rows_without_a_known_label_are_left_out_and_prev_rules_compare_with_the_month_before():
    rows = [("2026-01-31", "C1", 3, 10, False), ("2026-01-31", "C2", 3, 10, False),
            ("2026-02-28", "C1", 3, 4, True), ("2026-02-28", "C2", 3, 10, False),
            ("2026-03-31", "C1", 3, 1, None), ("2026-03-31", "C2", 3, 1, None)]
    got = rule_evidence(parse_rules(RULES), _training(rows)).set_index("rule")
    # the first snapshot has no month before: dropped is not evaluated there; March is unlabelled
    assert got.loc["dropped", "rows"] == 2 and got.loc["dropped", "fired"] == 1
    assert got.loc["dropped", "recall"] == pytest.approx(1.0)
    assert got.loc["quiet", "rows"] == 4


def test_docs_show_the_evidence_of_every_starter_rule_and_alert():
    text = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text()
    evidence = text.split("## Evidence", 1)[1]
    ruleset = load_rules()
    for name in [r.name for r in ruleset.rules] + [a.name for a in ruleset.alerts]:
        assert f"| `{name}` |" in evidence, name
