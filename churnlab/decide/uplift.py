"""Save rates and uplift by action and segment: which action saves which customers.

:func:`action_rates` reads the ``interventions`` history twice.

*Save rate* (what :func:`churnlab.decide.saveability.save_rates` measures, now per action):
an action counts as a save when it was ``accepted`` and the customer was still a customer
``saved_after_days`` later. This credits the action with customers who would have stayed
anyway, so it is an upper bound of what the action did.

*Uplift* needs a control group: customers a campaign drew at random and did not contact
(outcome ``held_out``). Within the campaigns that hold customers out, the uplift of an action in
a segment is the share of its contacted customers still there ``saved_after_days`` later minus
the same share among the held-out customers of that segment. Rows of campaigns without a
hold-out say nothing about uplift (who got them was chosen, not drawn) and are left out of it.

Thin cells are shrunk, in two steps as in :mod:`churnlab.decide.saveability`: an action's
pooled rate towards the rate pooled over every action (Beta prior of strength
``prior_strength``), then each action x segment cell towards its action's rate, with the pull k
estimated from how much that action's segments really differ (empirical Bayes,
:func:`churnlab.decide.saveability.estimate_segment_strength`). The hold-out's stay rates are
shrunk the same way, as one more "action". Each shrunk rate is the mean of a Beta posterior,
its variance that posterior's plus the share it leans on its action's rate times that rate's
own variance; the uplift is the difference of the contacted and held-out means, and its
interval ``mean +- z sd`` with the two variances added (``settings.zones.uplift_interval``,
95% by default).
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import norm

from churnlab.decide.saveability import ALL_SEGMENTS, estimate_segment_strength, segment_of
from churnlab.settings import Settings

__all__ = ["action_rates", "judged_actions", "HELD_OUT", "ALL_ACTIONS"]

#: The arm name of held-out customers in :func:`action_rates`.
HELD_OUT = "(held out)"
#: The action name of the rows pooled over every action.
ALL_ACTIONS = "(all actions)"

COLUMNS = ["segment_by", "action", "segment", "attempts", "saved", "save_rate", "p_save",
           "contacted", "contacted_stayed", "held_out", "held_out_stayed", "stay_contacted",
           "stay_held_out", "uplift", "uplift_low", "uplift_high", "cost"]


def judged_actions(interventions: pd.DataFrame | None, customers: pd.DataFrame, as_of: str | date,
                   by: str | None = None, *, settings: Settings | None = None) -> pd.DataFrame:
    """One row per past action old enough to judge (``ts`` + ``saved_after_days`` <= ``as_of``).

    Columns: customer_id, ts, campaign, action (``HELD_OUT`` for a held-out row), segment_by,
    segment, accepted, stayed (no ``churn_date`` on or before ts + ``saved_after_days``),
    controlled (its campaign holds customers out), cost (missing without a cost column).
    """
    settings = settings or Settings()
    days = settings.zones.saved_after_days
    as_of = pd.Timestamp(as_of)
    segment_by, segments = segment_of(customers, by)
    seg_of = pd.Series(segments.to_numpy(), index=customers["customer_id"].to_numpy())
    churn = (pd.to_datetime(customers["churn_date"]) if "churn_date" in customers.columns
             else pd.Series(pd.NaT, index=customers.index))
    churn_of = pd.Series(churn.to_numpy(), index=customers["customer_id"].to_numpy())
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in
                          ("customer_id", "ts", "campaign", "action", "segment_by", "segment")})
    if interventions is None or len(interventions) == 0:
        return empty.assign(accepted=pd.Series(dtype=bool), stayed=pd.Series(dtype=bool),
                            controlled=pd.Series(dtype=bool), cost=pd.Series(dtype="float64"))
    need = [c for c in ("customer_id", "ts", "action", "outcome") if c not in interventions.columns]
    if need:
        raise ValueError(f"interventions: missing column(s) {', '.join(need)} needed for save rates by action")
    iv = interventions.copy()
    if "campaign" not in iv.columns:
        iv["campaign"] = "(no campaign)"
    iv["campaign"] = iv["campaign"].fillna("(no campaign)").astype(str)
    iv["ts"] = pd.to_datetime(iv["ts"])
    if getattr(iv["ts"].dt, "tz", None) is not None:
        iv["ts"] = iv["ts"].dt.tz_convert("UTC").dt.tz_localize(None)
    until = iv["ts"] + pd.Timedelta(days=days)
    iv = iv[until <= as_of].assign(until=until[until <= as_of])
    left = iv["customer_id"].map(churn_of)
    held = iv["outcome"] == "held_out"
    controlled_campaigns = set(iv.loc[held, "campaign"])
    return pd.DataFrame({
        "customer_id": iv["customer_id"].to_numpy(),
        "ts": iv["ts"].to_numpy(),
        "campaign": iv["campaign"].to_numpy(),
        "action": np.where(held, HELD_OUT, iv["action"].astype(str)),
        "segment_by": segment_by,
        "segment": iv["customer_id"].map(seg_of).fillna("unknown").to_numpy(),
        "accepted": (iv["outcome"] == "accepted").to_numpy(),
        "stayed": (left.isna() | (left > iv["until"])).to_numpy(),
        "controlled": iv["campaign"].isin(controlled_campaigns).to_numpy(),
        "cost": (pd.to_numeric(iv["cost"], errors="coerce").to_numpy(dtype="float64") if "cost" in iv
                 else np.full(len(iv), np.nan)),
    })


def action_rates(interventions: pd.DataFrame | None, customers: pd.DataFrame, as_of: str | date,
                 by: str | None = None, *, settings: Settings | None = None) -> pd.DataFrame:
    """Save rate and uplift of every action in every segment, shrunk, with intervals.

    Parameters
    ----------
    interventions : the ``interventions`` table (customer_id, ts, action, outcome; campaign
        optional), or None.
    customers : one row per customer, churned ones included: customer_id, churn_date and the
        segment column (see :func:`churnlab.decide.saveability.segment_of`).
    as_of : actions are judged once ``saved_after_days`` have passed by this date.
    by : force the segment column.
    settings : ``settings.zones`` (saved_after_days, prior_save_rate, prior_strength,
        segment_strength, uplift_interval).

    Returns
    -------
    DataFrame, one row per action x segment (sorted), then one row per action over all segments
    (segment :data:`ALL_SEGMENTS`): ``attempts`` and ``saved`` (accepted and stayed), the
    observed ``save_rate`` and the shrunk ``p_save``; ``contacted``/``contacted_stayed`` (rows of
    campaigns with a hold-out) and ``held_out``/``held_out_stayed`` (that segment's held-out
    rows), the shrunk ``stay_contacted`` and ``stay_held_out``, and ``uplift`` with
    ``uplift_low`` .. ``uplift_high`` (missing where there is no control group), and ``cost``:
    the action's mean cost in the history (missing without costs).

    Example
    -------
    >>> action_rates(data["interventions"], data["customers"], "2026-06-30")  # doctest: +SKIP
    """
    settings = settings or Settings()
    zs = settings.zones
    judged = judged_actions(interventions, customers, as_of, by, settings=settings)
    segment_by = segment_of(customers, by)[0]
    z = float(norm.ppf(0.5 + zs.uplift_interval / 2))
    actions = sorted(set(judged["action"]) - {HELD_OUT})
    segments = sorted(set(segment_of(customers, by)[1].unique()) | set(judged["segment"]))
    if segment_by == "all":     # one segment: the pooled rows say it all
        segments = []
    contacted = judged[~judged["action"].eq(HELD_OUT)]
    save = _shrunk(contacted, "saved", actions, segments, zs)
    ctrl = judged[judged["controlled"]]
    stay = _shrunk(ctrl, "stayed", actions + [HELD_OUT], segments, zs)

    cost_of = contacted.groupby("action")["cost"].mean()
    rows = []
    for action in actions:
        for segment in segments + [ALL_SEGMENTS]:
            s, c = save[(action, segment)], stay[(action, segment)]
            h = stay[(HELD_OUT, segment)]
            row = {"segment_by": segment_by, "action": action, "segment": segment,
                   "attempts": s["n"], "saved": s["y"],
                   "save_rate": s["y"] / s["n"] if s["n"] else np.nan, "p_save": s["mean"],
                   "contacted": c["n"], "contacted_stayed": c["y"],
                   "held_out": h["n"], "held_out_stayed": h["y"],
                   "stay_contacted": c["mean"] if c["n"] else np.nan,
                   "stay_held_out": h["mean"] if h["n"] else np.nan, "cost": cost_of.get(action, np.nan)}
            if c["n"] and h["n"]:
                uplift = c["mean"] - h["mean"]
                half = z * np.sqrt(c["var"] + h["var"])
                row.update(uplift=uplift, uplift_low=uplift - half, uplift_high=uplift + half)
            else:
                row.update(uplift=np.nan, uplift_low=np.nan, uplift_high=np.nan)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _shrunk(frame: pd.DataFrame, outcome: str, actions: list[str], segments: list[str], zs) -> dict:
    """Beta posterior (n, y, mean, var) of the rate of ``outcome`` per (action, segment), and per
    (action, ALL_SEGMENTS): cell -> its action's rate -> the rate over all ``actions``."""
    success = (frame["accepted"] & frame["stayed"]) if outcome == "saved" else frame["stayed"]
    frame = frame.assign(success=success.to_numpy())
    n0, y0 = len(frame), int(frame["success"].sum())
    m = zs.prior_strength
    # a save rate starts from the prior save rate; a stay rate from an even chance
    prior = zs.prior_save_rate if outcome == "saved" else 0.5
    p_all = (y0 + m * prior) / (n0 + m)
    out = {}
    for action in actions:
        part = frame[frame["action"] == action]
        n_a, y_a = len(part), int(part["success"].sum())
        pooled = _beta(n_a, y_a, m, p_all)
        p_a = pooled["mean"]
        counts = part.groupby("segment")["success"].agg(["size", "sum"]).reindex(segments, fill_value=0)
        n_s = counts["size"].to_numpy(dtype="int64")
        y_s = counts["sum"].to_numpy(dtype="int64")
        k = (estimate_segment_strength(n_s, y_s, p_a) if zs.segment_strength == "estimated"
             else float(zs.segment_strength))
        for segment, n, y in zip(segments, n_s, y_s):
            out[(action, segment)] = _beta(int(n), int(y), k, p_a, pooled["var"])
        out[(action, ALL_SEGMENTS)] = pooled
    return out


def _beta(n: int, y: int, k: float, p: float, var_p: float = 0.0) -> dict:
    """The Beta(y + k p, n - y + k (1 - p)) posterior's mean and variance, with n and y.

    ``var_p`` is the uncertainty of the prior mean ``p`` itself (it is estimated too): the
    posterior mean leans on it with weight k / (n + k), so that share of its variance is added.
    Without it a cell pulled all the way to its action's rate would get the interval of a rate
    known exactly.
    """
    a, b = y + k * p, n - y + k * (1.0 - p)
    w = k / (n + k)
    return {"n": n, "y": y, "mean": a / (a + b),
            "var": a * b / ((a + b) ** 2 * (a + b + 1.0)) + w * w * var_p}
