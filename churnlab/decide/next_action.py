"""The next best action: which retention action to offer each customer on a rescue list.

:func:`next_best_action` weighs every action of the history for every customer:

    expected gain(action) = saved(action, segment, P(churn)) x value - cost(action)

``saved`` is the drop in the customer's own probability of leaving that the action brings. It is
carried over from the customers the action was measured on (the control groups of
:func:`churnlab.decide.uplift.action_rates`) as a **hazard ratio**, the share of the risk the
action leaves in place: ``HR = log(stay contacted) / log(stay held out)`` in the action's
segment, and a customer with probability ``p`` of leaving leaves with ``1 - (1 - p) ** HR``
after it, so ``saved = (1 - p) ** HR - (1 - p)``. Proportional hazards, the assumption of the
Cox model: an action that halves the risk keeps about half of the leavers among low-risk
customers and fewer among customers who would almost surely leave; the uplift in points of the
trial, where half the customers left, is not what the same action does for a customer at 5%.
``keeps`` (``1 - HR``) is the share of leavers kept as the risk goes to 0, the figure the reason
quotes. An action without a control group has no uplift and is not weighed. ``cost`` is the
action's mean ``cost`` in the history, or ``zones.action_cost``.

The best action is the one with the highest expected gain, the runner-up the second; ``why``
says it in words with the figures and the uplift's interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.decide.saveability import ALL_SEGMENTS, segment_of
from churnlab.settings import Settings

__all__ = ["next_best_action", "action_table", "saved", "with_next_actions", "NEXT_ACTION_COLUMNS", "LIST_COLUMNS"]

NEXT_ACTION_COLUMNS = ["customer_id", "next_action", "next_action_gain", "next_action_why", "runner_up",
                       "runner_up_gain"]


def action_table(rates: pd.DataFrame) -> pd.DataFrame:
    """Per action and segment (``ALL_SEGMENTS`` included) what it does to the risk:
    ``action``, ``segment``, ``hazard_ratio`` (the share of the risk it leaves in place, 0..1),
    ``keeps`` (1 - hazard_ratio: the share of leavers kept as the risk goes to 0), ``uplift``,
    ``uplift_low``, ``uplift_high``, ``cost``; only the rows of :func:`action_rates` with an
    uplift. An action that does not raise the stay rate has a hazard ratio of 1."""
    rows = rates[rates["uplift"].notna()].copy()
    held = rows["stay_held_out"].clip(1e-9, 1.0 - 1e-9)
    contacted = (held + rows["uplift"]).clip(1e-9, 1.0)
    rows["hazard_ratio"] = (np.log(contacted) / np.log(held)).clip(0.0, 1.0)
    rows["keeps"] = 1.0 - rows["hazard_ratio"]
    if "cost" not in rows:
        rows["cost"] = np.nan
    return rows[["action", "segment", "hazard_ratio", "keeps", "uplift", "uplift_low", "uplift_high",
                 "cost"]].reset_index(drop=True)


def saved(p, hazard_ratio):
    """The drop in the probability of leaving, ``(1 - p) ** hazard_ratio - (1 - p)``, of a customer
    with probability ``p`` of leaving under an action with ``hazard_ratio`` (proportional
    hazards); arrays broadcast."""
    stay = 1.0 - np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0)
    return np.power(stay, np.asarray(hazard_ratio, dtype="float64")) - stay


def next_best_action(frame: pd.DataFrame, rates: pd.DataFrame, *, settings: Settings | None = None) -> pd.DataFrame:
    """The best and second-best action per customer of ``frame``.

    Parameters
    ----------
    frame : ``customer_id``, ``churn_probability``, ``value`` and the segment column of
        ``rates`` (``segment_by``).
    rates : from :func:`churnlab.decide.uplift.action_rates`.
    settings : ``zones.action_cost`` for actions without a cost in the history.

    Returns
    -------
    DataFrame in the order of ``frame`` with :data:`NEXT_ACTION_COLUMNS`; ``next_action`` is empty
    where no action has an uplift (no campaign held customers out) or the value is unknown.
    """
    settings = settings or Settings()
    table = action_table(rates)
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy()})
    if table.empty:
        return out.assign(next_action="", next_action_gain=np.nan, next_action_why="", runner_up="",
                          runner_up_gain=np.nan)[NEXT_ACTION_COLUMNS]
    segment_by = str(rates["segment_by"].iloc[0])
    seg = (pd.Series(ALL_SEGMENTS, index=frame.index) if segment_by == "all"
           else segment_of(frame, segment_by)[1])
    p = pd.to_numeric(frame["churn_probability"], errors="coerce").to_numpy(dtype="float64")
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype="float64")
    actions = sorted(table["action"].unique())
    by_cell = table.set_index(["action", "segment"])
    gains, facts = [], []
    for action in actions:
        pooled = by_cell.loc[(action, ALL_SEGMENTS)] if (action, ALL_SEGMENTS) in by_cell.index else None
        cells = [by_cell.loc[(action, s)] if (action, s) in by_cell.index else pooled for s in seg]
        ratio = np.array([c["hazard_ratio"] if c is not None else np.nan for c in cells])
        cost = np.array([c["cost"] if c is not None and pd.notna(c["cost"]) else settings.zones.action_cost
                         for c in cells])
        drop = saved(p, ratio)
        gains.append(drop * value - cost)
        facts.append((1.0 - ratio, drop, cost, cells))
    gain = np.vstack(gains)                                   # actions x customers
    filled = np.where(np.isnan(gain), -np.inf, gain)
    order = np.argsort(-filled, axis=0, kind="stable")
    best, second = order[0], order[1] if len(actions) > 1 else np.full(len(frame), -1)
    rows = np.arange(len(frame))
    has = np.isfinite(filled[best, rows])
    out["next_action"] = np.where(has, np.array(actions, dtype=object)[best], "")
    out["next_action_gain"] = np.where(has, gain[best, rows], np.nan)
    why = []
    for i in rows:
        if not has[i]:
            why.append("")
            continue
        keeps, drop, cost, cells = facts[best[i]]
        c = cells[i]
        why.append(f"{actions[best[i]]}: cuts the risk by {keeps[i]:.0%} in {seg.iloc[i]} (uplift "
                   f"{100 * c['uplift']:+.1f} points, 95% {100 * c['uplift_low']:+.1f} to {100 * c['uplift_high']:+.1f}); "
                   f"risk {p[i]:.0%} → {p[i] - drop[i]:.0%}; gain {100 * drop[i]:.1f} points × {value[i]:,.0f} − {cost[i]:,.0f} "
                   f"= {gain[best[i], i]:,.0f}")
    out["next_action_why"] = why
    has2 = (second >= 0) & has
    has2[has2] = np.isfinite(filled[second[has2], rows[has2]])
    out["runner_up"] = np.where(has2, np.array(actions, dtype=object)[np.maximum(second, 0)], "")
    out["runner_up_gain"] = np.where(has2, gain[np.maximum(second, 0), rows], np.nan)
    return out[NEXT_ACTION_COLUMNS]


#: The columns :func:`with_next_actions` adds to a target list.
LIST_COLUMNS = ["next_action", "next_action_why", "runner_up"]


def with_next_actions(rows: pd.DataFrame, next_actions: pd.DataFrame) -> pd.DataFrame:
    """A target list (``rows``, e.g. the reactive list) with :data:`LIST_COLUMNS` after its own
    columns: each customer's next best action, why, and the runner-up (empty where none)."""
    extra = next_actions.drop_duplicates("customer_id").set_index("customer_id")
    out = rows.copy()
    for col in LIST_COLUMNS:
        out[col] = out["customer_id"].map(extra[col]).fillna("").astype(str) if len(extra) else ""
    return out
