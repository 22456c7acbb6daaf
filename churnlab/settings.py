"""Run settings: one validated model, loaded from YAML, passed explicitly.

Defaults run the demo. No module reads the settings file behind the caller's back: the CLI (or a
notebook) calls :func:`load_settings` once and hands the result down.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidationSettings(_Strict):
    """How loading treats rows that break a row-level rule of the data contract.

    ``quarantine`` (default) sets them aside with their reason into ``data_quality.csv``;
    ``reject`` fails the run with the same report.
    """

    on_row_error: Literal["quarantine", "reject"] = "quarantine"


class ModelSettings(_Strict):
    """The churn models: what is compared in the backtest and how the winners are fitted."""

    snapshots: int = Field(12, ge=3, description="Monthly snapshots before the as-of date in the training set.")
    churn: Literal["contract", "inactivity"] = Field(
        "contract", description="Churn is the churn_date of customers, or also a usage gap (inactivity).")
    inactivity_days: int = Field(60, gt=0, description="The usage gap that means churn under churn: inactivity.")
    survival: list[Literal["cox", "weibull_aft"]] = Field(
        ["cox", "weibull_aft"], min_length=1, description="Survival models compared in the backtest.")
    classifiers: list[Literal["logistic", "boosting"]] = Field(
        ["logistic", "boosting"], min_length=1, description="Classifiers compared in the backtest.")
    penalizer: float = Field(0.05, ge=0, description="L2 penalty of the survival models (standardised features).")
    C: float = Field(0.1, gt=0, description="Inverse L2 strength of the logistic regression.")
    calibration: Literal["sigmoid", "isotonic"] = Field(
        "sigmoid", description="How classifier probabilities are recalibrated on the latest labelled snapshot.")
    backtest_folds: int = Field(3, ge=1, description="Rolling-origin test snapshots.")
    select_by: Literal["roc_auc", "pr_auc", "brier", "emp"] = Field(
        "roc_auc", description="Backtest figure (mean over folds) that picks the classifier.")
    max_training_rows: int = Field(200_000, gt=1000, description="Larger fitting sets are sampled with weights.")
    reasons: int = Field(3, ge=1, le=10, description="Reasons in words per customer.")


class SqlSettings(_Strict):
    """Where a run finds its database when ``--data`` is not given (see ``churnlab/sql.py``).

    Prefer a URL without a password plus ``PGPASSWORD`` (or ``~/.pgpass``) in the environment;
    a password in ``url`` works but is shown as ``**********`` in the report's settings copy.
    """

    url: SecretStr | None = Field(
        None, description="Database URL read when --data is not given, e.g. postgresql://user@host:5432/db.")
    url_env: str | None = Field(
        None, description="Name of an environment variable holding the database URL (wins over url).")


class Settings(_Strict):
    """Everything a run needs besides the data and the as-of date."""

    seed: int = Field(7, description="Seed for every random step of a run.")
    horizon_days: int = Field(90, gt=0, description="Churn horizon: P(churn within this many days).")
    validation: ValidationSettings = ValidationSettings()
    models: ModelSettings = ModelSettings()
    sql: SqlSettings = SqlSettings()


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from a YAML file; ``None`` gives the defaults.

    Unknown keys and wrong types are refused with pydantic's message, which names the key.
    """
    if path is None:
        return Settings()
    text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: settings must be a YAML mapping, got {type(data).__name__}")
    return Settings.model_validate(data)
