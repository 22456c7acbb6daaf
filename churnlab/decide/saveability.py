"""Saveability and the zones: whom to save (Red Zone) and whom to let go gracefully (Dead Zone).

Saveability: how likely a retention action is to save a customer.

:func:`save_rates` estimates P(save | action) per segment from the
``interventions`` history. A past action counts as a *save* when its outcome is ``accepted`` and
the customer was still a customer ``saved_after_days`` days later (no ``churn_date`` on or before
then); declined and unanswered actions are attempts that failed. Actions less than
``saved_after_days`` days before the as-of date are not judged yet and left out. This measures
"accepted and stayed", an upper bound of what the action itself caused (some would have stayed
anyway); it is what the history can tell without a control group.

Thin data is shrunk towards a Beta prior, in two steps (``settings.zones``):

* pooled over all segments: p0 = (saved + m x a) / (attempts + m), the mean of the posterior
  Beta(m x a + saved, m x (1 - a) + attempts - saved) with prior mean a = ``prior_save_rate``
  and strength m = ``prior_strength`` (in past actions). No history at all gives p0 = a.
* per segment: p = (saved_s + k x p0) / (attempts_s + k): a segment with few past actions stays
  near the pooled rate; one with many speaks for itself.

How much segments are pulled together, k, is ``segment_strength``: a number of past actions, or
``estimated`` (the default), where the history itself says how much segments really differ
(empirical Bayes). Each segment's saves are taken as beta-binomial: its own rate drawn from a
Beta with mean p0 and strength k, then saved_s ~ Binomial(attempts_s, rate). k is the value
maximising the likelihood of all segments' (attempts, saved) together
(:func:`estimate_segment_strength`, searched between 1 and ``MAX_SEGMENT_STRENGTH`` past
actions). When segments' rates scatter no more than chance scatters rates of their size, the
likelihood keeps rising with k and every segment gets (nearly) the pooled rate; when they differ
by more, k is small and each segment keeps its own rate. Why not a fixed k: a fixed 20 let 0
saves in 8 actions cut the largest accounts' band to 0.16 against a pooled 0.22 in the 5,000
demo, where saveability does not depend on size at all; a one-off bad streak of a thin segment
then moves exactly the accounts with most at stake down the call list. With fewer than two
segments that have attempts nothing can be learnt about differences: every segment gets p0.

Segments are the ``segment`` column when the customers frame has one (the rules' segments),
else ``plan``, else bands of ``company_size`` (1-10, 11-50, 51-200, 201-1000, 1001+), else one
segment for everybody.

:func:`p_save_of` gives each customer the rate of its segment; the zones
(:mod:`churnlab.decide.zones`) weigh it against the churn risk and the value.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from churnlab.settings import Settings

__all__ = ["save_rates", "estimate_segment_strength", "segment_of", "p_save_of", "ALL_SEGMENTS",
           "MAX_SEGMENT_STRENGTH"]

#: Upper end of the search for an estimated ``segment_strength``: segments indistinguishable.
MAX_SEGMENT_STRENGTH = 1e6
#: The pooled row of :func:`save_rates`, used for segments without a row of their own.
ALL_SEGMENTS = "(all segments)"
_SIZE_EDGES = [0, 10, 50, 200, 1000, np.inf]
_SIZE_LABELS = ["1-10", "11-50", "51-200", "201-1000", "1001+"]


def segment_of(frame: pd.DataFrame, by: str | None = None) -> tuple[str, pd.Series]:
    """``(segment_by, segment)``: the column segments are read from and each row's segment.

    ``by`` forces a column (``segment``, ``plan``, ``company_size``); otherwise the first of
    those three present with a value. ``company_size`` is cut into bands. Missing values become ``"unknown"``.
    """
    order = ("segment", "plan", "company_size")
    if by is None:
        # an empty column (a flat export maps no company size) segments nothing
        by = next((c for c in order if c in frame.columns and frame[c].notna().any()), "all")
    if by == "all":
        return by, pd.Series(ALL_SEGMENTS, index=frame.index, dtype="object")
    if by not in frame.columns:
        raise ValueError(f"save rates are by {by!r} but the frame has no {by!r} column "
                         f"(columns: {', '.join(map(str, frame.columns[:12]))})")
    values = frame[by]
    if by == "company_size":
        values = pd.cut(pd.to_numeric(values, errors="coerce"), _SIZE_EDGES, labels=_SIZE_LABELS)
    values = values.astype("object")
    return by, values.where(values.notna(), "unknown").astype(str)


def save_rates(interventions: pd.DataFrame | None, customers: pd.DataFrame, as_of: str | date,
               by: str | None = None, *, settings: Settings | None = None) -> pd.DataFrame:
    """P(save | action) per segment from past retention actions, shrunk towards a Beta prior.

    Parameters
    ----------
    interventions : the ``interventions`` table (``customer_id``, ``ts``, ``outcome``), or None
        when there is no history (every segment then gets the prior mean).
    customers : one row per customer, churned ones included: ``customer_id``, ``churn_date``
        (when absent nobody has churned) and the segment column (see :func:`segment_of`).
    settings : run settings (``settings.zones``).
    as_of : actions are judged only once ``saved_after_days`` have passed by this date.
    by : force the segment column.

    Returns
    -------
    DataFrame, one row per segment sorted by name and a last row :data:`ALL_SEGMENTS` (the
    pooled rate): ``segment_by``, ``segment``, ``attempts``, ``saved``, ``observed_rate``
    (saved / attempts, missing without attempts), ``segment_strength`` (k, the same on every row:
    given, or estimated from the history), ``p_save`` (the shrunk estimate).
    """
    settings = settings or Settings()
    zs = settings.zones
    as_of = pd.Timestamp(as_of)
    if "customer_id" not in customers.columns:
        raise ValueError("save_rates: customers need a customer_id column")
    segment_by, segments = segment_of(customers, by)
    by_customer = pd.Series(segments.to_numpy(), index=customers["customer_id"].to_numpy())
    churn = (pd.to_datetime(customers["churn_date"]) if "churn_date" in customers.columns
             else pd.Series(pd.NaT, index=customers.index))
    churn_of = pd.Series(churn.to_numpy(), index=customers["customer_id"].to_numpy())

    if interventions is None or len(interventions) == 0:
        judged = pd.DataFrame({"segment": pd.Series(dtype="object"), "saved": pd.Series(dtype="bool")})
    else:
        need = [c for c in ("customer_id", "ts", "outcome") if c not in interventions.columns]
        if need:
            raise ValueError(f"interventions: missing column(s) {', '.join(need)} needed for save rates")
        # held-out customers of a control group were not contacted: no attempt
        iv = interventions.loc[interventions["outcome"] != "held_out", ["customer_id", "ts", "outcome"]].copy()
        iv["ts"] = pd.to_datetime(iv["ts"])
        if getattr(iv["ts"].dt, "tz", None) is not None:   # the contract allows aware timestamps: compare in UTC
            iv["ts"] = iv["ts"].dt.tz_convert("UTC").dt.tz_localize(None)
        until = iv["ts"] + pd.Timedelta(days=zs.saved_after_days)
        iv = iv[until <= as_of].assign(until=until[until <= as_of])
        left = iv["customer_id"].map(churn_of)
        stayed = left.isna() | (left > iv["until"])
        judged = pd.DataFrame({
            "segment": iv["customer_id"].map(by_customer).fillna("unknown").to_numpy(),
            "saved": ((iv["outcome"] == "accepted") & stayed).to_numpy(),
        })

    pooled_saved, pooled_n = int(judged["saved"].sum()), int(len(judged))
    p0 = (pooled_saved + zs.prior_strength * zs.prior_save_rate) / (pooled_n + zs.prior_strength)
    counts = judged.groupby("segment")["saved"].agg(["size", "sum"])
    names = sorted(set(segments.unique()) | set(counts.index))
    counts = counts.reindex(names, fill_value=0)
    attempts = counts["size"].astype("int64").to_numpy()
    saved = counts["sum"].astype("int64").to_numpy()
    rows = pd.DataFrame({
        "segment_by": segment_by,
        "segment": names + [ALL_SEGMENTS],
        "attempts": np.append(attempts, pooled_n),
        "saved": np.append(saved, pooled_saved),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["observed_rate"] = np.where(rows["attempts"] > 0, rows["saved"] / rows["attempts"].where(rows["attempts"] > 0), np.nan)
    k = (estimate_segment_strength(attempts, saved, p0) if zs.segment_strength == "estimated"
         else float(zs.segment_strength))
    rows["segment_strength"] = k
    rows["p_save"] = (rows["saved"] + k * p0) / (rows["attempts"] + k)
    rows.loc[rows["segment"] == ALL_SEGMENTS, "p_save"] = p0
    if segment_by == "all":
        rows = rows[rows["segment"] == ALL_SEGMENTS].reset_index(drop=True)
    return rows


def estimate_segment_strength(attempts, saved, p0: float) -> float:
    """Empirical-Bayes strength k of the pull of segments towards the pooled rate ``p0``.

    Maximises sum over segments with attempts of log BetaBinomial(saved_s | attempts_s,
    k x p0, k x (1 - p0)) over k in [1, :data:`MAX_SEGMENT_STRENGTH`] (on log k: a grid of 57
    points, then a bounded Brent search around the best; deterministic). Returns :data:`MAX_SEGMENT_STRENGTH` when fewer than two
    segments have attempts. See the module docstring for why.
    """
    from scipy.optimize import minimize_scalar
    from scipy.stats import betabinom

    n = np.asarray(attempts, dtype="int64")
    y = np.asarray(saved, dtype="int64")
    keep = n > 0
    n, y = n[keep], y[keep]
    if len(n) < 2 or not 0 < p0 < 1:
        return MAX_SEGMENT_STRENGTH

    def minus_loglik(log_k: float) -> float:
        k = np.exp(log_k)
        return -float(betabinom.logpmf(y, n, k * p0, k * (1.0 - p0)).sum())

    # the likelihood in k can have two humps: a coarse grid finds the best one, Brent refines it
    grid = np.linspace(0.0, np.log(MAX_SEGMENT_STRENGTH), 57)
    values = np.array([minus_loglik(g) for g in grid])
    i = int(np.argmin(values))
    if i == len(grid) - 1:   # still rising at the top: the segments are indistinguishable
        return MAX_SEGMENT_STRENGTH
    lo, hi = grid[max(i - 1, 0)], grid[i + 1]
    best = minimize_scalar(minus_loglik, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    log_k = float(best.x) if best.fun <= values[i] else float(grid[i])
    return float(np.exp(log_k))


def p_save_of(frame: pd.DataFrame, rates: pd.DataFrame) -> np.ndarray:
    """Each row's P(save) from :func:`save_rates`: its segment's rate, the pooled rate for a
    segment without a row of its own."""
    segment_by = str(rates["segment_by"].iloc[0])
    pooled = float(rates.loc[rates["segment"] == ALL_SEGMENTS, "p_save"].iloc[0])
    if segment_by == "all":
        return np.full(len(frame), pooled)
    _, seg = segment_of(frame, segment_by)
    table = rates.set_index("segment")["p_save"]
    return seg.map(table).fillna(pooled).to_numpy(dtype="float64")
