"""Drift against the previous run: has the customer base, or the model's view of it, moved?

:func:`feature_drift` compares key features now with the previous run's date (both computed
point in time from the same data, so the comparison needs nothing kept from the earlier run);
:func:`score_shift` compares this run's churn probabilities with the previous run's
``scores.csv``. Both use the population stability index,

    PSI = sum over bins of (now% - before%) x ln(now% / before%),

with bins at the deciles of the earlier distribution (shares floored at 0.1% so an empty bin
does not divide by zero). Usual reading: below 0.1 stable, 0.1-0.25 moderate, above 0.25 a
major shift worth a look before trusting the scores.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.plotting import axes

__all__ = ["psi", "feature_drift", "score_shift", "plot_score_shift", "KEY_FEATURES"]

#: Features whose drift the data-health notebook shows when present.
KEY_FEATURES = ("tenure_days", "arr", "events_30d", "active_users_30d", "usage_trend_30d", "open_tickets",
                "last_nps", "overdue_invoices", "days_since_success_touch", "touch_sentiment_90d")


def _level(value: float) -> str:
    if not np.isfinite(value):
        return "no data"
    return "stable" if value < 0.1 else ("moderate" if value < 0.25 else "major")


def psi(before, now, bins: int = 10, floor: float = 0.001) -> float:
    """Population stability index of ``now`` against ``before`` (missing values left out).

    Bins are the quantiles of ``before`` (ties merged); NaN when either side has no values.
    """
    a = pd.to_numeric(pd.Series(before), errors="coerce").dropna().to_numpy(dtype="float64")
    b = pd.to_numeric(pd.Series(now), errors="coerce").dropna().to_numpy(dtype="float64")
    if not len(a) or not len(b):
        return float("nan")
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)[1:-1]))
    share_a = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1) / len(a)
    share_b = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1) / len(b)
    share_a, share_b = np.maximum(share_a, floor), np.maximum(share_b, floor)
    return float(np.sum((share_b - share_a) * np.log(share_b / share_a)))


def feature_drift(before: pd.DataFrame, now: pd.DataFrame, features=KEY_FEATURES) -> pd.DataFrame:
    """PSI of each key feature present in both frames, largest first.

    Columns: ``feature``, ``psi``, ``level`` (stable / moderate / major), ``mean_before``,
    ``mean_now``, ``missing_before``, ``missing_now`` (shares).
    """
    rows = []
    for name in features:
        if name not in before.columns or name not in now.columns:
            continue
        value = psi(before[name], now[name])
        rows.append({"feature": name, "psi": value, "level": _level(value),
                     "mean_before": float(before[name].mean()), "mean_now": float(now[name].mean()),
                     "missing_before": float(before[name].isna().mean()), "missing_now": float(now[name].isna().mean())})
    out = pd.DataFrame(rows, columns=["feature", "psi", "level", "mean_before", "mean_now", "missing_before",
                                      "missing_now"])
    return out.sort_values(["psi", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)


def score_shift(previous: pd.DataFrame | None, current: pd.DataFrame, column: str = "churn_probability") -> pd.DataFrame:
    """The score distribution now against the previous run: quantiles side by side and the PSI.

    ``previous``: the previous run's ``scores.csv`` (None for a first run: an empty frame).
    Returns rows ``p10``, ``p50``, ``p90``, ``mean``, ``customers`` and ``psi`` with columns
    ``previous``, ``now``.
    """
    if previous is None or column not in previous.columns:
        return pd.DataFrame(columns=["statistic", "previous", "now"])
    a, b = previous[column].astype("float64"), current[column].astype("float64")
    rows = [(f"p{int(q * 100)}", a.quantile(q), b.quantile(q)) for q in (0.1, 0.5, 0.9)]
    rows += [("mean", a.mean(), b.mean()), ("customers", float(len(a)), float(len(b))),
             ("psi", float("nan"), psi(a, b))]
    return pd.DataFrame(rows, columns=["statistic", "previous", "now"])


def plot_score_shift(previous: pd.DataFrame, current: pd.DataFrame, column: str = "churn_probability", ax=None):
    """Overlaid histograms of the churn probability in the previous run and now."""
    ax = axes(ax, (7, 4))
    top = float(max(previous[column].quantile(0.99), current[column].quantile(0.99)))
    bins = np.linspace(0, max(top, 1e-3), 40)
    ax.hist(previous[column], bins=bins, alpha=0.5, density=True, label="previous run")
    ax.hist(current[column], bins=bins, alpha=0.5, density=True, label="this run")
    ax.set_title("Churn probability: this run against the previous one")
    ax.set_xlabel("churn probability within the horizon")
    ax.set_ylabel("density")
    ax.legend()
    return ax
