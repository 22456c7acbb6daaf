"""From a features frame to a model's design matrix, fitted on training rows only.

Every model of churnlab sees its features through :func:`make_preprocessor`, a scikit-learn
``ColumnTransformer`` fitted inside each backtest fold, so nothing about a test fold (its medians,
its categories, its scale) leaks into training:

* numeric features: median imputation with a ``<name>_missing`` indicator where values were
  missing in training, a signed ``log1p`` (counts, amounts and durations are heavy-tailed; the
  transform is monotone, so the sign of an effect reads the same), then standardisation;
* categorical features (text columns): one-hot, levels rarer than ``min_frequency`` pooled into
  ``infrequent``, unseen levels at scoring time mapped there too;
* constant columns are dropped (a penalised Cox model copes with collinear ones).

:func:`churnlab.features.catalogue.split_columns` tells features from bookkeeping columns, and
:func:`source_feature` maps a design column back to the feature it came from, which is how
additive contributions become reasons: :func:`require_features` and :func:`additive_contributions`
are the scoring steps every model shares.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

__all__ = ["make_preprocessor", "source_feature", "signed_log1p", "row_chunks", "require_features",
           "additive_contributions", "training_medians"]

SCORE_CHUNK_ROWS = 50_000


def row_chunks(frame: pd.DataFrame, rows: int = SCORE_CHUNK_ROWS):
    """``frame`` in consecutive row slices of at most ``rows``: the models score and design a
    million customers a slice at a time, so no design matrix of them all is built at once."""
    for start in range(0, len(frame), rows):
        yield frame.iloc[start:start + rows]


def signed_log1p(x):
    """``sign(x) * log1p(|x|)``: monotone, keeps zero at zero, tames heavy tails."""
    x = np.asarray(x, dtype="float64")
    return np.sign(x) * np.log1p(np.abs(x))


def _to_float(x):
    return np.asarray(x, dtype="float64")


def _level_name(feature, level) -> str:
    return f"{feature}={level}"


def _as_text(x):
    # categories, objects and pandas' missing values become plain strings for OneHotEncoder
    frame = pd.DataFrame(x).astype("object")
    return frame.where(frame.notna(), "missing").astype(str)


def make_preprocessor(numeric: list[str], categorical: list[str], min_frequency: float = 0.01,
                      scale: bool = True) -> Pipeline:
    """An unfitted transformer from the features frame to a float design matrix (pandas out).

    Parameters
    ----------
    numeric, categorical : feature names, e.g. from :func:`split_columns`.
    min_frequency : one-hot levels rarer than this share of training rows are pooled.
    scale : ``False`` skips the log and standardisation (tree models need neither).

    Returns
    -------
    A ``Pipeline`` whose ``transform`` gives a DataFrame with columns named ``<feature>``,
    ``<feature>_missing`` or ``<feature>=<level>``.
    """
    steps = [SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=False)]
    if scale:
        steps += [FunctionTransformer(signed_log1p, feature_names_out="one-to-one"), StandardScaler()]
    numeric_pipe = Pipeline([(f"s{i}", s) for i, s in enumerate(steps)])
    categorical_pipe = Pipeline([
        ("text", FunctionTransformer(_as_text, feature_names_out="one-to-one")),
        ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
                                 sparse_output=False, feature_name_combiner=_level_name)),
    ])
    parts = []
    if numeric:
        parts.append(("num", Pipeline([("float", FunctionTransformer(_to_float, feature_names_out="one-to-one")),
                                       ("impute", numeric_pipe)]), list(numeric)))
    if categorical:
        parts.append(("cat", categorical_pipe, list(categorical)))
    columns = ColumnTransformer(parts, verbose_feature_names_out=False, remainder="drop")
    pipe = Pipeline([("columns", columns), ("constant", VarianceThreshold(0.0))])
    return pipe.set_output(transform="pandas")


def source_feature(design_column: str, features: Iterable[str]) -> str:
    """The feature a design column came from (``plan=pro`` → ``plan``, ``x_missing`` → ``x``)."""
    known = set(features)
    if design_column in known:
        return design_column
    if "=" in design_column and design_column.split("=", 1)[0] in known:
        return design_column.split("=", 1)[0]
    if design_column.startswith("missingindicator_"):
        return design_column[len("missingindicator_"):]
    if design_column.endswith("_missing") and design_column[: -len("_missing")] in known:
        return design_column[: -len("_missing")]
    raise KeyError(f"design column {design_column!r} comes from no known feature")


def training_medians(design: Pipeline) -> pd.Series:
    """The training median of each numeric feature, as the fitted ``design`` (from
    :func:`make_preprocessor`) learnt it to fill missing values: the typical customer that reasons
    compare a value with. Empty when the design has no numeric features."""
    columns = design.named_steps["columns"]
    for name, pipe, names in columns.transformers_:
        if name == "num":
            imputer = pipe.named_steps["impute"].steps[0][1]
            return pd.Series(imputer.statistics_, index=list(names), dtype="float64")
    return pd.Series(dtype="float64")


def require_features(frame: pd.DataFrame, features: Iterable[str]) -> None:
    """Raise ``ValueError`` naming (the first ten of) the ``features`` a model was fitted on that
    ``frame`` lacks; a frame to score must hold them all."""
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise ValueError(f"features missing from the frame to score: {', '.join(missing[:10])}")


def additive_contributions(design: Pipeline, frame: pd.DataFrame, features: list[str],
                           design_mean: np.ndarray, coef: np.ndarray) -> pd.DataFrame:
    """Additive terms of a linear score per feature, against the average customer of training.

    Parameters
    ----------
    design : the fitted preprocessor of the model (from :func:`make_preprocessor`).
    frame : the rows to explain; must hold every one of ``features``.
    features : the features the model was fitted on, in order.
    design_mean : the mean design row of training (one value per design column).
    coef : the model's coefficient per design column, on the scale of its score (log-odds,
        log-risk), signed so that positive raises the score.

    Returns
    -------
    DataFrame indexed as ``frame``, one column per feature: ``(x - design_mean) * coef`` summed
    over the design columns of that feature (its levels, its missing indicator, via
    :func:`source_feature`); a feature whose columns were all dropped as constant gets 0.
    """
    require_features(frame, features)
    X = design.transform(frame[features])
    terms = pd.DataFrame((X.to_numpy() - design_mean) * coef, columns=X.columns, index=frame.index)
    owner = [source_feature(c, features) for c in X.columns]
    return terms.T.groupby(owner, sort=False).sum().T.reindex(columns=features, fill_value=0.0)
