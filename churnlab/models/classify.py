"""Churn-within-the-horizon classifiers: scikit-learn Pipelines, calibrated on a later time fold.

Two kinds behind one interface, :class:`ChurnClassifier`:

* ``"logistic"``: the baseline, an L2-regularised logistic regression on the standardised design
  of :mod:`churnlab.models.design`; its terms are additive, so it also explains itself;
* ``"boosting"``: ``HistGradientBoostingClassifier`` (missing values and interactions handled by
  the trees), seeded.

Training rows are those of a training set whose label was observed (``churned`` not missing).
Probabilities are then recalibrated (Platt's sigmoid by default, or isotonic) on a *later*
calibration set — the most recent labelled snapshot — so that they match the churn rate of the
period closest to the one being predicted rather than the average of the training window.
``sample_weight`` (from :func:`churnlab.models.sampling.sample_training_set`) is honoured by both the
fit and the calibration.

:class:`ChurnClassifier` follows scikit-learn's estimator conventions: its parameters are stored as
given (``get_params``, ``set_params`` and ``sklearn.base.clone`` work), ``predict_proba`` returns
one column per class of ``classes_`` (``[:, 1]`` is P(churn)), and scoring an unfitted model
raises ``sklearn.exceptions.NotFittedError``. Unlike scikit-learn's ``fit(X, y)``, ``fit`` takes
the training set whole (features and the ``churned`` label) and an optional calibration set.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from churnlab.features.catalogue import split_columns
from churnlab.models.design import additive_contributions, make_preprocessor, require_features, row_chunks

__all__ = ["ChurnClassifier", "fit_classifier", "CLASSIFIER_KINDS", "labelled"]

CLASSIFIER_KINDS = ("logistic", "boosting")


def labelled(train: pd.DataFrame) -> pd.DataFrame:
    """The rows of a training set whose horizon was over, with ``churned`` as 0/1 integers."""
    if "churned" not in train.columns:
        raise ValueError("training set has no 'churned' column: build it with build_training_set")
    rows = train[train["churned"].notna()].copy()
    rows["churned"] = rows["churned"].astype("int64")
    return rows


def _weights(frame: pd.DataFrame) -> np.ndarray | None:
    return frame["sample_weight"].to_numpy(dtype="float64") if "sample_weight" in frame else None


class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """P(churn within the horizon) from the features of a customer at a snapshot.

    Parameters
    ----------
    kind : ``"logistic"`` or ``"boosting"``.
    C : inverse L2 strength of the logistic regression.
    calibration : ``"sigmoid"`` or ``"isotonic"``, applied when ``fit`` gets a calibration set.
    seed : random state of the boosted trees (their early-stopping split).
    exclude : features never used.

    Attributes (after ``fit``)
    --------------------------
    features_, classes_ (``[0, 1]``: stays, churns), pipeline_ (the fitted scikit-learn Pipeline),
    calibrated_ (the calibrated model, or the pipeline when no calibration set was given),
    design_mean_, calibrated_on_, train_rows_, train_positives_.
    """

    def __init__(self, kind: Literal["logistic", "boosting"] = "logistic", C: float = 0.1,
                 calibration: Literal["sigmoid", "isotonic"] = "sigmoid", seed: int = 0,
                 exclude: tuple[str, ...] = ()):
        self.kind = kind
        self.C = C
        self.calibration = calibration
        self.seed = seed
        self.exclude = exclude

    def _pipeline(self, numeric: list[str], categorical: list[str]) -> Pipeline:
        if self.kind == "logistic":
            model = LogisticRegression(C=self.C, max_iter=2000)
            return Pipeline([("design", make_preprocessor(numeric, categorical)), ("model", model)])
        if self.kind == "boosting":
            model = HistGradientBoostingClassifier(
                learning_rate=0.1, max_iter=200, max_leaf_nodes=15, min_samples_leaf=50,
                l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
                n_iter_no_change=20, random_state=self.seed)
            return Pipeline([("design", make_preprocessor(numeric, categorical, scale=False)), ("model", model)])
        raise ValueError(f"kind must be one of {', '.join(CLASSIFIER_KINDS)}, got {self.kind!r}")

    def fit(self, train: pd.DataFrame, calibrate_on: pd.DataFrame | None = None) -> "ChurnClassifier":
        """Fit on the labelled rows of ``train``; recalibrate on those of ``calibrate_on``."""
        rows = labelled(train)
        if rows["churned"].nunique() < 2:
            raise ValueError(f"training set needs churners and non-churners; its {len(rows)} labelled "
                             "rows are all of one class")
        numeric, categorical = split_columns(rows, exclude=tuple(self.exclude))
        self.features_ = numeric + categorical
        self.pipeline_ = self._pipeline(numeric, categorical)
        fit_params = {}
        if _weights(rows) is not None:
            fit_params["model__sample_weight"] = _weights(rows)
        self.pipeline_.fit(rows[self.features_], rows["churned"], **fit_params)
        # the average customer of training: contributions are measured against it
        design = self.pipeline_.named_steps["design"]
        self.design_mean_ = np.average(design.transform(rows[self.features_]).to_numpy(), axis=0,
                                       weights=_weights(rows))
        self.calibrated_ = self.pipeline_
        self.calibrated_on_ = 0
        if calibrate_on is not None:
            cal = labelled(calibrate_on)
            if cal["churned"].nunique() == 2:
                self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.pipeline_), method=self.calibration)
                self.calibrated_.fit(cal[self.features_], cal["churned"], sample_weight=_weights(cal))
                self.calibrated_on_ = int(len(cal))
        self.classes_ = self.calibrated_.classes_
        self.train_rows_ = int(len(rows))
        self.train_positives_ = int(rows["churned"].sum())
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities per row of ``frame``: an ``(n, 2)`` array with a column per
        class of ``classes_``, so ``[:, 1]`` is P(churn within the horizon)."""
        check_is_fitted(self)
        require_features(frame, self.features_)
        parts = [self.calibrated_.predict_proba(rows[self.features_]) for rows in row_chunks(frame)]
        return np.concatenate(parts) if parts else np.empty((0, len(self.classes_)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The likelier class per row of ``frame`` (1: churns within the horizon)."""
        p = self.predict_proba(frame)
        return self.classes_[np.argmax(p, axis=1)]

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Additive terms of the log-odds per feature (logistic only), as in
        :meth:`churnlab.models.survival.SurvivalModel.contributions`."""
        check_is_fitted(self)
        if self.kind != "logistic":
            raise ValueError("additive contributions exist for the logistic model only")
        return additive_contributions(self.pipeline_.named_steps["design"], frame, self.features_,
                                      self.design_mean_, self.pipeline_.named_steps["model"].coef_[0])


def fit_classifier(train: pd.DataFrame, kind: Literal["logistic", "boosting"] = "logistic",
                   calibrate_on: pd.DataFrame | None = None, **params) -> ChurnClassifier:
    """Fit a :class:`ChurnClassifier` of ``kind``; ``params`` go to its constructor."""
    return ChurnClassifier(kind=kind, **params).fit(train, calibrate_on=calibrate_on)
