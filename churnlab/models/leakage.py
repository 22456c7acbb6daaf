"""A guard against leaked labels: features that give the answer away are named and left out.

A column that holds the outcome in disguise (a copy of the churn flag, a churn date or reason, a
score some other model computed after the fact) makes every model look perfect in the backtest
and useless in production. Before the models are fitted, :func:`check_leakage` looks at every
feature of a training set on the backtest's training part (:func:`guard_rows`) and names the
ones that

* **separate the label alone**: the ROC AUC of the feature on its own, either direction, is at
  least ``settings.models.leakage_auc`` (0.98). Numeric features are ranked as they are (missing
  values tried at either end); a categorical feature scores each customer with the churn rate of
  its level, learnt on the *other* parts of the rows (out of fold), so a column of names or ids,
  whose levels are each seen once, scores no better than chance instead of perfectly;
* **are only known after churn** (the customer's own columns, not the catalogue's, which the
  feature engine computes point in time): a name that reads like a churn date, reason or status
  (:func:`named_like_outcome`), or values filled in for customers who churned and no one else.

:func:`fit_models <churnlab.models.fit.fit_models>` leaves them out of every model unless
``settings.models.keep_features`` names them, and records the findings in ``model_metrics.json``
under ``leakage``, with the backtest folds whose ROC AUC looks too good to be true
(:func:`too_good`); :func:`leakage_warnings` words both for the run's output.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from churnlab.features.catalogue import ALL_FEATURES, split_columns
from churnlab.models.backtest import cross_section_folds, rolling_can_learn, rolling_folds
from churnlab.settings import Settings

__all__ = ["feature_auc", "named_like_outcome", "guard_rows", "check_leakage", "leakage_report", "too_good",
           "leakage_summary", "leakage_warnings", "leakage_note", "LEAKAGE_COLUMNS", "TOO_GOOD_AUC"]

#: A backtest ROC AUC at least this high on any fold is reported as too good to be true.
TOO_GOOD_AUC = 0.98
#: Columns of :func:`check_leakage`'s frame.
LEAKAGE_COLUMNS = ["feature", "source", "auc", "filled_churners", "filled_others", "reasons", "action"]

_CATALOGUE = frozenset(f.name for f in ALL_FEATURES)
#: words that name leaving; a column name holding one next to an outcome word reads like a
#: fact known only after churn ("churn_reason", "CancellationDate", "exit status")
_LEAVING = re.compile(r"^(churn\w*|attrit\w*|cancel\w*|terminat\w*|exit\w*|left|leav\w*|lost|deactivat\w*|"
                      r"closed|closure|closing|discontinu\w*|unsubscri\w*|defect\w*)$")
_OUTCOME = {"date", "day", "at", "on", "when", "time", "month", "reason", "reasons", "why", "cause", "status",
            "flag", "label", "value", "score", "type", "category", "code", "yn"}
#: words that alone are the outcome ("Churn", "Exited", "Attrition")
_ALONE = re.compile(r"^(churn|churned|churner|churning|attrition|attrited|exited|cancelled|canceled|"
                    r"terminated|defected|unsubscribed)$")
_MAX_ROWS = 200_000
#: how the feature engine fills an empty text cell of a customer column (a level of its own)
_UNKNOWN = "unknown"
_PARTS = 5


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def named_like_outcome(name: str) -> bool:
    """True when a column name reads like a fact known only after churn: a leaving word with an
    outcome word (``churn_reason``, ``ChurnDate``, ``cancellation_status``, ``Churn Score``), or a
    leaving word alone (``Churn``, ``Exited``, ``Attrition``)."""
    words = _words(name)
    if any(_ALONE.match(w) for w in words) and len(words) == 1:
        return True
    leaving = [w for w in words if _LEAVING.match(w)]
    return bool(leaving) and (any(w in _OUTCOME for w in words) or any(w.startswith(("churn", "attrit"))
                                                                           for w in leaving))


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for ``y`` (0/1) by ranks, ties averaged; 0.5 without both classes."""
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return 0.5
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _folded(auc: float) -> float:
    return max(auc, 1.0 - auc)


def feature_auc(values: pd.Series, y: np.ndarray, seed: int = 0) -> float:
    """How well one feature alone separates ``y`` (0/1): ROC AUC folded to 0.5..1.

    Numeric (and boolean) values are ranked as they are; missing values are put first, then
    last, and the better of the two counts (a column filled in only for churners separates
    them by its missingness). A categorical feature scores each row with its level's churn rate
    learnt on the other of five seeded parts of the rows (missing is a level; a level unseen
    there gets the overall rate, lightly smoothed towards it), so levels seen once (names, ids)
    carry no signal, while a copy of the label keeps a perfect one.
    """
    y = np.asarray(y, dtype="int64")
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(x)
        if not missing.any():
            return _folded(_auc(y, x))
        if missing.all():
            return 0.5
        low, high = np.nanmin(x) - 1.0, np.nanmax(x) + 1.0
        return max(_folded(_auc(y, np.where(missing, low, x))), _folded(_auc(y, np.where(missing, high, x))))
    codes, _ = pd.factorize(values.astype("object").where(values.notna(), "\0missing"), sort=True)
    levels = int(codes.max()) + 1
    part = np.random.default_rng(seed).integers(0, _PARTS, size=len(y))
    n = np.zeros((_PARTS, levels))
    churned = np.zeros((_PARTS, levels))
    np.add.at(n, (part, codes), 1.0)
    np.add.at(churned, (part, codes), y)
    prior = y.mean()
    other_n = n.sum(axis=0) - n                     # each level's rows outside each part
    other_churned = churned.sum(axis=0) - churned
    rate = (other_churned + prior) / (other_n + 1.0)
    return _folded(_auc(y, rate[part, codes]))


def guard_rows(train: pd.DataFrame, as_of, horizon_days: int, *, kind: str, folds: int = 3,
               seed: int = 0) -> np.ndarray:
    """Positions (into ``train``) of the labelled rows the backtest learns from and never tests.

    Rolling: the snapshots the first fold fits and calibrates on (all before its test snapshot,
    with their horizon over by then, so their labels are those the backtest sees). Cross-section:
    the customers of the latest labelled snapshot in the parts no fold tests. Falls back to every
    labelled row when the backtest has no fold (it will say so itself).
    """
    observed = train["churned"].notna().to_numpy()
    snapshot = train["snapshot"].to_numpy()
    try:
        if kind == "cross_section":
            _, rows = cross_section_folds(train[["snapshot", "customer_id", "churned"]], folds, seed)
            untested = rows.loc[rows["part"] >= folds, "customer_id"]
            last = rows["snapshot"].iloc[0]
            return np.flatnonzero(observed & (snapshot == last) & train["customer_id"].isin(untested).to_numpy())
        plan = rolling_folds(train["snapshot"].unique(), horizon_days, as_of, folds)
    except ValueError:
        plan = []
    if kind == "cross_section" or not plan:
        return np.flatnonzero(observed)
    first = plan[0]
    learnt = np.array(sorted({*first.fit_snapshots, first.calibration_snapshot}), dtype="datetime64[ns]")
    return np.flatnonzero(observed & np.isin(snapshot, learnt))


def check_leakage(train: pd.DataFrame, as_of, horizon_days: int, *, kind: str = "rolling", folds: int = 3,
                  seed: int = 0, threshold: float = 0.98, keep: Iterable[str] = ()) -> pd.DataFrame:
    """The features that give the label away, one row each (empty when none).

    Parameters
    ----------
    train : a training set from :func:`churnlab.features.engine.build_training_set`.
    as_of, horizon_days, kind, folds, seed : as the backtest will run (``kind``: ``"rolling"``
        or ``"cross_section"``), so the rows judged are its training part (:func:`guard_rows`;
        at most 200,000 of them, a seeded sample beyond).
    threshold : a feature whose AUC alone reaches this is reported.
    keep : features the settings keep on purpose (``models.keep_features``): reported, not left out.

    Returns
    -------
    DataFrame with :data:`LEAKAGE_COLUMNS`: ``feature``; ``source`` ("catalogue" or "customer
    column"); ``auc`` (the feature alone, 0.5..1); ``filled_churners`` / ``filled_others`` (share
    of the rows of customers who churned by the as-of date, and of the others, where it is not
    missing); ``reasons`` (``;``-separated words); ``action`` ("left out" or "kept on purpose").
    Strongest first; ``attrs["rows"]`` is how many rows were judged.
    """
    rows = guard_rows(train, as_of, horizon_days, kind=kind, folds=folds, seed=seed)
    if len(rows) > _MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=_MAX_ROWS, replace=False))
    y = train["churned"].to_numpy()[rows].astype("int64")
    ever = train["event"].to_numpy()[rows].astype("int64") == 1
    keep = set(keep)
    numeric, categorical = split_columns(train)
    found = []
    for name in numeric + categorical:  # a column at a time: the set itself is never copied
        values = train[name].iloc[rows]
        auc = feature_auc(values, y, seed)
        filled = values.notna().to_numpy()
        if not (pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype)):
            filled &= (values.astype("object") != _UNKNOWN).to_numpy()
        churners = float(filled[ever].mean()) if ever.any() else 0.0
        others = float(filled[~ever].mean()) if (~ever).any() else 0.0
        reasons = []
        if auc >= threshold:
            reasons.append(f"separates the label alone (ROC AUC {auc:.3f})")
        if name not in _CATALOGUE:
            if named_like_outcome(name):
                reasons.append("named like a churn outcome")
            if filled.sum() >= 5 and churners > 0 and others <= 0.01 * churners:
                reasons.append(f"filled in for {churners:.0%} of churners and {others:.1%} of the others")
        if reasons:
            found.append({"feature": name, "source": "catalogue" if name in _CATALOGUE else "customer column",
                          "auc": round(auc, 4), "filled_churners": round(churners, 4),
                          "filled_others": round(others, 4), "reasons": "; ".join(reasons),
                          "action": "kept on purpose" if name in keep else "left out"})
    out = pd.DataFrame(found, columns=LEAKAGE_COLUMNS)
    out = out.sort_values(["auc", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs.update(rows=int(len(rows)), threshold=float(threshold))
    return out


def leakage_report(train: pd.DataFrame, as_of, settings: Settings | None = None) -> pd.DataFrame:
    """:func:`check_leakage` as :func:`churnlab.models.fit.fit_models` runs it with ``settings``
    (the backtest's kind, folds and seed, ``models.leakage_auc``, ``models.keep_features``): what
    notebook 02 shows before any model is fitted."""
    settings = settings or Settings()
    ms = settings.models
    kind = ms.backtest
    if kind == "auto":
        kind = "rolling" if rolling_can_learn(train, as_of, settings.horizon_days, ms.backtest_folds) else "cross_section"
    return check_leakage(train, as_of, settings.horizon_days, kind=kind, folds=ms.backtest_folds, seed=settings.seed,
                         threshold=ms.leakage_auc, keep=ms.keep_features)


def too_good(metrics: pd.DataFrame, threshold: float = TOO_GOOD_AUC) -> list[dict]:
    """The backtest folds whose ROC AUC is at least ``threshold`` (models, not baselines):
    ``[{"model", "fold", "roc_auc"}]``; held-out figures this high usually mean a feature
    holds the answer."""
    rows = metrics[(metrics["family"] != "baseline") & (metrics["roc_auc"] >= threshold)]
    return [{"model": str(r.model), "fold": str(r.fold), "roc_auc": round(float(r.roc_auc), 4)}
            for r in rows.itertuples()]


def leakage_summary(found: pd.DataFrame, suspicious: list[dict], threshold: float) -> dict:
    """The JSON-ready ``leakage`` entry of ``model_metrics.json``: ``threshold``, ``rows`` judged,
    ``left_out`` and ``kept_on_purpose`` (feature records of :func:`check_leakage`), ``too_good``
    (:func:`too_good`) and ``warnings`` (:func:`leakage_warnings`' sentences)."""
    records = found.to_dict("records")
    entry = {
        "threshold": threshold, "rows": int(found.attrs.get("rows", 0)),
        "left_out": [r for r in records if r["action"] == "left out"],
        "kept_on_purpose": [r for r in records if r["action"] == "kept on purpose"],
        "too_good": list(suspicious),
    }
    entry["warnings"] = leakage_warnings({"leakage": entry})
    return entry


def leakage_warnings(metrics: dict) -> list[str]:
    """One sentence per leaked feature and per too-good backtest fold, from a ``model_metrics.json``
    dict (empty when it has no ``leakage`` entry): what the run's output and notebooks say."""
    entry = metrics.get("leakage") or {}
    out = []
    for r in entry.get("left_out", []):
        out.append(f"feature '{r['feature']}' left out of the models: it {r['reasons']} — a column known "
                   "only after churn, or a copy of the label; keep it with models.keep_features if it is honest")
    for r in entry.get("kept_on_purpose", []):
        out.append(f"feature '{r['feature']}' {r['reasons']} but is kept (models.keep_features): expect "
                   "backtest figures better than the models will do")
    for r in entry.get("too_good", []):
        out.append(f"backtest: {r['model']} reaches ROC AUC {r['roc_auc']:.3f} on fold {r['fold']}: too good to "
                   "be true for churn; look for a feature that gives the answer away (notebook 02)")
    return out


def leakage_note(found: pd.DataFrame | dict) -> str:
    """The guard's findings in words, one ``warning:`` line each, or one sentence saying that no
    feature gives the label away; from :func:`check_leakage`'s frame or a ``model_metrics.json``
    dict (notebooks 02 and 03)."""
    if isinstance(found, pd.DataFrame):
        threshold = float(found.attrs.get("threshold", 0.98))
        entry = leakage_summary(found, [], threshold)
    else:
        entry = found.get("leakage") or {}
        threshold = float(entry.get("threshold", 0.98))
    lines = leakage_warnings({"leakage": entry})
    if lines:
        return "\n".join(f"warning: {w}" for w in lines)
    return (f"no feature gives the label away: none reaches ROC AUC {threshold:.2f} alone on the "
            f"{entry.get('rows', 0):,} rows of the backtest's training part, no customer column is named like "
            "a churn outcome or filled in only for churners"
            + ("" if isinstance(found, pd.DataFrame) else ", and no backtest fold looks too good to be true"))
