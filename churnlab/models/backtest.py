"""Honest backtests: fit on the past, judge on the future, the way the models will be used.

Rolling origin over the snapshots of a training set. For a test snapshot ``t`` a model may only
learn from what was known on ``t``: the snapshots whose horizon had ended by ``t``
(``snapshot + horizon <= t``), with their durations censored and their labels cut at ``t``
(:func:`as_known_on`). The most recent of those snapshots is held out to calibrate the
classifiers; the rest is fitted. The test rows are the customers active at ``t``, judged on what
happened after ``t`` up to the as-of date of the training set.

A flat one-row-per-customer table (a CRM export such as the IBM Telco table, read through a
mapping) only knows who left in one recent month, so no earlier snapshot has a churner to learn
from. For such data ``kind="cross_section"`` judges the models across customers instead of across
time: the customers of the latest labelled snapshot are split into stratified parts; each fold
tests on one part, calibrates on the next and fits on the rest (:func:`cross_section_folds`).
It says how well the models tell churners apart, not how well they forecast a later month.
:func:`rolling_can_learn` tells which of the two a training set allows.

Every fold scores the survival models, the classifiers and two baselines beside them: the
rule-based score (a simple recency/usage-drop rule, :func:`rule_baseline_score`) and ARR (what a
team that calls its largest accounts first would do).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import rankdata

from churnlab.models.classify import ChurnClassifier, labelled
from churnlab.models.metrics import classification_metrics, survival_metrics
from churnlab.models.sampling import sample_training_set
from churnlab.models.survival import SurvivalModel

__all__ = ["as_known_on", "rolling_folds", "rolling_can_learn", "cross_section_folds", "customer_parts",
           "rule_baseline_score", "backtest", "BacktestResult", "Fold"]


def as_known_on(train: pd.DataFrame, date, horizon_days: int) -> pd.DataFrame:
    """The training set as it looked on an earlier ``date``.

    Keeps the snapshots before ``date``; a churn after ``date`` becomes a censored duration
    ending on ``date``; ``churned`` is known only where the horizon had ended by ``date``.
    """
    date = pd.Timestamp(date)
    rows = train[train["snapshot"] < date].copy()
    churn_at = rows["snapshot"] + pd.to_timedelta(rows["duration_days"], unit="D")
    seen = (rows["event"] == 1) & (churn_at <= date)
    rows["duration_days"] = np.where(seen, rows["duration_days"], (date - rows["snapshot"]).dt.days).astype("int64")
    rows["event"] = seen.astype("int64")
    rows["label_observed"] = rows["snapshot"] + pd.Timedelta(days=horizon_days) <= date
    # a label whose horizon ended by ``date`` was already known then: kept as the training set
    # has it (the same as churn within the horizon, or a purchase log's "no purchase within it")
    label = (rows["churned"] if "churned" in rows else (seen & (rows["duration_days"] <= horizon_days))).astype("Int64")
    rows["churned"] = label.where(rows["label_observed"], pd.NA)
    return rows


@dataclass(frozen=True)
class Fold:
    """One rolling-origin fold: fit on ``fit_snapshots``, calibrate on ``calibration_snapshot``,
    test on ``test_snapshot``."""

    test_snapshot: pd.Timestamp
    calibration_snapshot: pd.Timestamp
    fit_snapshots: tuple[pd.Timestamp, ...]
    #: cross-section folds: the part of the snapshot's customers tested (1-based), else None
    part: int | None = None

    @property
    def label(self) -> str:
        """The test snapshot as an ISO date, with the part for cross-section folds."""
        day = self.test_snapshot.date().isoformat()
        return day if self.part is None else f"{day} part {self.part}"


def rolling_folds(snapshots: Sequence, horizon_days: int, as_of, folds: int = 3) -> list[Fold]:
    """The last ``folds`` snapshots whose own label is known by ``as_of`` and that have at least
    two earlier snapshots with a finished horizon (one to fit, one to calibrate), oldest first."""
    snaps = sorted(pd.Timestamp(s) for s in set(snapshots))
    as_of = pd.Timestamp(as_of)
    h = pd.Timedelta(days=horizon_days)
    out = []
    for t in snaps:
        if t + h > as_of:
            continue
        usable = [s for s in snaps if s + h <= t]
        if len(usable) >= 2:
            out.append(Fold(t, usable[-1], tuple(usable[:-1])))
    return out[-folds:] if folds else out


def rolling_can_learn(train: pd.DataFrame, as_of, horizon_days: int, folds: int = 3) -> bool:
    """True when every rolling-origin fold has churners in both its fitting snapshots and its
    calibration snapshot (False for a flat table whose churn all falls in one recent month)."""
    plan = rolling_folds(train["snapshot"].unique(), horizon_days, as_of, folds)
    if not plan:
        return False
    slim = train[["snapshot", "duration_days", "event"]]  # all the check reads: no copy of the features
    for fold in plan:
        known = labelled(as_known_on(slim, fold.test_snapshot, horizon_days))
        fit = known[known["snapshot"].isin(fold.fit_snapshots)]
        if fit["churned"].nunique() < 2:
            return False
    return True


def customer_parts(rows: pd.DataFrame, parts: int, seed: int) -> np.ndarray:
    """A stratified random part (0..parts-1) for each row, churners spread evenly over the parts."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(rows), dtype="int64")
    splitter = StratifiedKFold(n_splits=parts, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(rows)), rows["churned"].to_numpy())):
        out[test] = k
    return out


def cross_section_folds(train: pd.DataFrame, folds: int = 3, seed: int = 0) -> tuple[list[Fold], pd.DataFrame]:
    """Folds across the customers of the latest labelled snapshot, and its rows with ``part``.

    The rows are split into ``folds + 2`` stratified parts (at least 3); fold ``k`` tests on part
    ``k``, calibrates on part ``k + 1`` and fits on the others.
    """
    known = labelled(train)
    if known.empty:
        raise ValueError("no labelled snapshot: no snapshot's horizon ended by the as-of date")
    last = known["snapshot"].max()
    rows = known[known["snapshot"] == last].reset_index(drop=True)
    n_parts = max(folds + 2, 3)
    if rows["churned"].nunique() < 2 or int(rows["churned"].sum()) < n_parts:
        raise ValueError(f"the snapshot of {last.date()} has {int(rows['churned'].sum())} churners among "
                         f"{len(rows)} customers: too few to split into {n_parts} parts")
    rows["part"] = customer_parts(rows, n_parts, seed)
    plan = [Fold(last, last, (last,), part=k + 1) for k in range(min(folds, n_parts))]
    return plan, rows


#: the baselines a purchase log is judged against (churn = no purchase within the horizon): the
#: days since the last purchase, fewer purchases in the last 180 days, and fewer purchases
#: expected by BG/NBD (``churnlab.features.btyd``); each where its feature exists
PURCHASE_BASELINES = {"recency_baseline": ("days_since_last_use", 1.0),
                      "frequency_baseline": ("events_180d", -1.0),
                      "bgnbd_baseline": ("btyd_expected_purchases", -1.0)}


def _purchase_baselines(test: pd.DataFrame) -> dict[str, np.ndarray]:
    """The :data:`PURCHASE_BASELINES` of a test snapshot of a purchase log (one with BG/NBD features)."""
    if "btyd_expected_purchases" not in test:
        return {}
    return {name: sign * pd.to_numeric(test[col], errors="coerce").fillna(0).to_numpy(dtype="float64")
            for name, (col, sign) in PURCHASE_BASELINES.items() if col in test}


def rule_baseline_score(features: pd.DataFrame) -> np.ndarray:
    """A recency/usage-drop rule: how many of these warning signs a customer shows.

    No use for 30 days; usage down 30% or more against the prior 60 days; a high or critical
    ticket open; an NPS detractor; a failed payment or an overdue invoice. Missing features count
    as not shown. This is the baseline the models must beat.
    """
    def col(name, default=0.0):
        return features[name].astype("float64").fillna(default) if name in features else pd.Series(default, index=features.index)

    signs = [
        col("days_since_last_use") > 30,
        col("usage_change_60d_pct") <= -30,
        col("open_high_critical_tickets") > 0,
        col("nps_detractor") > 0,
        (col("failed_payments_180d") > 0) | (col("overdue_invoices") > 0),
    ]
    return np.sum([s.to_numpy() for s in signs], axis=0).astype("float64")


@dataclass
class BacktestResult:
    """``metrics``: one row per (model, fold) with the figures of :mod:`churnlab.models.metrics`;
    ``predictions``: the test rows of every fold with each model's score (``fold``: the test
    snapshot, or the fold's label for cross-section folds);
    ``folds``: the folds run."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    folds: list[Fold] = field(default_factory=list)

    def curves(self, models: Sequence[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{model: (churned, score)}`` over the test rows of all folds, for ROC, lift and
        calibration plots (``models``: which, in this order; default all)."""
        names = list(models) if models is not None else list(dict.fromkeys(self.predictions["model"]))
        out = {}
        for name in names:
            rows = self.predictions[self.predictions["model"] == name]
            out[name] = (rows["churned"].to_numpy(dtype="int64"), rows["score"].to_numpy(dtype="float64"))
        return out

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of every figure per model over the folds."""
        numeric = self.metrics.drop(columns=["fold"]).groupby(["model", "family"])
        out = numeric.agg(["mean", "std"])
        out.columns = [f"{a}_{b}" for a, b in out.columns]
        return out.reset_index()


def _survival_grid(horizon_days: int) -> np.ndarray:
    return np.linspace(max(1.0, horizon_days / 12), float(horizon_days), 12)


def _fit_and_score(family: str, kind: str, test: pd.DataFrame, fit_rows: pd.DataFrame,
                   cal_rows: pd.DataFrame | None, penalizer: float, C: float, calibration: str, seed: int,
                   horizon_days: int, grid, exclude: tuple[str, ...] = ()) -> tuple[str, np.ndarray, dict, int]:
    """Fit one model of a fold on ``fit_rows`` (calibrated on ``cal_rows``, classifiers only) and
    score its test snapshot: ``(family, p, extra figures, rows)``."""
    if family == "survival":
        model = SurvivalModel(kind, penalizer=penalizer, horizon_days=horizon_days, exclude=exclude).fit(fit_rows)
        pred = model.predict(test)
        surv = model.survival_function(test, grid).to_numpy().T
        extra = survival_metrics(test["duration_days"], test["event"], pred["risk"], survival=surv, times=grid,
                                 durations_train=fit_rows["duration_days"], events_train=fit_rows["event"])
        return "survival", pred["churn_probability"].to_numpy(), extra, len(fit_rows)
    model = ChurnClassifier(kind, C=C, calibration=calibration, seed=seed, exclude=exclude).fit(fit_rows, cal_rows)
    p = model.predict_proba(test)[:, 1]
    return "classifier", p, survival_metrics(test["duration_days"], test["event"], p), len(fit_rows)


def backtest(train: pd.DataFrame, as_of, horizon_days: int = 90, folds: int = 3,
             survival_kinds: Sequence[str] = ("cox", "weibull_aft"),
             classifier_kinds: Sequence[str] = ("logistic", "boosting"),
             penalizer: float = 0.05, C: float = 0.1, calibration: str = "sigmoid",
             max_rows: int = 60_000, seed: int = 0, baseline_score=rule_baseline_score,
             kind: str = "rolling", n_jobs: int = 1, exclude: Sequence[str] = ()) -> BacktestResult:
    """Rolling-origin (or cross-section) backtest of every model kind on a training set.

    Parameters
    ----------
    train : from :func:`churnlab.features.engine.build_training_set` at ``as_of``.
    as_of : the date the training set was built for (test labels look up to it, no further).
    horizon_days : the churn horizon the set was labelled with.
    folds : how many test snapshots, the most recent labelled ones.
    survival_kinds, classifier_kinds : the models to compare.
    penalizer, C, calibration : model settings (see :mod:`churnlab.models.survival`, :mod:`churnlab.models.classify`).
    max_rows : fitting sets larger than this are sampled with weights.
    seed : for sampling and the boosted trees.
    baseline_score : features frame → score; higher means riskier.
    kind : ``"rolling"`` (across time) or ``"cross_section"`` (across the customers of the latest
        labelled snapshot, for flat tables; see the module docstring).
    n_jobs : model fits run this many at a time (joblib processes); the figures do not depend
        on it, every fit is seeded.
    exclude : features no model may use (those :func:`churnlab.models.leakage.check_leakage` left out).

    Returns
    -------
    :class:`BacktestResult`; ``metrics`` has columns ``model``, ``family`` (survival,
    classifier, baseline), ``fold`` (the test snapshot, ISO date), ``train_rows``, then the
    figures (``roc_auc``, ``pr_auc``, ``brier``, ``ece``, ``lift_top10``, ``recall_top10``,
    ``emp`` …, ``concordance``, ``integrated_brier``).
    """
    if kind == "cross_section":
        plan, part_rows = cross_section_folds(train, folds, seed)
    elif kind == "rolling":
        plan = rolling_folds(train["snapshot"].unique(), horizon_days, as_of, folds)
    else:
        raise ValueError(f"kind must be 'rolling' or 'cross_section', got {kind!r}")
    if not plan:
        raise ValueError(
            f"no backtest fold: the training set needs at least three snapshots whose "
            f"{horizon_days}-day horizon ended by {pd.Timestamp(as_of).date()}")
    grid = _survival_grid(horizon_days)
    params = dict(penalizer=penalizer, C=C, calibration=calibration, seed=seed, horizon_days=horizon_days, grid=grid,
                  exclude=tuple(exclude))
    tested: list[dict] = []

    def fold_frames(k: int, fold: Fold):
        """``(test, fit_rows, cal_rows, surv_rows)`` of one fold, copied only when asked for."""
        if fold.part is not None:
            part = part_rows["part"].to_numpy()
            n_parts = int(part.max()) + 1
            test = part_rows[part == fold.part - 1].drop(columns="part")
            cal_rows = part_rows[part == fold.part % n_parts].drop(columns="part")
            usable = part_rows[part != fold.part - 1].drop(columns="part")
            fit_rows = sample_training_set(usable[~usable["customer_id"].isin(cal_rows["customer_id"])],
                                           max_rows, seed + k)
            surv_rows = sample_training_set(usable, max_rows, seed + k)
            return test, fit_rows, cal_rows, surv_rows
        # sampled first, then seen as on the test date: only the sampled rows are copied
        # (the classes sampled on are the churns known on the as-of date; the weights keep
        # any such sampling design unbiased)
        snapshot = train["snapshot"]
        in_fit = snapshot.isin(fold.fit_snapshots).to_numpy()
        in_cal = (snapshot == fold.calibration_snapshot).to_numpy()
        fit_rows = as_known_on(sample_training_set(train, max_rows, seed + k, where=in_fit),
                               fold.test_snapshot, horizon_days)
        cal_rows = as_known_on(train[in_cal], fold.test_snapshot, horizon_days)
        surv_rows = as_known_on(sample_training_set(train, max_rows, seed + k, where=in_fit | in_cal),
                                fold.test_snapshot, horizon_days)
        test = labelled(train[train["snapshot"] == fold.test_snapshot])
        return test, fit_rows, cal_rows, surv_rows

    def fits():
        # every (fold, model) fit is independent: joblib runs them side by side when n_jobs > 1
        # and takes them from here as workers free up, so only the folds in flight are held in
        # memory (a test and a calibration snapshot are each ~0.5 GB at a million customers);
        # what the figures need of a test snapshot is kept as arrays
        for k, fold in enumerate(plan):
            test, fit_rows, cal_rows, surv_rows = fold_frames(k, fold)
            tested.append({"y": test["churned"].to_numpy(), "customer_id": test["customer_id"].to_numpy(),
                           "duration_days": test["duration_days"].to_numpy(), "event": test["event"].to_numpy(),
                           "rule_baseline": baseline_score(test),
                           "arr_baseline": (test["arr"].to_numpy(dtype="float64") if "arr" in test
                                            else np.zeros(len(test))),
                           **_purchase_baselines(test)})
            # each fit is sent only the rows it uses (a survival model needs no calibration rows)
            for m in survival_kinds:
                yield delayed(_fit_and_score)("survival", m, test, surv_rows, None, **params)
            for m in classifier_kinds:
                yield delayed(_fit_and_score)("classifier", m, test, fit_rows, cal_rows, **params)
            del test, fit_rows, cal_rows, surv_rows

    results = iter(Parallel(n_jobs=n_jobs)(fits()))
    rows, preds = [], []
    for fold, seen in zip(plan, tested):
        y = seen["y"]
        scores: dict[str, tuple[str, np.ndarray, dict, int]] = {m: next(results)
                                                               for m in (*survival_kinds, *classifier_kinds)}
        for name in ("rule_baseline", "arr_baseline", *PURCHASE_BASELINES):
            if name not in seen:
                continue
            score = seen[name]
            extra = survival_metrics(seen["duration_days"], seen["event"], score)
            scores[name] = ("baseline", score, extra, 0)
        for name, (family, p, extra, n_fit) in scores.items():
            if family == "baseline":
                # ranking figures only: a score is not a probability (ranks keep the order)
                figures = classification_metrics(y, rankdata(p) / len(p))
                figures.update(brier=float("nan"), ece=float("nan"))
            else:
                figures = classification_metrics(y, p)
            rows.append({"model": name, "family": family, "fold": fold.label,
                         "train_rows": n_fit, **figures, **extra})
            preds.append(pd.DataFrame({"fold": fold.test_snapshot if fold.part is None else fold.label, "model": name,
                                       "customer_id": seen["customer_id"], "score": p,
                                       "churned": y, "duration_days": seen["duration_days"],
                                       "event": seen["event"]}))
    return BacktestResult(pd.DataFrame(rows), pd.concat(preds, ignore_index=True), plan)
