"""Run settings: one validated model, loaded from YAML, passed explicitly.

Defaults run the demo. No module reads the settings file behind the caller's back: the CLI (or a
notebook) calls :func:`load_settings` once and hands the result down.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator


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


class RuleSettings(_Strict):
    """Where the risk-factor and symptom rules come from (see README, "Writing rules")."""

    path: Path | None = Field(
        None, description="A rules YAML file; None uses the starter set shipped in churnlab/defaults/rules.yaml.")


class SegmentSettings(_Strict):
    """How :func:`churnlab.segments.assign_segments` cuts customers into churn segments.

    Each mapping goes from a level's label to its lower bound, in increasing order, the first
    bound being 0: a customer gets the last level whose bound it reaches.
    """

    value_tiers: dict[str, float] = Field(
        {"low": 0.0, "medium": 0.5, "high": 0.8},
        description="Value tiers by quantile of value (arr when value is absent): "
                    "label -> share of customers below the tier (medium: above the median, high: top 20%).")
    risk_levels: dict[str, float] = Field(
        {"low": 0.0, "medium": 0.15, "high": 0.35},
        description="Risk levels by churn_probability: label -> lowest probability of the level.")
    size_bands: dict[str, float] = Field(
        {"micro": 0, "small": 10, "mid": 50, "large": 250},
        description="Company size bands by company_size (employees): label -> smallest size of the band.")
    parts: list[Literal["value_tier", "risk_level", "size_band", "industry", "region", "preferred_channel"]] = Field(
        ["value_tier", "risk_level", "size_band", "industry", "region", "preferred_channel"], min_length=1,
        description="What the segment label combines, in this order.")

    @field_validator("value_tiers", "risk_levels", "size_bands")
    @classmethod
    def _increasing_from_zero(cls, levels: dict[str, float]) -> dict[str, float]:
        bounds = list(levels.values())
        if not bounds or bounds[0] != 0:
            raise ValueError("the first level's lower bound must be 0")
        if any(b <= a for a, b in zip(bounds, bounds[1:])):
            raise ValueError(f"lower bounds must increase, got {bounds}")
        if "unknown" in levels:
            raise ValueError("'unknown' is reserved for customers with a missing value")
        return levels


class Settings(_Strict):
    """Everything a run needs besides the data and the as-of date."""

    seed: int = Field(7, description="Seed for every random step of a run.")
    horizon_days: int = Field(90, gt=0, description="Churn horizon: P(churn within this many days).")
    validation: ValidationSettings = ValidationSettings()
    models: ModelSettings = ModelSettings()
    rules: RuleSettings = RuleSettings()
    segments: SegmentSettings = SegmentSettings()


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
