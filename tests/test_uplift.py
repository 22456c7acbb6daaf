"""Save rates and uplift by action and segment (churnlab.decide.uplift.action_rates), on small
hand-made histories whose figures are worked out in each test."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churnlab.decide.saveability import ALL_SEGMENTS
from churnlab.decide.uplift import action_rates, judged_actions
from churnlab.settings import Settings, ZoneSettings

AS_OF = "2026-06-30"
OLD = pd.Timestamp("2026-01-05")          # judged: more than 90 days before AS_OF
RECENT = pd.Timestamp("2026-06-01")       # not judged yet


def _history(rows: list[tuple[str, str, str, str, bool]], ts=OLD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interventions, customers) from (customer_id, campaign, action, outcome, churned) rows;
    a churned customer left 30 days after its action."""
    iv = pd.DataFrame([{"customer_id": c, "ts": ts, "campaign": camp, "action": a, "outcome": o}
                       for c, camp, a, o, _ in rows])
    customers = pd.DataFrame({"customer_id": [r[0] for r in rows],
                              "churn_date": [ts + pd.Timedelta(days=30) if r[4] else pd.NaT for r in rows]})
    return iv, customers


def _trial(contacted: int, contacted_stayed: int, held: int, held_stayed: int) -> list:
    rows = [(f"T{i}", "trial", "call", "accepted", i >= contacted_stayed) for i in range(contacted)]
    rows += [(f"H{i}", "trial", "none", "held_out", i >= held_stayed) for i in range(held)]
    return rows


def _flat_prior() -> Settings:
    # a prior of (almost) no weight: the rates are the observed shares
    return Settings(zones=ZoneSettings(prior_strength=1e-9))


def test_uplift_is_the_contacted_stay_rate_minus_the_held_out_one_with_a_beta_interval():
    iv, customers = _history(_trial(10, 8, 10, 5))
    got = action_rates(iv, customers, AS_OF, settings=_flat_prior()).set_index("segment").loc[ALL_SEGMENTS]
    assert got["stay_contacted"] == pytest.approx(0.8) and got["stay_held_out"] == pytest.approx(0.5)
    assert got["uplift"] == pytest.approx(0.3)
    # Beta(8, 2) and Beta(5, 5): variances 16 / (100 x 11) and 25 / (100 x 11)
    half = 1.959964 * math.sqrt(16 / 1100 + 25 / 1100)
    assert got["uplift_low"] == pytest.approx(0.3 - half, abs=1e-5)
    assert got["uplift_high"] == pytest.approx(0.3 + half, abs=1e-5)


def test_held_out_rows_are_not_attempts_and_a_save_needs_acceptance():
    rows = _trial(4, 4, 3, 3) + [("D1", "trial", "call", "declined", False)]
    iv, customers = _history(rows)
    got = action_rates(iv, customers, AS_OF, settings=_flat_prior()).set_index("segment").loc[ALL_SEGMENTS]
    assert got["attempts"] == 5 and got["saved"] == 4 and got["save_rate"] == pytest.approx(0.8)


def test_a_campaign_without_a_hold_out_gives_a_save_rate_but_no_uplift():
    rows = [(f"S{i}", "save_desk", "call", "accepted", i >= 6) for i in range(8)]
    iv, customers = _history(rows)
    got = action_rates(iv, customers, AS_OF).set_index("segment").loc[ALL_SEGMENTS]
    assert got["attempts"] == 8 and got["saved"] == 6
    assert got["contacted"] == 0 and np.isnan(got["uplift"])


def test_chosen_actions_do_not_enter_the_uplift_beside_a_trial():
    # the team's own calls all stayed; the trial's did no better than its hold-out
    rows = _trial(10, 5, 10, 5) + [(f"S{i}", "save_desk", "call", "accepted", False) for i in range(20)]
    iv, customers = _history(rows)
    got = action_rates(iv, customers, AS_OF, settings=_flat_prior()).set_index("segment").loc[ALL_SEGMENTS]
    assert got["contacted"] == 10 and got["uplift"] == pytest.approx(0.0)
    assert got["attempts"] == 30


def test_actions_too_recent_to_judge_are_left_out():
    iv, customers = _history(_trial(6, 3, 6, 3), ts=RECENT)
    assert judged_actions(iv, customers, AS_OF).empty
    got = action_rates(iv, customers, AS_OF)
    assert got.empty or (got["attempts"] == 0).all()


def test_a_thin_segment_leans_on_its_actions_rate_and_its_interval_stays_wide():
    # two segments; the thin one has 2 contacted and 2 held out, all stayed
    rows = _trial(40, 20, 40, 20)
    rows += [("X1", "trial", "call", "accepted", False), ("X2", "trial", "call", "accepted", False),
             ("Y1", "trial", "none", "held_out", False), ("Y2", "trial", "none", "held_out", False)]
    iv, customers = _history(rows)
    customers["segment"] = np.where(customers["customer_id"].str.match(r"[XY]"), "thin", "thick")
    got = action_rates(iv, customers, AS_OF).set_index("segment")
    thin, thick = got.loc["thin"], got.loc["thick"]
    # alone the thin segment would say stay 1.0 either way; shrunk it sits between 0.5 and 1
    assert 0.5 <= thin["stay_contacted"] < 1.0
    assert thin["uplift_high"] - thin["uplift_low"] > thick["uplift_high"] - thick["uplift_low"]


def test_the_uplift_plot_has_a_title_labelled_axes_and_one_interval_per_cell():
    import matplotlib
    matplotlib.use("agg")
    from churnlab.decide.plots import plot_action_rates

    iv, customers = _history(_trial(10, 8, 10, 5))
    rates = action_rates(iv, customers, AS_OF, settings=_flat_prior())
    ax = plot_action_rates(rates)
    assert ax.get_title() and "percentage points" in ax.get_xlabel() and ax.get_ylabel() == "action | segment"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["call | (all segments)"]
