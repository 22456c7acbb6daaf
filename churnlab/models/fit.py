"""Fit, choose and apply the churn models: the one call a run or a notebook makes.

:func:`fit_models` builds the training set, backtests every survival model and classifier of
the settings (:mod:`churnlab.models.backtest`), picks the survival model with the best mean
concordance and the classifier with the best mean ``settings.models.select_by``, refits both on
everything known at the as-of date and returns them as a :class:`~churnlab.models.bundle.ModelBundle`
with the backtest figures. :func:`score` applies a bundle to the features at the as-of date:
the calibrated ``churn_probability`` comes from the classifier, ``expected_lifetime_days``
from the survival model, and ``reasons`` from the additive terms of the logistic model when it
was chosen, of the survival model otherwise.
"""
from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from churnlab.models.backtest import BacktestResult, backtest, cross_section_folds, rolling_can_learn
from churnlab.models.bundle import ModelBundle
from churnlab.models.classify import ChurnClassifier
from churnlab.models.leakage import check_leakage, leakage_summary, too_good
from churnlab.features.engine import build_training_set
from churnlab.data.loading import Dataset
from churnlab.models.design import training_medians
from churnlab.models.reasons import explain
from churnlab.models.sampling import sample_training_set
from churnlab.settings import Settings
from churnlab.models.survival import SurvivalModel

__all__ = ["fit_models", "score", "model_metrics", "survival_curves", "SCORE_COLUMNS"]

SCORE_COLUMNS = ["customer_id", "churn_probability", "expected_lifetime_days", "reasons"]
_HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "emp": True, "brier": False, "concordance": True}


def _fit(model, rows: pd.DataFrame, **kwargs):
    return model.fit(rows, **kwargs)


def _pick(summary: pd.DataFrame, family: str, figure: str) -> str:
    rows = summary[summary["family"] == family].copy()
    col = f"{figure}_mean"
    rows = rows[rows[col].notna()]
    if rows.empty:
        raise ValueError(f"backtest gave no {figure} for any {family}: cannot choose a model")
    # stable: ties go to the model listed first in the settings
    rows = rows.sort_values(col, ascending=not _HIGHER_IS_BETTER[figure], kind="stable")
    return str(rows["model"].iloc[0])


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _clean(value.item())
    return value


def model_metrics(result: BacktestResult, chosen: dict, horizon_days: int, as_of) -> dict:
    """The backtest as the JSON-ready dict written to ``model_metrics.json``.

    ``{"as_of", "horizon_days", "chosen", "backtest": "rolling" or "cross_section", "folds": [test
    snapshots], "models": {model: {"family",
    "mean": {figure: value}, "folds": [{"fold", figure: value, ...}]}}}``; undefined figures are null.
    """
    models = {}
    summary = result.summary()
    for name, rows in result.metrics.groupby("model", sort=False):
        figures = rows.drop(columns=["model", "family"])
        mean = summary[summary["model"] == name].iloc[0]
        models[name] = {
            "family": rows["family"].iloc[0],
            "mean": {c[:-5]: _clean(mean[c]) for c in summary.columns if c.endswith("_mean")},
            "folds": [{k: _clean(v) for k, v in rec.items()} for rec in figures.to_dict("records")],
        }
    return {
        "as_of": pd.Timestamp(as_of).date().isoformat(),
        "horizon_days": int(horizon_days),
        "chosen": chosen,
        "backtest": "cross_section" if any(f.part is not None for f in result.folds) else "rolling",
        "folds": [f.label for f in result.folds],
        "models": models,
    }


def fit_models(data: Dataset | str | Path, as_of: str | date, *, settings: Settings | None = None,
               training_set: pd.DataFrame | None = None, fingerprint: str = "") -> tuple[ModelBundle, BacktestResult]:
    """Backtest, choose and fit the churn models for ``as_of``.

    Parameters
    ----------
    data : a :class:`~churnlab.data.loading.Dataset` or a folder of contract tables.
    as_of : the scoring date; nothing after it is read.
    settings : run settings (``settings.models`` and ``horizon_days``, ``seed``); defaults if None.
    training_set : a ready training set (from :func:`build_training_set` with the same
        settings) to save building it again.
    fingerprint : of the input data, recorded in the bundle.

    Returns
    -------
    ``(bundle, backtest_result)``.
    """
    settings = settings or Settings()
    ms, h, seed = settings.models, settings.horizon_days, settings.seed
    as_of = pd.Timestamp(as_of).normalize()
    train = training_set if training_set is not None else build_training_set(
        data, as_of, horizon_days=h, snapshots=ms.snapshots, churn=ms.churn, inactivity_days=ms.inactivity_days)
    if int(train["event"].sum()) == 0:
        raise ValueError(f"no churn at all in the {ms.snapshots} snapshots before {as_of.date()}: "
                         "there is nothing to learn from (check churn_date, or use churn: inactivity)")
    kind = ms.backtest
    if kind == "auto":
        kind = "rolling" if rolling_can_learn(train, as_of, h, ms.backtest_folds) else "cross_section"
    # before anything is fitted: a feature that gives the label away would make every figure
    # below a lie, so it is named and left out (unless the settings keep it on purpose)
    leaked = check_leakage(train, as_of, h, kind=kind, folds=ms.backtest_folds, seed=seed,
                           threshold=ms.leakage_auc, keep=ms.keep_features)
    exclude = tuple(leaked.loc[leaked["action"] == "left out", "feature"])
    result = backtest(train, as_of, h, folds=ms.backtest_folds, survival_kinds=ms.survival,
                      classifier_kinds=ms.classifiers, penalizer=ms.penalizer, C=ms.C,
                      calibration=ms.calibration, max_rows=ms.max_training_rows, seed=seed, kind=kind,
                      n_jobs=ms.n_jobs, exclude=exclude)
    summary = result.summary()
    chosen = {"survival": _pick(summary, "survival", "concordance"),
              "classifier": _pick(summary, "classifier", ms.select_by),
              "survival_selected_by": "concordance", "classifier_selected_by": ms.select_by}

    # masks rather than copies of the training set (several GB at a million customers)
    observed = train["churned"].notna().to_numpy()
    snapshot = train["snapshot"].to_numpy()
    last = pd.Timestamp(snapshot[observed].max())
    if kind == "cross_section":
        # only the latest labelled snapshot has churners: fit on most of its customers, calibrate
        # on one stratified part of them
        _, rows = cross_section_folds(train, ms.backtest_folds, seed)
        fit_rows = sample_training_set(rows[rows["part"] != 0].drop(columns="part"), ms.max_training_rows, seed)
        cal_rows = rows[rows["part"] == 0].drop(columns="part")
    else:
        fit_rows = sample_training_set(train, ms.max_training_rows, seed, where=observed & (snapshot < last))
        cal_rows = train[observed & (snapshot == last)]
    # the two final fits are independent: side by side when n_jobs > 1
    survival, classifier = Parallel(n_jobs=min(ms.n_jobs, 2))([
        delayed(_fit)(SurvivalModel(chosen["survival"], penalizer=ms.penalizer, horizon_days=h, exclude=exclude),
                      sample_training_set(train, ms.max_training_rows, seed)),
        delayed(_fit)(ChurnClassifier(chosen["classifier"], C=ms.C, calibration=ms.calibration, seed=seed,
                                      exclude=exclude),
                      fit_rows, calibrate_on=cal_rows),
    ])
    window = {
        "backtest": kind,
        "first_snapshot": train["snapshot"].min().date().isoformat(),
        "last_snapshot": train["snapshot"].max().date().isoformat(),
        "calibration_snapshot": last.date().isoformat(),
        "rows": int(len(train)), "churn_events": int(train["event"].sum()),
        "labelled_rows": int(observed.sum()), "churned_within_horizon": int(train["churned"].sum()),
    }
    features = sorted(set(survival.features_) | set(classifier.features_), key=list(train.columns).index)
    metrics = model_metrics(result, chosen, h, as_of)
    metrics["leakage"] = leakage_summary(leaked, too_good(result.metrics), ms.leakage_auc)
    bundle = ModelBundle(
        survival=survival, classifier=classifier, features=features, horizon_days=h,
        as_of=as_of.date().isoformat(), training_window=window, chosen=chosen,
        metrics=metrics, fingerprint=fingerprint,
        settings=settings.models.model_dump(),
    )
    return bundle, result


def score(bundle: ModelBundle, features: pd.DataFrame, reasons: int = 3) -> pd.DataFrame:
    """Apply a bundle to a features frame (one row per customer at the as-of date).

    Returns
    -------
    DataFrame in the order of ``features``: ``customer_id``, ``churn_probability`` (calibrated,
    within the bundle's horizon), ``expected_lifetime_days`` (restricted mean over the survival
    model's time range), ``reasons`` (the top ``reasons`` drivers in words, ``;``-separated), and
    ``survival_churn_probability`` / ``risk`` from the survival model for reference.
    """
    surv = bundle.survival.predict(features)
    p = bundle.classifier.predict_proba(features)[:, 1]
    explainer = bundle.classifier if getattr(bundle.classifier, "kind", "") == "logistic" else bundle.survival
    design = explainer.pipeline_.named_steps["design"] if explainer is bundle.classifier else explainer.design_
    words = explain(explainer.contributions(features), features, top=reasons, typical=training_medians(design))
    return pd.DataFrame({
        "customer_id": features["customer_id"].to_numpy(),
        "churn_probability": p,
        "expected_lifetime_days": surv["expected_lifetime_days"].to_numpy(),
        "reasons": words.to_numpy(),
        "survival_churn_probability": surv["churn_probability"].to_numpy(),
        "risk": surv["risk"].to_numpy(),
    })


def survival_curves(bundle: ModelBundle, features: pd.DataFrame, by: str | pd.Series,
                    days: int | None = None, step: int = 7) -> pd.DataFrame:
    """Mean survival curve of the customers in each group.

    ``by``: a column of ``features`` (e.g. ``"plan"``) or a Series aligned with it (e.g. the
    zone). Returns a frame indexed by days after the as-of date, one column per group.
    """
    groups = features[by] if isinstance(by, str) else pd.Series(by, index=features.index)
    days = days or int(bundle.survival.time_range_days_)
    grid = np.arange(0, days + 1, step, dtype="float64")
    curves = bundle.survival.survival_function(features, grid)
    curves.columns = features.index
    keys = groups.astype("object").where(groups.notna(), "unknown")
    out = curves.T.groupby(keys.to_numpy()).mean().T
    return out.reindex(sorted(out.columns, key=str), axis=1)
