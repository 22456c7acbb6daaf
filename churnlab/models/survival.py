"""Survival models of the time to churn: lifelines Cox and Weibull AFT behind one interface.

A training set from :func:`churnlab.features.engine.build_training_set` holds one row per (snapshot,
active customer) with ``duration_days`` from the snapshot to churn (or to the as-of date,
censored) and ``event``. :class:`SurvivalModel` fits on those rows and answers, per customer:

* the survival curve S(t) for t days after the scoring date,
* ``churn_probability`` = 1 − S(horizon),
* ``expected_lifetime_days`` = the restricted mean of S over ``[0, time_range_days]`` (a
  customer who is very unlikely to churn gets the whole range: the model knows nothing past it),
* additive contributions to the log-risk per feature (Cox terms; AFT terms with the sign turned
  so that positive means "shortens life"), which :mod:`churnlab.models.reasons` turns into words.

The same customer appears at several snapshots, so the rows are not independent: coefficients
and predictions are sound, their standard errors are too narrow. Large sets can be sampled with
weights (:func:`churnlab.models.sampling.sample_training_set`); the ``sample_weight`` column is then
passed to lifelines as case weights, rescaled to average 1 (see :meth:`SurvivalModel.fit`).

:class:`SurvivalModel` follows scikit-learn's estimator conventions: its parameters are stored as
given (``get_params``, ``set_params`` and ``sklearn.base.clone`` work) and asking an unfitted
model for predictions, contributions or coefficients raises ``sklearn.exceptions.NotFittedError``.
"""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, WeibullAFTFitter
from lifelines.exceptions import StatisticalWarning
from lifelines.statistics import proportional_hazard_test
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from churnlab.features.catalogue import split_columns
from churnlab.models.design import additive_contributions, make_preprocessor, require_features, row_chunks

__all__ = ["SurvivalModel", "fit_survival", "SURVIVAL_KINDS"]

SURVIVAL_KINDS = ("cox", "weibull_aft")


class SurvivalModel(BaseEstimator):
    """Time-to-churn model on a training set (lifelines under the hood).

    Parameters
    ----------
    kind : ``"cox"`` (penalised proportional hazards) or ``"weibull_aft"`` (accelerated failure time).
    penalizer : L2 penalty on the standardised coefficients (robust to collinear columns).
    horizon_days : the horizon of ``churn_probability``.
    time_range_days : cap of the restricted mean lifetime; default: the longest duration seen in
        training.
    exclude : features never used (e.g. ``tenure_days`` when durations count from signup).

    Attributes (after ``fit``)
    --------------------------
    features_ : the feature columns used; ``design_`` : the fitted preprocessor; ``columns_`` /
    ``design_mean_`` : its output columns and their training means;
    fitter_ : the lifelines fitter; ``time_range_days_`` : the lifetime cap in use;
    train_rows_ / train_events_ : the size of the training set.

    Example
    -------
    >>> model = SurvivalModel("cox").fit(training_set)            # doctest: +SKIP
    >>> model.predict(features)[["churn_probability", "expected_lifetime_days"]]  # doctest: +SKIP
    """

    def __init__(self, kind: Literal["cox", "weibull_aft"] = "cox", penalizer: float = 0.05,
                 horizon_days: int = 90, time_range_days: int | None = None, exclude: tuple[str, ...] = ()):
        self.kind = kind
        self.penalizer = penalizer
        self.horizon_days = horizon_days
        self.time_range_days = time_range_days
        self.exclude = exclude

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, train: pd.DataFrame) -> "SurvivalModel":
        """Fit on ``train`` (needs ``duration_days`` and ``event``; optional ``sample_weight``)."""
        if self.kind not in SURVIVAL_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SURVIVAL_KINDS)}, got {self.kind!r}")
        for col in ("duration_days", "event"):
            if col not in train.columns:
                raise ValueError(f"training set has no {col!r} column: build it with build_training_set")
        if int(train["event"].sum()) == 0:
            raise ValueError("training set has no churn event: a survival model cannot be fitted")
        numeric, categorical = split_columns(train, exclude=tuple(self.exclude))
        self.features_ = numeric + categorical
        self.design_ = make_preprocessor(numeric, categorical)
        X = self.design_.fit_transform(train[self.features_])
        self.columns_ = list(X.columns)
        self.design_mean_ = X.mean().to_numpy()
        df = X.copy()
        # lifelines needs positive durations; a churn on the day after the snapshot is 1 day
        df["duration_days"] = np.maximum(train["duration_days"].to_numpy(dtype="float64"), 0.5)
        df["event"] = train["event"].to_numpy(dtype="int64")
        weights = None
        if "sample_weight" in train.columns:
            # lifelines' Cox penalty grows with the number of rows, not with the weights: weights
            # rescaled to sum to the rows make the penalised fit that of the full set the sample
            # stands for (raw weights of ~20 weakened the penalty twentyfold, and Newton-Raphson
            # diverged on a 60,000-row sample of the 100,000-customer demo). The AFT likelihood
            # is divided by the weights' sum, so the rescaling does not change it.
            w = train["sample_weight"].to_numpy(dtype="float64")
            df["sample_weight"] = w / w.mean()
            weights = "sample_weight"
        with warnings.catch_warnings():
            # non-integer case weights are intended (sampling weights), and the robust sandwich
            # variance lifelines suggests costs more than the whole fit on large sets
            warnings.simplefilter("ignore", StatisticalWarning)
            if self.kind == "cox":
                self.fitter_ = CoxPHFitter(penalizer=self.penalizer)
                self.fitter_.fit(df, "duration_days", "event", weights_col=weights)
            else:
                self.fitter_ = WeibullAFTFitter(penalizer=self.penalizer)
                self.fitter_.fit(df, "duration_days", "event", weights_col=weights)
        longest = float(train["duration_days"].max())
        self.time_range_days_ = float(min(self.time_range_days or longest, longest))
        self.train_rows_ = int(len(train))
        self.train_events_ = int(train["event"].sum())
        return self

    # -- prediction ------------------------------------------------------------------------
    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        require_features(frame, self.features_)
        return self.design_.transform(frame[self.features_])

    def _curves(self, frame: pd.DataFrame, times: np.ndarray):
        """S(``times``) of ``frame``'s rows, a slice of rows at a time (times x rows arrays)."""
        for rows in row_chunks(frame):
            yield self.fitter_.predict_survival_function(self._design(rows), times=times).to_numpy()

    def survival_function(self, frame: pd.DataFrame, times) -> pd.DataFrame:
        """S(t) for each row of ``frame`` (columns, in row order) at ``times`` days (index)."""
        check_is_fitted(self)
        times = np.asarray(times, dtype="float64")
        parts = list(self._curves(frame, times))
        values = np.hstack(parts) if parts else np.empty((len(times), 0))
        return pd.DataFrame(values, index=pd.Index(times, name="days"))

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        """A score that orders customers by hazard (higher: churns sooner)."""
        check_is_fitted(self)
        beta = self._log_risk_coefficients()
        parts = [(self._design(rows).to_numpy() - self.design_mean_) @ beta for rows in row_chunks(frame)]
        return np.concatenate(parts) if parts else np.empty(0)

    def _log_risk_coefficients(self) -> np.ndarray:
        if self.kind == "cox":
            return self.fitter_.params_.reindex(self.columns_).to_numpy()
        # AFT: log T = b0 + x'b, so a longer life is a lower risk
        lam = self.fitter_.params_.loc["lambda_"].reindex(self.columns_).fillna(0.0)
        return -lam.to_numpy()

    def predict(self, frame: pd.DataFrame, grid_days: int = 7) -> pd.DataFrame:
        """``customer_id``, ``churn_probability`` (within ``horizon_days``),
        ``expected_lifetime_days`` (restricted mean over ``time_range_days_``) and ``risk``.

        The restricted mean integrates S(t) on a grid every ``grid_days`` days (trapezoids).
        """
        check_is_fitted(self)
        cap = self.time_range_days_
        grid = np.unique(np.concatenate([np.arange(0.0, cap, grid_days), [cap, float(self.horizon_days)]]))
        grid = grid[grid <= max(cap, self.horizon_days)]
        horizon = np.searchsorted(grid, float(self.horizon_days))
        within = grid <= cap
        # reduced chunk by chunk: the whole curve of a million customers would be ~0.5 GB a copy
        at_horizon, lifetime = np.empty(len(frame)), np.empty(len(frame))
        start = 0
        for surv in self._curves(frame, grid):
            done = slice(start, start + surv.shape[1])
            at_horizon[done] = surv[horizon]
            lifetime[done] = np.trapezoid(surv[within], grid[within], axis=0)
            start = done.stop
        out = pd.DataFrame({
            "customer_id": frame["customer_id"].to_numpy() if "customer_id" in frame else np.arange(len(frame)),
            "churn_probability": np.clip(1.0 - at_horizon, 0.0, 1.0),
            "expected_lifetime_days": lifetime,
            "risk": self.risk(frame),
        })
        return out

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Additive terms of the log-risk per feature (rows as ``frame``, columns = features).

        Positive means the feature raises this customer's risk above the training average.
        Design columns of one feature (its levels, its missing indicator) are summed.
        """
        check_is_fitted(self)
        return additive_contributions(self.design_, frame, self.features_, self.design_mean_,
                                      self._log_risk_coefficients())

    # -- diagnostics -----------------------------------------------------------------------
    def coefficients(self) -> pd.DataFrame:
        """Per design column: ``coef`` on the log-risk scale (per standard deviation) and
        ``hazard_ratio`` = exp(coef), sorted by size of effect."""
        check_is_fitted(self)
        coef = pd.Series(self._log_risk_coefficients(), index=self.columns_, name="coef")
        out = coef.to_frame()
        out["hazard_ratio"] = np.exp(out["coef"])
        return out.reindex(out["coef"].abs().sort_values(ascending=False).index)

    def check_proportional_hazards(self, train: pd.DataFrame, max_rows: int = 5000,
                                   alpha: float = 0.01, seed: int = 0) -> pd.DataFrame:
        """The proportional-hazards check of a Cox model, as a table a reviewer can read.

        Scaled Schoenfeld residuals against rank of time (lifelines'
        ``proportional_hazard_test``) on up to ``max_rows`` training rows. Returns one row per
        design column: ``feature``, ``test_statistic``, ``p``, ``violated`` (p below ``alpha``
        divided by the number of columns, Bonferroni) and ``advice`` in words.
        """
        check_is_fitted(self)
        if self.kind != "cox":
            raise ValueError("the proportional-hazards check applies to the Cox model only")
        rows = train if len(train) <= max_rows else train.sample(max_rows, random_state=seed)
        X = self._design(rows)
        df = X.copy()
        df["duration_days"] = np.maximum(rows["duration_days"].to_numpy(dtype="float64"), 0.5)
        df["event"] = rows["event"].to_numpy(dtype="int64")
        fitter = self.fitter_
        if getattr(fitter, "weights_col", None):
            # a model fitted with case weights is tested with them (lifelines reads the column)
            df["sample_weight"] = (rows["sample_weight"].to_numpy(dtype="float64")
                                   if "sample_weight" in rows.columns else 1.0)
        if len(rows) != self.fitter_._n_examples:
            # lifelines tests the residuals of the rows a model was fitted on: refit on the sample
            fitter = CoxPHFitter(penalizer=self.penalizer).fit(
                df, "duration_days", "event", weights_col="sample_weight" if "sample_weight" in df else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            result = proportional_hazard_test(fitter, df, time_transform="rank")
        table = result.summary.reset_index().rename(columns={"index": "feature"})
        if "covariate" in table.columns:
            table = table.rename(columns={"covariate": "feature"})
        table = table[["feature", "test_statistic", "p"]].copy()
        cut = alpha / max(len(table), 1)
        table["violated"] = table["p"] < cut
        table["advice"] = np.where(
            table["violated"],
            "effect changes with time since the snapshot: read its hazard ratio as an average, "
            "or bin it / stratify on it",
            "no evidence against proportional hazards",
        )
        return table.sort_values("p").reset_index(drop=True)


def fit_survival(train: pd.DataFrame, kind: Literal["cox", "weibull_aft"] = "cox", **params) -> SurvivalModel:
    """Fit a :class:`SurvivalModel` of ``kind`` on a training set; ``params`` go to its constructor."""
    return SurvivalModel(kind=kind, **params).fit(train)
