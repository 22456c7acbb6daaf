"""What the features look like, and which of them tell churners apart on their own.

For the features notebook: :func:`profile_features` describes each feature at the as-of date
(group, share missing, quartiles), :func:`churn_signal` ranks features by how well each alone
separates customers who churned within the horizon from those who did not, over the labelled
snapshots of a training set (a univariate ROC AUC, folded so 0.5 means no signal and 1 a
perfect one, with the direction in words).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churnlab.features.catalogue import ALL_FEATURES, split_columns
from churnlab.plotting import axes

__all__ = ["profile_features", "churn_signal", "plot_churn_signal"]

_GROUP = {f.name: f.group for f in ALL_FEATURES}


def profile_features(features: pd.DataFrame) -> pd.DataFrame:
    """One row per numeric feature: ``feature``, ``group`` (catalogue group, ``attribute`` for the
    customers' own columns), ``missing_share``, ``mean``, ``p25``, ``median``, ``p75``, ``max``."""
    numeric, _ = split_columns(features)
    rows = []
    for name in numeric:
        x = features[name].astype("float64")
        q = x.quantile([0.25, 0.5, 0.75]) if x.notna().any() else pd.Series([np.nan] * 3, index=[0.25, 0.5, 0.75])
        rows.append({"feature": name, "group": _GROUP.get(name, "attribute"), "missing_share": float(x.isna().mean()),
                     "mean": x.mean(), "p25": q[0.25], "median": q[0.5], "p75": q[0.75], "max": x.max()})
    return pd.DataFrame(rows)


def churn_signal(training_set: pd.DataFrame, max_rows: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """Univariate signal of each numeric feature for churn within the horizon.

    Uses the rows whose label is known; beyond ``max_rows`` of them, a uniform sample of that
    many (drawn with ``seed``): a descriptive AUC moves in the third decimal at most, and a
    million customers' 7.5 M rows would take minutes and a copy of the set. Missing values are
    set to the feature's median.
    Returns one row per feature, strongest first: ``feature``, ``group``, ``auc`` (0.5..1),
    ``direction`` ("higher means more churn" or "lower means more churn"), ``mean_churned``,
    ``mean_stayed``.
    """
    labelled = np.flatnonzero(training_set["churned"].notna().to_numpy())
    if len(labelled) > max_rows:
        labelled = np.sort(np.random.default_rng(seed).choice(labelled, size=max_rows, replace=False))
    y = training_set["churned"].to_numpy()[labelled].astype("int64")
    if len(np.unique(y)) < 2:
        raise ValueError("churn_signal needs churners and non-churners among the labelled rows")
    numeric, _ = split_columns(training_set)
    out = []
    for name in numeric:  # a column at a time: the set itself is never copied
        x = training_set[name].iloc[labelled].astype("float64").reset_index(drop=True)
        filled = x.fillna(x.median() if x.notna().any() else 0.0).to_numpy()
        auc = roc_auc_score(y, filled) if np.ptp(filled) > 0 else 0.5
        out.append({"feature": name, "group": _GROUP.get(name, "attribute"), "auc": max(auc, 1 - auc),
                    "direction": "higher means more churn" if auc >= 0.5 else "lower means more churn",
                    "mean_churned": x[y == 1].mean(), "mean_stayed": x[y == 0].mean()})
    return pd.DataFrame(out).sort_values(["auc", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)


def plot_churn_signal(signal: pd.DataFrame, top: int = 15, ax=None):
    """Horizontal bars of the ``top`` strongest univariate signals; returns the Axes."""
    ax = axes(ax, (7, 0.3 * top + 1.2))
    head = signal.head(top).iloc[::-1]
    colours = ["#b2182b" if d.startswith("higher") else "#2166ac" for d in head["direction"]]
    ax.barh(head["feature"], head["auc"] - 0.5, left=0.5, color=colours)
    ax.set_xlim(0.5, max(0.75, float(head["auc"].max()) + 0.02))
    ax.set_title(f"The {top} features that best separate churners on their own")
    ax.set_xlabel("univariate ROC AUC (0.5 = no signal; red: higher means more churn, blue: lower)")
    ax.set_ylabel("feature")
    return ax
