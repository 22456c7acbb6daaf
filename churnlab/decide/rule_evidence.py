"""Do the rules warn? Each rule judged over the training snapshots (issue 21 item 4).

A rule is declared critical or recapitulative by hand; :func:`rule_evidence` shows what it did
in the past. At every snapshot of the training set (:func:`churnlab.build_training_set`) the
rules are evaluated on that snapshot's features, with the snapshot a month before as the
previous frame (a ``prev.`` rule thus compares with a month earlier, not with last week's run;
the first snapshot uses ``without_previous``). Then, over every (snapshot, customer) row whose
label is known (``churned`` not missing), each rule and alert gets:

* ``fired``: rows it fired on, and ``fire_share`` of the rows it was evaluated on;
* ``churn_when_fired`` and ``churn_when_not``: the share that churned within the horizon;
* ``lift`` = churn_when_fired / churn_when_not, with a ``level`` interval (the log of a ratio
  of two proportions, Katz's normal approximation);
* ``precision`` (= churn_when_fired) and ``recall`` (the share of churners it fired on);
* ``flag``: ``lift not above 1`` when the lift is at most 1, ``lift not clearly above 1`` when
  only the interval reaches down to 1, ``never fired`` or ``not evaluated``.

The rows are not independent (one customer appears at up to every snapshot), so the interval is
narrower than it should be for customers who stay long in one state; read it as a lower bound of
the uncertainty.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from churnlab.decide.rules import RuleSet, evaluate_rules

__all__ = ["rule_evidence", "render_evidence", "EVIDENCE_COLUMNS"]

EVIDENCE_COLUMNS = ["rule", "kind", "severity", "rows", "fired", "fire_share", "churn_when_fired",
                    "churn_when_not", "lift", "lift_low", "lift_high", "precision", "recall", "flag"]
_LABELS = ("duration_days", "event", "label_observed", "churned")


def rule_evidence(ruleset: RuleSet, training: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """One row per rule, then per alert (file order), with the columns of :data:`EVIDENCE_COLUMNS`.

    ``training``: the stacked snapshots of :func:`churnlab.build_training_set` (``snapshot``,
    ``customer_id``, the features, ``churned``). See the module docstring for the figures.
    """
    for col in ("snapshot", "customer_id", "churned"):
        if col not in training.columns:
            raise ValueError(f"rule_evidence: the training set has no {col!r} column "
                             "(pass the output of churnlab.build_training_set)")
    names = [r.name for r in ruleset.rules] + [a.name for a in ruleset.alerts]
    fired_parts, label_parts = [], []
    previous = None
    for snap in sorted(training["snapshot"].unique()):
        frame = training[training["snapshot"] == snap].drop(columns=["snapshot", *[c for c in _LABELS if c in training]])
        result = evaluate_rules(ruleset, frame.reset_index(drop=True), previous)
        previous = frame.reset_index(drop=True)
        labels = training.loc[training["snapshot"] == snap, "churned"].reset_index(drop=True)
        keep = labels.notna().to_numpy()
        fired_parts.append(result.loc[keep, names].reset_index(drop=True))
        label_parts.append(labels[keep].astype(bool).reset_index(drop=True))
    if not fired_parts:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    fired = pd.concat(fired_parts, ignore_index=True)
    churned = pd.concat(label_parts, ignore_index=True).to_numpy()
    kinds = {r.name: (r.kind, r.severity) for r in ruleset.rules} | {a.name: ("alert", "recapitulative")
                                                                      for a in ruleset.alerts}
    z = float(norm.ppf(0.5 + level / 2))
    rows = [_judge(name, *kinds[name], fired[name], churned, z) for name in names]
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)


def _judge(name: str, kind: str, severity: str, fired: pd.Series, churned: np.ndarray, z: float) -> dict:
    """The figures of one rule from its fired column (NA where not evaluated) and the labels."""
    evaluated = fired.notna().to_numpy()
    on = fired.fillna(False).astype(bool).to_numpy() & evaluated
    off = evaluated & ~on
    n1, n0 = int(on.sum()), int(off.sum())
    a, c = int(churned[on].sum()), int(churned[off].sum())
    row = {"rule": name, "kind": kind, "severity": severity, "rows": int(evaluated.sum()), "fired": n1,
           "fire_share": n1 / evaluated.sum() if evaluated.any() else np.nan,
           "churn_when_fired": a / n1 if n1 else np.nan, "churn_when_not": c / n0 if n0 else np.nan,
           "lift": np.nan, "lift_low": np.nan, "lift_high": np.nan,
           "precision": a / n1 if n1 else np.nan,
           "recall": a / int(churned[evaluated].sum()) if churned[evaluated].any() else np.nan}
    if not evaluated.any():
        return row | {"flag": "not evaluated"}
    if n1 == 0:
        return row | {"flag": "never fired"}
    if a and c:
        lift = (a / n1) / (c / n0)
        se = np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
        row.update(lift=lift, lift_low=lift * np.exp(-z * se), lift_high=lift * np.exp(z * se))
    elif a and not c:
        row.update(lift=np.inf, lift_low=np.nan, lift_high=np.inf)
    else:
        row.update(lift=0.0, lift_low=0.0, lift_high=np.nan)
    if row["lift"] <= 1:
        flag = "lift not above 1"
    elif not row["lift_low"] > 1:
        flag = "lift not clearly above 1"
    else:
        flag = ""
    return row | {"flag": flag}


def render_evidence(evidence: pd.DataFrame, source: str) -> str:
    """A Markdown section with the evidence table (for ``docs/rules.md``); ``source`` says which
    data and training set it was measured on."""
    lines = ["## Evidence: how the rules did on the training snapshots", "",
             f"Measured by `churnlab.rule_evidence` on {source}. Each rule is evaluated at every",
             "training snapshot (a `prev.` rule against the snapshot a month earlier) and judged over",
             "the customer-snapshots whose churn within the horizon is known. Lift = churn share when",
             "fired / churn share when not, with a 95% interval; a rule whose lift is not (clearly)",
             "above 1 is flagged: it does not warn of churn here and should be reworded or dropped.",
             "", "| rule | kind | fired | fire share | churn when fired | when not | lift (95%) | precision | recall | flag |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in evidence.iterrows():
        lift = "" if pd.isna(r["lift"]) else f"{r['lift']:.2f} ({_num(r['lift_low'])}-{_num(r['lift_high'])})"
        lines.append(f"| `{r['rule']}` | {r['kind']} | {r['fired']:,} | {_pct(r['fire_share'])} | "
                     f"{_pct(r['churn_when_fired'])} | {_pct(r['churn_when_not'])} | {lift} | "
                     f"{_pct(r['precision'])} | {_pct(r['recall'])} | {r['flag']} |")
    return "\n".join(lines) + "\n"


def _pct(x) -> str:
    return "" if pd.isna(x) else f"{100 * x:.1f}%"


def _num(x) -> str:
    return "?" if pd.isna(x) else f"{x:.2f}"


def _main(argv: list[str]) -> str:  # pragma: no cover - regenerates docs/rules.md
    """``docs/rules.md``: the starter rules and their evidence on the demo folder ``argv[0]``."""
    import churnlab
    from churnlab.decide.rules import load_rules, render_markdown

    data, as_of = argv[0], (argv[1] if len(argv) > 1 else "2026-06-30")
    settings = churnlab.Settings()
    training = churnlab.build_training_set(churnlab.load_data(data, as_of=as_of), as_of, settings.horizon_days,
                                           settings.models.snapshots)
    source = (f"the demo of `{data}` (5,000 customers, `churnlab demo-data`, seed 7) as of {as_of}: "
              f"{settings.models.snapshots} monthly snapshots, horizon {settings.horizon_days} days; "
              f"regenerate with `python -m churnlab.decide.rule_evidence {data} > docs/rules.md`")
    return render_markdown() + "\n" + render_evidence(rule_evidence(load_rules(), training), source)


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(_main(sys.argv[1:]), end="")
