"""Run settings: one validated model, loaded from YAML, passed explicitly.

Defaults run the demo. No module reads the settings file behind the caller's back: the CLI (or a
notebook) calls :func:`load_settings` once and hands the result down.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


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


Tier = str  # a value tier of the segments (high, medium, low)


class ProactiveCampaign(_Strict):
    """A regular campaign: due when the last touch of its kind is older than the tier's cadence."""

    name: str
    action: str
    last_touch: str | None = Field(None, description="Feature holding days since the last such touch; "
                                                      "missing means never touched, so due.")
    cadence_days: dict[Tier, int] | None = Field(
        None, description="Days between touches per value tier; a tier left out gets no such campaign. "
                          "None: once per customer, due until the first such touch after signup.")
    zones: list[Literal["red", "watch", "healthy", "dead"]] = ["watch", "healthy"]
    max_tenure_days: int | None = Field(None, description="Only accounts this young (welcome campaigns).")
    requires: list[str] = Field([], description="Flag features that must be true (e.g. nps_promoter).")
    due_in_days: int = 14


class ReactiveCampaign(_Strict):
    """A campaign triggered by symptoms; the first matching campaign in settings order wins."""

    name: str
    on: list[str] = Field([], description="Rule names (symptoms, risk factors, alerts) that trigger it; "
                                          "empty: every customer of its zones (the Red Zone rescue).")
    zones: list[Literal["red", "watch", "healthy"]] = ["red", "watch", "healthy"]
    action: str
    actions_by_tier: dict[Tier, str] = Field({}, description="A different action for some value tiers.")


class CampaignSettings(_Strict):
    """Proactive and reactive campaigns, their owners, channels, capacity and compensation caps."""

    proactive: list[ProactiveCampaign] = [
        ProactiveCampaign(name="welcome", action="welcome call: goals, onboarding plan, first success",
                          last_touch="days_since_success_touch", max_tenure_days=45, due_in_days=7),
        ProactiveCampaign(name="status_call", action="status call: usage review and next goals",
                          last_touch="days_since_success_touch",
                          cadence_days={"high": 30, "medium": 90, "low": 180}),
        ProactiveCampaign(name="satisfaction_poll", action="satisfaction poll (NPS and comment)",
                          last_touch="days_since_last_nps", cadence_days={"high": 90, "medium": 180, "low": 180}),
        ProactiveCampaign(name="advocate_invitation", action="invitation: user group, case study or referral",
                          last_touch="days_since_marketing_touch", requires=["nps_promoter"],
                          cadence_days={"high": 90, "medium": 180, "low": 365}, zones=["healthy"]),
    ]
    reactive: list[ReactiveCampaign] = [
        ReactiveCampaign(name="critical_escalation", on=["critical_alert"], zones=["red", "watch", "healthy"],
                         action="escalation call with a senior manager within 48 hours"),
        ReactiveCampaign(name="billing_recovery", on=["payment_failed", "invoices_overdue"],
                         action="finance call: fix the payment and remove the friction"),
        ReactiveCampaign(name="support_recovery", on=["tickets_stuck", "critical_ticket_open"],
                         action="support lead call: plan to close the open tickets"),
        ReactiveCampaign(name="detractor_recovery", on=["became_detractor", "vocal_detractor"],
                         action="listen call: what went wrong and what would fix it",
                         actions_by_tier={"high": "executive sponsor meeting: hear the detractor out"}),
        ReactiveCampaign(name="usage_recovery", on=["usage_drop", "renewal_at_risk"],
                         action="adoption session: training on the unused features"),
        ReactiveCampaign(name="red_zone_rescue", on=[], zones=["red"],
                         action="rescue call: review risks and agree a save plan",
                         actions_by_tier={"high": "rescue meeting with the account team and a save plan"}),
    ]
    channels_by_tier: dict[Tier, list[str]] = Field(
        {"high": ["meeting", "phone", "email", "chat", "in_app"], "medium": ["phone", "email", "chat", "in_app"],
         "low": ["email", "in_app", "chat"], "default": ["email"]},
        description="Channels a tier may be offered, best first: the preferred channel if allowed, else the first.")
    compensation_caps: dict[Tier, float] = Field(
        {"high": 2000.0, "medium": 500.0, "low": 100.0},
        description="The most a reactive conversation may offer, agreed in advance per value tier (currency units).")
    weekly_capacity_per_owner: int = Field(15, gt=0, description="Reactive actions one owner takes per week.")
    reactive_due_in_days: int = Field(3, ge=0, description="Due date of this week's reactive actions.")
    default_owner: str = Field("customer success team", description="Owner of accounts without one.")
    exit_interview_action: str = "exit interview: why they leave, part on good terms"
    exit_interview_due_in_days: int = 14


class Settings(_Strict):
    """Everything a run needs besides the data and the as-of date."""

    seed: int = Field(7, description="Seed for every random step of a run.")
    horizon_days: int = Field(90, gt=0, description="Churn horizon: P(churn within this many days).")
    validation: ValidationSettings = ValidationSettings()
    models: ModelSettings = ModelSettings()
    campaigns: CampaignSettings = CampaignSettings()


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
