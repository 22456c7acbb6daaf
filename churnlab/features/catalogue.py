"""The feature catalogue: every feature's name, group, source table, window and meaning.

One list, in code. ``churnlab.features.engine`` computes exactly these columns (a test checks both
ways) and ``docs/features.md`` is generated from this list (``python -m
churnlab.features.catalogue > docs/features.md``; a test keeps them in step).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

__all__ = ["Feature", "FEATURES", "DEPARTMENTS", "USAGE_WINDOWS", "NOT_MODEL_INPUTS", "CUSTOMER_RECORDS", "feature_names",
           "split_columns", "render_markdown"]

USAGE_WINDOWS = (7, 30, 90, 180)
DEPARTMENTS = ("sales", "marketing", "finance", "rnd", "support", "success")


#: Columns of a features frame or training set that are never model inputs: who, when, and the
#: label and its bookkeeping.
NOT_MODEL_INPUTS = frozenset({
    "snapshot", "customer_id", "duration_days", "event", "label_observed", "churned",
    "sample_weight", "entry_days",
})
#: Columns of the customers table that are records, not features (names, dates, the outcome).
CUSTOMER_RECORDS = frozenset({"customer_id", "signup_date", "churn_date", "name", "owner", "churn_reason"})


def split_columns(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """``(numeric, categorical)`` feature names of ``frame``, in frame order.

    Bookkeeping columns (:data:`NOT_MODEL_INPUTS`) and ``exclude`` are left out; booleans count as
    numeric; every other non-numeric column is categorical.
    """
    skip = NOT_MODEL_INPUTS | set(exclude)
    numeric, categorical = [], []
    for name, dtype in frame.dtypes.items():
        if name in skip:
            continue
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


@dataclass(frozen=True)
class Feature:
    """One feature column.

    ``window_days``: the look-back window ending on the snapshot date (None: the state on that
    date). ``fill``: the value when the customer has no rows in the window (None: left missing,
    meaning "unknown").
    """

    name: str
    group: str
    table: str
    window_days: int | None
    description: str
    fill: float | None = 0.0


def _usage() -> list[Feature]:
    out = []
    for w in USAGE_WINDOWS:
        out.append(Feature(f"events_{w}d", "usage", "usage_events", w, f"usage events in the last {w} days"))
        out.append(Feature(f"quantity_{w}d", "usage", "usage_events", w, f"summed event quantity in the last {w} days"))
    out += [
        Feature("events_prior_30d", "usage", "usage_events", 60, "usage events 31-60 days before the snapshot"),
        Feature("usage_trend_30d", "usage", "usage_events", 60,
                "log((events_30d + 1) / (events_prior_30d + 1)): below 0 when use is falling"),
        Feature("usage_change_60d_pct", "usage", "usage_events", 120,
                "percent change of events in the last 60 days against the 60 before (missing when none before)",
                fill=None),
        Feature("days_since_last_use", "usage", "usage_events", 180,
                "days since the last usage event (180 when none in the last 180 days)", fill=180.0),
        Feature("event_types_30d", "usage", "usage_events", 30, "distinct event types in the last 30 days"),
        Feature("event_types_change_30d", "usage", "usage_events", 60,
                "distinct event types in the last 30 days minus those of the 30 days before"),
        Feature("active_users_30d", "usage", "usage_events", 30, "distinct users with an event in the last 30 days"),
        Feature("active_users_change_30d", "usage", "usage_events", 60,
                "active users in the last 30 days minus those of the 30 days before"),
    ]
    return out


def _touch() -> list[Feature]:
    out = [Feature(f"days_since_{d}_touch", "360 view", "touchpoints", 180,
                   f"days since the last contact with {d} (180 when none in the last 180 days)", fill=180.0)
           for d in DEPARTMENTS]
    out += [Feature(f"negative_{d}_touches_90d", "360 view", "touchpoints", 90,
                    f"contacts with {d} with sentiment below -0.2 in the last 90 days") for d in DEPARTMENTS]
    out += [
        Feature("inbound_complaints_90d", "360 view", "touchpoints", 90,
                "inbound contacts with sentiment below -0.2 in the last 90 days"),
        Feature("touch_sentiment_90d", "360 view", "touchpoints", 90,
                "mean sentiment of contacts in the last 90 days (-1..1)", fill=None),
    ]
    return out


FEATURES: tuple[Feature, ...] = tuple([
    # account and contract ---------------------------------------------------------------------
    Feature("tenure_days", "account", "customers", None, "days since signup"),
    Feature("mrr", "contract", "subscriptions", None, "monthly recurring revenue of the running subscriptions"),
    Feature("arr", "contract", "subscriptions", None, "annual recurring revenue: 12 x mrr"),
    Feature("mrr_change_90d", "contract", "subscriptions", 90, "mrr now minus mrr 90 days earlier"),
    Feature("mrr_change_90d_pct", "contract", "subscriptions", 90,
            "percent change of mrr over 90 days (missing when there was none)", fill=None),
    Feature("seats", "contract", "subscriptions", None, "seats of the running subscriptions"),
    Feature("active_subscriptions", "contract", "subscriptions", None, "running subscriptions"),
    Feature("is_annual", "contract", "subscriptions", None, "1 when a running subscription is billed annually"),
    Feature("days_to_renewal", "contract", "subscriptions", None,
            "days to the next renewal of the running subscriptions: the renewal_date's anniversary (the start date's when "
            "absent) by billing period",
            fill=None),
    Feature("annual_renewal_90d", "contract", "subscriptions", None,
            "1 when an annual subscription comes up for renewal within 90 days (annual contracts are left at renewal)"),
    Feature("plan", "contract", "subscriptions", None,
            "plan of the largest running subscription (category; 'none' without one)", fill=None),
    # usage -------------------------------------------------------------------------------------
    *_usage(),
    # support -----------------------------------------------------------------------------------
    Feature("open_tickets", "support", "support_tickets", 365, "tickets open on the snapshot date"),
    Feature("open_high_critical_tickets", "support", "support_tickets", 365,
            "open tickets of high or critical severity"),
    Feature("tickets_open_over_7d", "support", "support_tickets", 365, "tickets open for more than 7 days"),
    Feature("critical_open_over_14d", "support", "support_tickets", 365,
            "critical tickets open for more than 14 days"),
    Feature("tickets_90d", "support", "support_tickets", 90, "tickets opened in the last 90 days"),
    Feature("high_critical_tickets_90d", "support", "support_tickets", 90,
            "high or critical tickets opened in the last 90 days"),
    Feature("resolution_hours_90d", "support", "support_tickets", 90,
            "mean hours to close, tickets closed in the last 90 days", fill=None),
    Feature("reopened_tickets_90d", "support", "support_tickets", 90,
            "reopened tickets among those closed in the last 90 days"),
    Feature("ticket_csat_180d", "support", "support_tickets", 180,
            "mean ticket CSAT (1-5), tickets closed in the last 180 days", fill=None),
    # feedback ----------------------------------------------------------------------------------
    Feature("last_nps", "feedback", "surveys", 365, "latest NPS score (0-10) in the last year", fill=None),
    Feature("nps_change", "feedback", "surveys", 365, "latest NPS minus the one before", fill=None),
    Feature("nps_detractor", "feedback", "surveys", 365, "1 when the latest NPS is 0-6"),
    Feature("nps_promoter", "feedback", "surveys", 365, "1 when the latest NPS is 9-10"),
    Feature("days_since_last_nps", "feedback", "surveys", 365, "days since the latest NPS answer", fill=None),
    Feature("last_csat", "feedback", "surveys", 365, "latest CSAT survey score (1-5)", fill=None),
    Feature("csat_change", "feedback", "surveys", 365, "latest CSAT minus the one before", fill=None),
    Feature("last_ces", "feedback", "surveys", 365, "latest customer effort score (1-7, higher is harder)",
            fill=None),
    Feature("ces_change", "feedback", "surveys", 365, "latest CES minus the one before", fill=None),
    Feature("satisfaction_mean", "feedback", "surveys", None,
            "mean of every survey answer up to the date, each on 0..1 for its kind (NPS / 10, (CSAT - 1) / 4, "
            "(7 - CES) / 6): lasting satisfaction, steadier than the latest answer", fill=None),
    Feature("comment_sentiment_180d", "feedback", "surveys", 180,
            "mean VADER compound sentiment (-1..1) of survey comments in the last 180 days", fill=None),
    # billing -----------------------------------------------------------------------------------
    Feature("overdue_invoices", "billing", "invoices", 365,
            "invoices past due and unpaid on the snapshot date (issued in the last year)"),
    Feature("days_overdue_max", "billing", "invoices", 365, "days the oldest overdue invoice is past due"),
    Feature("overdue_amount", "billing", "invoices", 365, "amount of the overdue invoices"),
    Feature("late_payments_180d", "billing", "invoices", 180,
            "invoices issued in the last 180 days that were paid after their due date"),
    Feature("failed_payments_180d", "billing", "invoices", 180,
            "invoices issued in the last 180 days whose payment failed"),
    # 360 view ----------------------------------------------------------------------------------
    *_touch(),
    # advocacy ----------------------------------------------------------------------------------
    Feature("reviews_365d", "advocacy", "advocacy", 365, "public reviews in the last year"),
    Feature("review_rating_365d", "advocacy", "advocacy", 365, "mean review rating (1-5) in the last year",
            fill=None),
    Feature("referrals_365d", "advocacy", "advocacy", 365, "referrals in the last year"),
    Feature("reach_365d", "advocacy", "advocacy", 365, "audience reached by the customer's public voice in the last year"),
    Feature("negative_reach_365d", "advocacy", "advocacy", 365,
            "audience of negative reviews and mentions (rating <= 2 or sentiment < -0.2) in the last year"),
    Feature("vocal_detractor", "advocacy", "advocacy", 365,
            "1 when a negative review or mention reached 1,000 people or more in the last year"),
    Feature("vocal_promoter", "advocacy", "advocacy", 365,
            "1 when a positive review or mention (rating >= 4 or sentiment > 0.3) reached 1,000 or more, "
            "or the customer referred someone, in the last year"),
    # interventions ------------------------------------------------------------------------------
    Feature("interventions_total", "interventions", "interventions", None, "past retention actions"),
    Feature("interventions_accepted", "interventions", "interventions", None, "past actions the customer accepted"),
    Feature("interventions_declined", "interventions", "interventions", None,
            "past actions declined or left without response"),
    Feature("days_since_last_intervention", "interventions", "interventions", None,
            "days since the latest retention action", fill=None),
])


def feature_names(tables: set[str] | None = None) -> list[str]:
    """Catalogue names in order, restricted to features whose source table is in ``tables``."""
    return [f.name for f in FEATURES if tables is None or f.table in tables]


def render_markdown() -> str:
    """The text of ``docs/features.md``."""
    lines = [
        "# Feature catalogue",
        "",
        "Generated from `churnlab/features/catalogue.py` by `python -m churnlab.features.catalogue`;",
        "do not edit by hand. Every feature is computed as of a snapshot date: only rows dated on or",
        "before it count. A window of N days covers the N days ending on the snapshot date.",
        "",
        "Besides these, every extra column of `customers` (and its optional `industry`, `region`,",
        "`company_size`, `preferred_channel`) is passed through: numeric as numbers, text as categories.",
        "",
    ]
    group = None
    for f in FEATURES:
        if f.group != group:
            group = f.group
            lines += [f"## {group}", "", "| feature | table | window | when no rows | description |",
                      "|---|---|---|---|---|"]
        window = f"{f.window_days} d" if f.window_days else "on the date"
        fill = "missing" if f.fill is None else f"{f.fill:g}"
        lines.append(f"| `{f.name}` | {f.table} | {window} | {fill} | {f.description} |")
        if f is FEATURES[-1] or FEATURES[FEATURES.index(f) + 1].group != group:
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
