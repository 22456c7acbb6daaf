"""Run settings: one validated model, loaded from YAML, passed explicitly.

Defaults run the demo. No module reads the settings file behind the caller's back: the CLI (or a
notebook) calls :func:`load_settings` once and hands the result down.
"""
from __future__ import annotations

import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from churnlab.settings_errors import explain, yaml_problem


class SettingsWarning(UserWarning):
    """Settings that load but probably not as meant (an empty settings file gives the defaults).
    The CLI prints these as ``warning: ...`` lines."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidationSettings(_Strict):
    """How loading treats rows that break a row-level rule of the data contract.

    ``quarantine`` (default) sets them aside with their reason into ``data_quality.csv``;
    ``reject`` fails the run with the same report.
    """

    on_row_error: Literal["quarantine", "reject"] = Field(
        "quarantine", description="quarantine: a row that breaks a row-level rule is set aside and listed in "
                                  "data_quality.csv; reject: any such row stops the run.")
    chunk_rows: int = Field(
        4_000_000, gt=0,
        description="A run validates tables with more rows than this chunk by chunk into its work folder, never "
                    "holding them whole in memory (the event log of a million customers is 95 M rows); "
                    "same checks and results as in memory (churnlab.data.chunked). Folder sources read without a "
                    "mapping only: a mapped export is read whole.")
    numeric_share: float = Field(
        0.95, gt=0.5, le=1.0,
        description="An extra customers column (not listed under a mapping's numeric) whose filled cells are numbers "
                    "in at least this share is read as numbers; its few other cells (a stray '?') set their rows "
                    "aside into data_quality.csv (not_a_number) instead of turning the column into text categories. "
                    "1.0: only columns of numbers alone.")


class ModelSettings(_Strict):
    """The churn models: what is compared in the backtest and how the winners are fitted."""

    snapshots: int = Field(12, ge=3, description="Monthly snapshots before the as-of date in the training set.")
    churn: Literal["contract", "inactivity"] = Field(
        "contract", description="Churn is the churn_date of customers, or also a usage gap (inactivity).")
    inactivity_days: int | None = Field(
        None, gt=0,
        description="Under churn: inactivity, a customer churned this many days after its last use when no use "
                    "followed in between, and is active again at its next use. None: chosen from the data, the 90% "
                    "quantile of the gaps between a customer's days of use rounded up to weeks (the run logs it and "
                    "warns when a set window looks implausible).")
    survival: list[Literal["cox", "weibull_aft"]] = Field(
        ["cox", "weibull_aft"], min_length=1, description="Survival models compared in the backtest.")
    classifiers: list[Literal["logistic", "boosting"]] = Field(
        ["logistic", "boosting"], min_length=1, description="Classifiers compared in the backtest.")
    penalizer: float = Field(0.05, ge=0, description="L2 penalty of the survival models (standardised features).")
    C: float = Field(0.1, gt=0, description="Inverse L2 strength of the logistic regression.")
    calibration: Literal["sigmoid", "isotonic"] = Field(
        "sigmoid", description="How classifier probabilities are recalibrated on the latest labelled snapshot.")
    backtest: Literal["auto", "rolling", "cross_section"] = Field(
        "auto", description="rolling: fit on earlier snapshots, test on later ones; cross_section: test across "
                            "the customers of the latest labelled snapshot (flat tables that only know one month "
                            "of churn); auto: rolling when every rolling fold has churners to fit on.")
    backtest_folds: int = Field(3, ge=1, description="Rolling-origin test snapshots (cross_section: test parts).")
    select_by: Literal["roc_auc", "pr_auc", "brier", "emp"] = Field(
        "roc_auc", description="Backtest figure (mean over folds) that picks the classifier.")
    max_training_rows: int = Field(
        60_000, gt=1000,
        description="Larger fitting sets are sampled with weights (all churners while they fill half, weighted "
                    "non-churners). On the 100,000-customer demo (620,000 rows) 60,000 rows gave the concordance "
                    "and ROC AUC of 200,000 within 0.002 in a third of the fit time.")
    reasons: int = Field(3, ge=1, le=10, description="Reasons in words per customer.")
    leakage_auc: float = Field(
        0.98, gt=0.5, le=1.0,
        description="A feature whose ROC AUC alone (either direction, on the backtest's training part) reaches "
                    "this gives the label away: it is named in the run's output and left out of the models "
                    "(churnlab.models.leakage), as is a customer column named like a churn date, reason or status "
                    "or filled in only for churners.")
    keep_features: list[str] = Field(
        [], description="Features the leakage guard reports but leaves in the models on purpose (e.g. an honest "
                        "feature that truly separates churners that well).")
    n_jobs: int = Field(2, ge=1, description="Model fits run side by side, this many at a time (processes); "
                                              "the figures do not depend on it.")


Tier = str  # a value tier of the segments (high, medium, low)


class ProactiveCampaign(_Strict):
    """A regular campaign: due when the last touch of its kind is older than the tier's cadence."""

    name: str = Field(description="The campaign's name, in the target lists.")
    action: str = Field(description="What the owner does, in words (e.g. 'quarterly business review').")
    last_touch: str | None = Field(None, description="Feature holding days since the last such touch; "
                                                      "missing means never touched, so due.")
    cadence_days: dict[Tier, int] | None = Field(
        None, description="Days between touches per value tier ('default': a tier not listed, such as an unknown "
                          "value); a tier left out without a default gets no such campaign. "
                          "None: once per customer, due until the first such touch after signup.")
    zones: list[Literal["red", "watch", "healthy", "dead"]] = Field(
        ["watch", "healthy"], description="Zones whose customers the campaign is for.")
    max_tenure_days: int | None = Field(None, description="Only accounts this young (welcome campaigns).")
    requires: list[str] = Field([], description="Flag features that must be true (e.g. nps_promoter).")
    due_in_days: int = Field(14, description="Days from the as-of date to the row's due date.")
    channels: list[str] = Field([], description="Channels this campaign may use, best first (a poll is not a "
                                "phone call); empty: those of the customer's value tier.")


class ReactiveCampaign(_Strict):
    """A campaign triggered by symptoms; the first matching campaign in settings order wins."""

    name: str = Field(description="The campaign's name, in the target lists.")
    on: list[str] = Field([], description="Rule names (symptoms, risk factors, alerts) that trigger it; "
                                          "empty: every customer of its zones (the Red Zone rescue).")
    zones: list[Literal["red", "watch", "healthy"]] = Field(
        ["red", "watch", "healthy"], description="Zones whose customers the campaign is for.")
    action: str = Field(description="What the owner does, in words (e.g. 'rescue call').")
    actions_by_tier: dict[Tier, str] = Field({}, description="A different action for some value tiers.")
    channels: list[str] = Field([], description="Channels the action may use, best first (a finance call is "
                                "made by phone); empty: those of the customer's value tier.")
    channels_by_tier: dict[Tier, list[str]] = Field(
        {}, description="Other channels for some value tiers (a meeting for the high tier's meeting action).")
    cooldown_days: int = Field(30, ge=0, description="A customer listed for (or acted on by) this campaign is not "
                               "listed for it again within this many days, unless a new critical rule fires.")


class Offer(_Strict):
    """One offer of the compensation menu: what a conversation may give to keep a customer."""

    name: str = Field(description="The offer in words, as the target list shows it (e.g. '1 bonus month').")
    cost: float = Field(ge=0, description="What the offer costs (currency units); counted in the expected gain.")
    tiers: list[Tier] = Field([], description="Value tiers it may be offered to; empty: every tier.")


ListName = Literal["reactive", "exit_interviews", "proactive"]


class CampaignSettings(_Strict):
    """Proactive and reactive campaigns, their owners, channels, capacity and compensation caps."""

    proactive: list[ProactiveCampaign] = [
        ProactiveCampaign(name="welcome", action="welcome call: goals, onboarding plan, first success",
                          last_touch="days_since_success_touch", max_tenure_days=45, due_in_days=7,
                          channels=["phone", "meeting"]),
        ProactiveCampaign(name="status_call", action="status check-in: usage review and next goals",
                          last_touch="days_since_success_touch",
                          cadence_days={"high": 30, "medium": 90, "low": 180, "default": 180},
                          channels=["meeting", "phone", "chat", "email"]),
        ProactiveCampaign(name="satisfaction_poll", action="satisfaction poll (NPS and comment)",
                          last_touch="days_since_last_nps",
                          cadence_days={"high": 90, "medium": 180, "low": 180, "default": 180},
                          channels=["email", "in_app"]),
        ProactiveCampaign(name="advocate_invitation", action="invitation: user group, case study or referral",
                          last_touch="days_since_marketing_touch", requires=["nps_promoter"],
                          cadence_days={"high": 90, "medium": 180, "low": 365, "default": 365}, zones=["healthy"],
                          channels=["email", "phone", "meeting"]),
    ]
    reactive: list[ReactiveCampaign] = [
        ReactiveCampaign(name="escalation", on=["several_warning_signs"],
                         action="escalation: senior manager call within 48 hours, joint recovery plan",
                         channels=["phone", "meeting"]),
        ReactiveCampaign(name="renewal_rescue", on=["renewal_with_usage_drop"],
                         action="renewal review: value delivered, adoption plan, terms",
                         actions_by_tier={"high": "renewal meeting with the account team and an adoption plan"},
                         channels=["phone", "meeting", "email"], channels_by_tier={"high": ["meeting"]}),
        ReactiveCampaign(name="billing_recovery", on=["payment_failed", "invoices_overdue"],
                         action="finance call: fix the payment and remove the friction", channels=["phone"]),
        ReactiveCampaign(name="detractor_recovery",
                         on=["nps_promoter_to_detractor", "vocal_detractor", "unhappy", "nps_dropped"],
                         action="listening call: what went wrong and what would fix it",
                         actions_by_tier={"high": "executive sponsor meeting: hear the detractor out"},
                         channels=["phone", "meeting"], channels_by_tier={"high": ["meeting"]}),
        ReactiveCampaign(name="support_recovery", on=["tickets_stuck", "poor_support_experience", "complaints"],
                         action="support lead call: a plan to close the open tickets", channels=["phone"]),
        ReactiveCampaign(name="adoption_recovery",
                         on=["disengaging", "usage_halved", "usage_stopped", "success_gone_quiet", "shrinking_team",
                             "downgraded"],
                         action="adoption session: training on the unused features", channels=["meeting", "phone"]),
        ReactiveCampaign(name="rescue", on=[], zones=["red", "watch", "healthy"],
                         action="rescue call: review the risks and agree a save plan",
                         actions_by_tier={"high": "rescue meeting with the account team and a save plan"},
                         channels=["phone"], channels_by_tier={"high": ["meeting"]}, cooldown_days=60),
    ]
    channels_by_tier: dict[Tier, list[str]] = Field(
        {"high": ["meeting", "phone", "email", "chat", "in_app"], "medium": ["phone", "email", "chat", "in_app"],
         "low": ["email", "in_app", "chat"], "default": ["email"]},
        description="Channels a tier may be offered, best first: the preferred channel if allowed, else the first.")
    compensation_caps: dict[Tier, float] = Field(
        {"high": 2000.0, "medium": 500.0, "low": 100.0, "default": 100.0},
        description="The most a reactive conversation may offer, agreed in advance per value tier (currency units); "
                    "'default' for a tier not listed (an unknown value).")
    compensation_share_of_gain: float = Field(
        0.5, ge=0, le=1, description="The cap is at most this share of the row's expected gain: never more than "
        "a save is worth (the tier's cap where the value is unknown).")
    offers: list[Offer] = Field([], description="An optional menu of offers (bonus months, extra seats, training); "
                                "a reactive row gets the costliest that fits under its cap, and its cost is taken "
                                "off the expected gain.")
    weekly_capacity: dict[ListName, int] = Field(
        {"reactive": 15, "exit_interviews": 5, "proactive": 40},
        description="Rows one owner works per week, per list; what does not fit waits for the next week (backlog).")
    list_priority: list[ListName] = Field(
        ["reactive", "exit_interviews", "proactive"],
        description="A customer due on several lists goes on the first of these (the others in also_due).")
    max_wait_days: int = Field(28, ge=0, description="A row carried over for longer than this expires (named in the "
                               "plan and notebook 05): an old trigger is no longer news.")
    reactive_due_in_days: int = Field(3, ge=0, description="Due date of this week's reactive actions.")
    default_owner: str = Field("customer success team", description="Owner of accounts without one.")
    holdout_share: float = Field(0.1, ge=0, lt=1, description="Share of each reactive campaign's rows (the rescue included) drawn at random, among those that fit the week's capacity and are listed for the first time, into a control group and not contacted, to measure what the campaign does (holdouts.csv, campaign_effects.csv); 0 turns control groups off. A held-out customer stays held out, on no list, for the campaign's cooldown_days.")
    measured_min_customers: int = Field(100, ge=1, description="Once a campaign's contacted and held-out customers whose horizon has passed both reach this number (campaign_effects), its measured uplift replaces the history-based P(save) in its rows' expected gain.")
    holdout_seed: int = Field(7, description="Seed of the control-group draw: the same customers, campaign, date and seed give the same holdouts.")
    team_size: int = Field(1, ge=1, description="People behind default_owner: its weekly capacity is this many "
                           "owners' (a table without account owners, such as a flat CRM export, has only the team).")
    exit_interview_action: str = Field("exit interview: why they leave, part on good terms",
                                       description="The action of every exit-interview row.")
    exit_interview_min_probability: float = Field(
        0.5, ge=0, le=1, description="Dead Zone customers this likely to leave get an exit interview before they go "
        "(customers who churned since the previous run get one anyway); each customer is asked once.")
    exit_interview_channels: list[str] = Field(["phone", "meeting", "email"],
                                               description="Channels of an exit interview, best first.")
    exit_interview_due_in_days: int = Field(14, description="Days from the as-of date to an exit interview's due date.")

    @model_validator(mode="before")
    @classmethod
    def _old_capacity(cls, data):
        # one reactive capacity was all there was: an old settings file still loads
        if isinstance(data, dict) and "weekly_capacity_per_owner" in data:
            data = dict(data)
            old = data.pop("weekly_capacity_per_owner")
            data["weekly_capacity"] = {**dict(data.get("weekly_capacity") or
                                              {"reactive": 15, "exit_interviews": 5, "proactive": 40}),
                                       "reactive": old}
            warnings.warn("campaigns.weekly_capacity_per_owner is now campaigns.weekly_capacity.reactive",
                          SettingsWarning, stacklevel=2)
        return data

    @model_validator(mode="after")
    def _every_list(self):
        lists = ("reactive", "exit_interviews", "proactive")
        if sorted(self.list_priority) != sorted(lists):
            raise ValueError(f"campaigns: list_priority must name each of {', '.join(lists)} once, "
                             f"got {self.list_priority}")
        missing = [name for name in lists if name not in self.weekly_capacity]
        if missing or any(v <= 0 for v in self.weekly_capacity.values()):
            raise ValueError(f"campaigns: weekly_capacity needs a number > 0 for each of {', '.join(lists)}, "
                             f"got {self.weekly_capacity}")
        return self


class MoneySettings(_Strict):
    """Where a customer's money comes from when the data has no subscriptions (no ``mrr``).

    ``column`` is a number per customer: an extra column of ``customers`` (a mapping keeps it
    under its own name; list it under ``numeric``) or a feature. ``per`` says what the amount is.
    ``month`` or ``year``: revenue charged per month or per year (Telco's ``MonthlyCharges``, an
    annual fee, a purchase log's spending of the last year). ``total``: revenue summed over the
    customer's tenure so far (Telco's ``TotalCharges``, a purchase log's total spent), spread over
    the months of tenure (``tenure_days``, at least one month). ``balance``: an amount the customer
    holds (a bank balance, assets under management); a balance is not revenue but earns the
    business ``rate`` a year of what is held, so ``rate`` is required (0.02 for a 2% net interest
    margin). Monthly money = the amount per month (``balance``: amount x ``rate`` / 12); monthly
    margin = monthly money x ``rate`` (default ``value.margin_rate``; for a balance the monthly
    money is margin already); ``arr`` = 12 x monthly money. A missing or negative amount counts 0.
    """

    column: str = Field(..., min_length=1, description="The customer column or feature holding the amount.")
    per: Literal["month", "year", "total", "balance"] = Field(
        "month", description="month or year: revenue per month or per year; total: revenue over the tenure so far; "
                             "balance: an amount held, earning rate per year.")
    rate: float | None = Field(
        None, ge=0, le=1,
        description="month, year, total: the share of the amount that is margin (default value.margin_rate); "
                    "balance (required): the margin earned per year on each unit held, e.g. 0.02.")

    @model_validator(mode="after")
    def _balance_has_rate(self):
        if self.per == "balance" and self.rate is None:
            raise ValueError(f"money column {self.column!r} is a balance: a balance is not margin, so give rate, "
                             "the margin it earns per year per unit held (e.g. rate: 0.02 for 2%)")
        return self

    def describe(self) -> str:
        """What the amount is, in words: ``per month``, ``total over tenure``, ``balance at 2% a year``."""
        if self.per == "balance":
            return f"balance at {100 * self.rate:g}% a year"
        return "total over tenure" if self.per == "total" else f"per {self.per}"


class ValueSettings(_Strict):
    """What a customer is worth: discounted future margin + advocacy + expansion (churnlab.decide.value).

    ``expected_margin`` = sum over the next ``horizon_months`` months k of
    mrr x ``margin_rate`` x S(k months) x (1 + ``annual_discount_rate``) ** (-k / 12), with S the
    customer's survival curve from the churn model. ``advocacy_value`` =
    ``value_per_reach`` x (``promoter_weight`` x positive reach + ``detractor_weight`` x negative
    reach) for customers whose public voice reached at least ``vocal_reach_min`` people in the
    last year, plus ``value_per_referral`` x referrals in the last year. ``expansion_value`` =
    ``expansion_probability`` x ``margin_rate`` x mrr per seat x extra seats x the same
    discounted survival annuity, for customers using at least ``seat_use_near_limit`` of their
    seats; extra seats = ceil(seats x ``expansion_seat_share``).

    The money behind ``expected_margin`` is, in this order: subscription MRR when some customer
    has any; else the ``money`` column (or the mapping's ``money``); else ``constant`` as every
    customer's expected margin; else none: ``value`` is left empty (unknown) and the zones use risk
    alone. The value frame's ``attrs["value_source"]`` says which.
    """

    horizon_months: int = Field(24, ge=1, le=120, description="Months of future margin counted in the value.")
    margin_rate: float = Field(0.7, ge=0, le=1, description="Gross margin as a share of MRR.")
    annual_discount_rate: float = Field(0.10, ge=0, le=1, description="Yearly rate future margin is discounted at.")
    value_per_reach: float = Field(0.25, ge=0, description="Value of one person reached by a vocal customer's public voice (a year).")
    vocal_reach_min: int = Field(1000, ge=0, description="Audience in the last year from which a customer counts as vocal.")
    promoter_weight: float = Field(1.0, ge=0, description="Weight of positive reach in the advocacy value.")
    detractor_weight: float = Field(1.0, ge=0, description="Weight of negative reach: a vocal detractor turned round is worth as much as a promoter.")
    value_per_referral: float = Field(500.0, ge=0, description="Value of one referral in the last year.")
    seat_use_near_limit: float = Field(0.9, gt=0, le=1, description="Share of seats in use (active users in 30 days / seats) that counts as near the limit.")
    expansion_seat_share: float = Field(0.2, gt=0, description="Extra seats a customer near the limit would buy, as a share of its seats.")
    expansion_probability: float = Field(0.3, ge=0, le=1, description="Chance that a customer near its seat limit expands.")
    money: MoneySettings | None = Field(
        None, description="Where money comes from without subscriptions, e.g. {column: MonthlyCharges, per: month}; "
                          "wins over the mapping's money.")
    constant: float | None = Field(
        None, ge=0, description="The value of every customer when there is neither subscription MRR nor a money column; "
                                "without it value is unknown (empty) and zones use risk alone.")


class HealthSettings(_Strict):
    """The health score 0-100 (churnlab.decide.health): weights of the components, band cut-offs.

    ``weights: manual`` uses ``weights`` as given; ``learned`` sets them from the churn model of a
    bundle (absolute standardised coefficients summed per component). A component a customer
    has no data for is left out and the other weights are scaled up (never scored as zero).
    """

    weights_from: Literal["manual", "learned"] = Field(
        "manual", description="Component weights as written below, or learned from the churn model.")
    weights: dict[Literal["usage", "adoption", "trend", "nps", "sentiment", "support", "billing"], float] = Field(
        {"usage": 0.20, "adoption": 0.15, "trend": 0.15, "nps": 0.15, "sentiment": 0.10, "support": 0.15,
         "billing": 0.10},
        description="Relative weight of each component (need not sum to 1).")
    good_min: float = Field(75.0, ge=0, le=100, description="Scores from this are in the good band.")
    fair_min: float = Field(60.0, ge=0, le=100, description="Scores from this (below good) are fair.")
    weak_min: float = Field(40.0, ge=0, le=100, description="Scores from this (below fair) are weak; below it poor.")

    @model_validator(mode="before")
    @classmethod
    def _colour_names(cls, data):
        # the bands were colours until they collided with the Red Zone: old settings files still load
        if isinstance(data, dict):
            data = dict(data)
            for old, new in (("green_min", "good_min"), ("yellow_min", "fair_min"), ("amber_min", "weak_min")):
                if old in data and new not in data:
                    data[new] = data.pop(old)
                    warnings.warn(f"health.{old} is now health.{new} (bands are good, fair, weak, poor)",
                                  SettingsWarning, stacklevel=2)
        return data

    @model_validator(mode="after")
    def _ordered(self):
        if not self.good_min >= self.fair_min >= self.weak_min:
            raise ValueError(f"health band cut-offs must satisfy good_min >= fair_min >= weak_min, "
                             f"got {self.good_min}, {self.fair_min}, {self.weak_min}")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("health weights must be >= 0")
        return self


_LIFT = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*x\s*)?base[ _]rate\s*$", re.I)
_SHARE = re.compile(r"^\s*top\s+(\d+(?:\.\d+)?)\s*%\s*$", re.I)


def parse_risk_threshold(value: float | str) -> tuple[str, float]:
    """``zones.risk_threshold`` as ``(kind, number)``: ``("probability", 0.25)``, ``("lift", 2.0)``
    for '2x base_rate' (and ``("lift", 1.0)`` for 'base_rate') or ``("share", 0.1)`` for 'top 10%'.
    Raises ValueError saying which forms are allowed."""
    forms = "a probability between 0 and 1 (0.25), a lift such as '2x base_rate', or a share such as 'top 10%'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 < float(value) < 1:
            return "probability", float(value)
        raise ValueError(f"zones: risk_threshold {value} is not {forms}")
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return parse_risk_threshold(number)
    if (m := _LIFT.match(text)) is not None:
        lift = float(m.group(1)) if m.group(1) else 1.0
        if lift > 0:
            return "lift", lift
    if (m := _SHARE.match(text)) is not None and 0 < float(m.group(1)) <= 100:
        return "share", float(m.group(1)) / 100
    raise ValueError(f"zones: risk_threshold {value!r} is not {forms}")


class ZoneSettings(_Strict):
    """Saveability and the Red / Dead / watch / healthy zones (churnlab.decide.zones).

    P(save | action) per segment = (saved + k x p0) / (attempts + k), where p0 is the pooled
    rate of all segments itself shrunk towards the prior: p0 = (saved_all + ``prior_strength`` x
    ``prior_save_rate``) / (attempts_all + ``prior_strength``), and k = ``segment_strength``, a
    number of past actions or ``estimated`` from how much the segments' observed rates scatter
    beyond chance (see churnlab.decide.zones).
    """

    risk_threshold: float | str = Field(
        "2x base_rate", description="churn_probability from which a customer is at risk: a probability "
        "(0.25), a lift over the base rate ('2x base_rate': twice the mean churn_probability of the scored "
        "customers; 'base_rate' = '1x base_rate') or a share of customers ('top 10%'). Notebook 04 prints the "
        "at-risk set's precision and lift in the backtest for this and the other choices.")
    watch_ratio: float = Field(0.5, ge=0, le=1, description="Below the risk threshold, customers from this share "
                               "of it are watched; below that, healthy.")
    action_cost: float = Field(200.0, ge=0, description="Cost of one retention action (staff time, compensation).")
    saved_after_days: int = Field(90, gt=0, description="An accepted action counts as a save when the customer is still there this many days later.")
    prior_save_rate: float = Field(0.3, gt=0, lt=1, description="Mean of the Beta prior of P(save | action) when history is thin or absent.")
    prior_strength: float = Field(20.0, gt=0, description="Weight of the prior, in past actions.")
    uplift_interval: float = Field(0.95, gt=0, lt=1, description="Level of the intervals around save rates and uplifts by action and segment (action_rates).")
    segment_strength: float | Literal["estimated"] = Field(
        "estimated", description="Weight of the pooled rate when shrinking a segment's rate, in past actions; "
        "'estimated' = learnt from the history by empirical Bayes (beta-binomial likelihood of the segments' "
        "saves): segments that differ no more than chance allows all get the pooled rate.")

    @model_validator(mode="after")
    def _probability(self):
        if self.segment_strength != "estimated" and not float(self.segment_strength) > 0:
            raise ValueError(f"zones: segment_strength must be 'estimated' or a number of past actions > 0, "
                             f"got {self.segment_strength}")
        parse_risk_threshold(self.risk_threshold)  # says what is wrong with it
        return self
class RuleSettings(_Strict):
    """Where the risk-factor and symptom rules come from (see README, "Writing rules")."""

    path: Path | None = Field(
        None, description="A rules YAML file; None uses the starter set shipped in churnlab/defaults/rules.yaml.")


class SegmentSettings(_Strict):
    """How :func:`churnlab.decide.segments.assign_segments` cuts customers into churn segments.

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

#: The contract tables a mapping may fill (the order of ``docs/data-contract.md``).
ContractTable = Literal["customers", "subscriptions", "usage_events", "support_tickets", "surveys",
                        "invoices", "touchpoints", "advocacy", "interventions"]
Cell = Union[str, int, float, bool, None]


def _text_keys(value):
    """Value-map keys as the text a CSV cell holds (YAML reads ``1:`` as a number)."""
    if isinstance(value, dict):
        return {(str(k).lower() if isinstance(k, bool) else str(k)): v for k, v in value.items()}
    return value


class ChurnFlagMapping(_Strict):
    """A yes/no churn column of a flat table whose "churned" means: left in the month before the
    as-of date (the IBM Telco table's ``Churn``). A churned customer gets as ``churn_date`` the
    first day of the month that ends on the as-of date (see ``churnlab.data.mapping.churn_month_date``);
    an active one none."""

    column: str = Field(..., description="The source column holding the flag (dropped afterwards: as a feature it "
                                         "would hand the models the answer).")
    values: dict[str, Literal["churned", "active"]] = Field(
        ..., min_length=1, description="Source value -> churned or active; a row with any other value is quarantined.")

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value):
        return _text_keys(value)


class TableMapping(_Strict):
    """How one source table (a file or a database table) becomes one contract table.

    The file is read with ``encoding``, ``separator`` (CSV) or ``sheet`` (``.xlsx``). Then, in this
    order: cells are stripped of surrounding blanks (a blank cell is missing), ``values`` are
    mapped, ``numeric`` and ``date_formats`` columns are parsed (numbers with ``decimal``; a row with
    a cell that does not parse is quarantined with its reason), ``compute`` adds its columns,
    ``tenure_months`` and ``churn_flag`` become ``signup_date`` and ``churn_date``, ``columns`` are
    renamed and ``constants`` added. Every other column, source or computed, except those under
    ``drop``, is kept under its own name (on customers: a candidate feature) unless
    ``keep_other_columns`` is false.
    """

    source: str | None = Field(
        None, description="The source's file stem or table name; default: the contract name (or the one file given as --data).")
    columns: dict[str, str] = Field({}, description="Contract column -> source column.")
    constants: dict[str, Cell] = Field({}, description="Contract column -> the same value on every row.")
    values: dict[str, dict[str, Cell]] = Field(
        {}, description="Source column -> {source value: value}; values not listed stay as they are.")
    date_formats: dict[str, str] = Field(
        {}, description="Source column -> strptime format of its dates (e.g. '%d/%m/%Y'); default ISO.")
    numeric: list[str] = Field(
        [], description="Source columns holding numbers: blank cells become missing, other text is quarantined.")
    tenure_months: str | None = Field(
        None, description="customers only: a source column of whole months as a customer, turned into signup_date "
                          "counted back from the as-of date (and dropped).")
    churn_flag: ChurnFlagMapping | None = Field(None, description="customers only: a churned/active column.")
    keep_other_columns: bool = Field(
        True, description="Keep the source and computed columns not named above as extra columns (on customers: "
                          "candidate features); false keeps only the columns the mapping names.")
    drop: list[str] = Field(
        [], description="Source columns never kept (row numbers, names, a column that gives the answer away); "
                        "compute may still read them. A name the source lacks is an error listing its columns.")
    compute: dict[str, str] = Field(
        {}, description="New column -> an expression over source columns, in the rules' language (+ - * /, "
                        "comparisons, abs, min, max, coalesce; `Name With Spaces` in backticks), e.g. "
                        "tenure_months: Tenure * 12. Computed before tenure_months, churn_flag and columns read "
                        "them; a later entry may read an earlier one.")
    encoding: str | None = Field(
        None, description="The text encoding of a CSV source (latin-1, cp1252, utf-16, ...); default UTF-8.")
    separator: str | None = Field(
        None, description="The column separator of a CSV or .txt source: ';' for most European exports, '\\t' for a "
                          "tab, 'whitespace' for columns lined up by runs of blanks (a .txt log); default ',' "
                          "(a .tsv file: a tab).")
    decimal: Literal[".", ","] = Field(
        ".", description="The decimal mark of numbers written as text: ',' reads '12,5' as 12.5 and '1.234,56' as "
                         "1234.56 (thousands grouped in threes by '.', a space or an apostrophe; '1.5' is then "
                         "not a number). Applies to numeric columns and to extra columns read as numbers.")
    sheet: str | int | None = Field(
        None, description="The sheet of an .xlsx source, by name or 0-based position; default the first.")
    column_names: list[str] | None = Field(
        None, description="A CSV or .txt source without a header row: the names of its columns, in file order "
                          "(e.g. [customer_id, date, number_of_cds, dollar_value] for the original CDNOW_master.txt); "
                          "the first line is then data. The other keys name columns by these names.")
    repeated_rows: Literal["quarantine", "keep"] = Field(
        "quarantine", description="Rows of an event table identical in every mapped column: 'quarantine' sets each "
                                  "copy aside as a duplicate (a table loaded twice); 'keep' counts each as an event "
                                  "of its own (a purchase log without an order id, where two equal purchases on "
                                  "one day are two purchases), numbered in an added column repeat (0 for the "
                                  "first, 1 for the next copy, ...).")

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value):
        return {c: _text_keys(m) for c, m in value.items()} if isinstance(value, dict) else value

    from_events: Literal["usage_events"] | None = Field(
        None, description="customers only: build the customers table from this mapped event table (a purchase log "
                          "without a customers file): one row per customer_id, signup_date the day of its first "
                          "event. The entry then has no source and no other keys but from_first_event.")
    from_first_event: list[str] = Field(
        [], description="customers built from_events only: columns of the event table (kept extra columns, e.g. "
                        "region, store, first_channel) copied to each customer from its first event, as extra "
                        "customer columns (candidate features). The first event's value is known from signup on, "
                        "so no later row leaks into an earlier date; a column of numbers stays numbers.")

    @field_validator("separator")
    @classmethod
    def _one_character(cls, value):
        if value is not None and value != "whitespace" and len(value) != 1:
            raise ValueError(f"the separator is one character (';', ',', '|' or a tab) or 'whitespace', got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value):
        import codecs

        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, latin-1, cp1252, utf-16") from None
        return value

    @model_validator(mode="after")
    def _separator_is_not_the_decimal_mark(self):
        if self.separator is not None and self.separator == self.decimal:
            raise ValueError(f"separator and decimal are both {self.decimal!r}; a CSV with decimal commas is "
                             "separated by ';' (separator: ';')")
        return self

    def read_options(self) -> dict:
        """The keys that say how the source file is read (those set), as ``{key: value}``."""
        return {k: getattr(self, k) for k in ("encoding", "separator", "sheet", "column_names")
                if getattr(self, k) is not None}


class MappingSettings(_Strict):
    """A source's tables and columns mapped onto the data contract (see README, "Your own data: mappings")."""

    description: str = Field("", description="What source this mapping is for.")
    tables: dict[ContractTable, TableMapping] = Field(..., min_length=1, description="Contract table -> its mapping.")
    money: MoneySettings | None = Field(
        None, description="The customers column of this source that holds money, for customer value when there are "
                          "no subscriptions (value.money in the settings wins); list it under tables.customers.numeric.")

    @model_validator(mode="after")
    def _events_make_customers(self):
        for table, tm in self.tables.items():
            if tm.from_events is None:
                continue
            if table != "customers":
                raise ValueError(f"tables.{table}.from_events: only the customers table is built from events")
            if tm.from_events not in self.tables:
                raise ValueError(f"tables.customers.from_events: {tm.from_events!r} is not mapped; add a "
                                 f"tables.{tm.from_events} entry that reads the event log")
            blank = TableMapping()
            others = sorted(k for k in type(tm).model_fields
                            if k not in ("from_events", "from_first_event") and getattr(tm, k) != getattr(blank, k))
            if others:
                raise ValueError(f"tables.customers.from_events: customers built from events take no other keys "
                                 f"(found {', '.join(others)}); set them on tables.{tm.from_events}")
        return self

    @model_validator(mode="after")
    def _money_is_a_kept_number(self):
        if self.money is None:
            return self
        where = f"mapping money.column {self.money.column!r}"
        customers = self.tables.get("customers")
        if customers is None:
            raise ValueError(f"{where}: the mapping has no customers table to find it in")
        if self.money.column not in customers.numeric:
            raise ValueError(f"{where} must be listed under tables.customers.numeric, so its cells are read "
                             "as numbers")
        spent = set(customers.columns.values()) | {customers.tenure_months} | \
            {customers.churn_flag.column if customers.churn_flag else None}
        if self.money.column in spent or self.money.column in customers.drop or not customers.keep_other_columns:
            raise ValueError(f"{where} must reach the features under its own name: not renamed under columns, "
                             "not the tenure or churn flag column, not dropped, and keep_other_columns true")
        return self


class SqlSettings(_Strict):
    """Where a run finds its database when ``--data`` is not given (see ``churnlab/sql.py``).

    Prefer a URL without a password plus ``PGPASSWORD`` (or ``~/.pgpass``) in the environment;
    a password in ``url`` works but is shown as ``**********`` in the report's settings copy.
    """

    url: SecretStr | None = Field(
        None, description="Database URL read when --data is not given, e.g. postgresql://user@host:5432/db.")
    url_env: str | None = Field(
        None, description="Name of an environment variable holding the database URL (wins over url).")


class RunSettings(_Strict):
    """How ``churnlab run`` shares its reports folder and what it keeps of failed runs."""

    lock_wait_seconds: float = Field(
        0, ge=0, description="How long a run waits for another run on the same reports folder to finish; "
                             "0 (the default, what a cron job wants) exits 1 at once naming the other run.")
    keep_failed: int = Field(3, ge=1, description="How many failed or killed runs REPORTS/.failed/ keeps (the newest).")


class Settings(_Strict):
    """Everything a run needs besides the data and the as-of date."""

    seed: int = Field(7, description="Seed for every random step of a run.")
    horizon_days: int = Field(90, gt=0, description="Churn horizon: P(churn within this many days).")
    validation: ValidationSettings = ValidationSettings()
    models: ModelSettings = ModelSettings()
    mapping: MappingSettings | None = Field(
        None, description="How to read a source that does not follow the data contract; None reads it as it is. "
                          "In YAML: the mapping itself, a shipped mapping's name (telco) or a mapping file's path.")
    value: ValueSettings = ValueSettings()
    health: HealthSettings = HealthSettings()
    zones: ZoneSettings = ZoneSettings()
    rules: RuleSettings = RuleSettings()
    segments: SegmentSettings = SegmentSettings()
    campaigns: CampaignSettings = CampaignSettings()
    sql: SqlSettings = SqlSettings()
    run: RunSettings = RunSettings()


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 reads ``Yes``/``No``/``on`` as booleans,
    which would turn a value map such as ``Churn: {Yes: churned, No: active}`` into nonsense."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _read_yaml(path: Path, what: str) -> dict | None:
    """The YAML mapping in ``path``; None when the file holds nothing (empty, only comments, ``null``).
    Anything else than a mapping, and YAML that does not parse, is a ValueError naming the file
    (a :class:`~churnlab.settings_errors.SettingsError` with the line, for YAML)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise yaml_problem(err, path, what.split()[-1]) from None
    if data is not None and not isinstance(data, dict):
        shown = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__} {data!r})"
        raise ValueError(f"{path}: {what} must be a YAML mapping (key: value lines), got {shown}")
    return data


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped in ``churnlab/mappings/`` (e.g. ``telco``)."""
    folder = resources.files("churnlab") / "mappings"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str | Path, relative_to: str | Path | None = None) -> MappingSettings:
    """A mapping by shipped name (``"telco"``) or from a YAML file.

    A relative path is looked up from ``relative_to`` (the settings file's folder) first.
    """
    text = str(name_or_path)
    if text in shipped_mappings():
        path = Path(str(resources.files("churnlab") / "mappings" / f"{text}.yaml"))
    else:
        path = Path(text)
        if not path.is_absolute() and relative_to is not None and (Path(relative_to) / path).is_file():
            path = Path(relative_to) / path
        if not path.is_file():
            raise FileNotFoundError(
                f"mapping {text!r} is neither a shipped mapping ({', '.join(shipped_mappings())}) nor a YAML file")
    try:
        return MappingSettings.model_validate(_read_yaml(path, "a mapping") or {})
    except ValidationError as err:
        raise explain(err, MappingSettings, path, path.read_text(encoding="utf-8"), "a mapping key") from None


def load_settings(path: str | Path | None = None, mapping: str | Path | None = None) -> Settings:
    """Read settings from a YAML file; ``None`` gives the defaults.

    ``mapping`` (a shipped mapping's name or a mapping file) replaces the file's ``mapping``. In
    the file, ``mapping:`` is the mapping itself, a shipped name or a path relative to the file.
    Unknown keys and wrong types are a :class:`~churnlab.settings_errors.SettingsError` (a
    ValueError) naming the file, the line and the key, what was expected and what came in, with
    the allowed keys and a "did you mean"; a file that is not a mapping (a list, a single value)
    or not YAML is a ValueError naming it. An empty
    file (or one holding only comments or ``null``) gives the defaults with a
    :class:`SettingsWarning` saying so: it is more often a mistake than a wish.
    """
    data = {} if path is None else _read_yaml(Path(path), "settings")
    if data is None:
        warnings.warn(f"settings file {path} is empty: the defaults are used", SettingsWarning, stacklevel=2)
        data = {}
    folder = None if path is None else Path(path).parent
    if mapping is not None:
        data["mapping"] = load_mapping(mapping).model_dump()
    elif isinstance(data.get("mapping"), str):
        data["mapping"] = load_mapping(data["mapping"], relative_to=folder).model_dump()
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        text = None if path is None else Path(path).read_text(encoding="utf-8")
        raise explain(err, Settings, "settings" if path is None else path, text, "a setting") from None
