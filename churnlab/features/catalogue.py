"""The feature catalogue: every feature's name, group, source table, window, meaning and phrase.

One list, in code, and the one place a feature's facts are written:

- ``churnlab.features.engine`` computes exactly these columns (a test checks both ways), and the
  look-back windows in its SQL are these ``window_days`` (:func:`window`; a test checks the SQL
  holds no other window);
- ``churnlab.models.reasons`` words a value with the feature's ``phrase``: short (under 60
  characters), with the customer's number;
- ``docs/features.md`` is generated from this list (``python -m churnlab.features.catalogue >
  docs/features.md``; a test keeps them in step).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import pandas as pd

__all__ = ["Feature", "FEATURES", "PURCHASE_FEATURES", "ALL_FEATURES", "RISKY_SIDE", "DEPARTMENTS", "USAGE_WINDOWS", "NOT_MODEL_INPUTS", "CUSTOMER_RECORDS", "feature_names",
           "window", "split_columns", "render_markdown"]

USAGE_WINDOWS = (7, 30, 90, 180)
DEPARTMENTS = ("sales", "marketing", "finance", "rnd", "support", "success")
#: how reasons name a department, where its key would read poorly
_DEPARTMENT_WORDS = {"rnd": "R&D", "success": "customer success"}


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
    date); a feature comparing two spans gives the whole span (``usage_change_60d_pct``: 120,
    the last 60 days against the 60 before). ``fill``: the value when the customer has no rows
    in the window (None: left missing, meaning "unknown"). ``phrase``: the value in words for a
    reason, short and with the number ("NPS 3: detractor"); every numeric feature has one (None
    for a category, worded "<name>: <level>").
    """

    name: str
    group: str
    table: str
    window_days: int | None
    description: str
    fill: float | None = 0.0
    phrase: Callable[[float], str] | None = None


def window(name: str) -> int:
    """The ``window_days`` of feature ``name``: the look-back the engine's SQL uses for it."""
    for f in FEATURES:
        if f.name == name:
            if f.window_days is None:
                raise ValueError(f"{name} has no window: it is the state on the snapshot date")
            return f.window_days
    raise KeyError(f"{name} is not in the feature catalogue")


# -- phrases: a value in words ------------------------------------------------------------------

def _n(v: float) -> str:
    return f"{v:,.0f}"


def _plural(v: float, one: str, many: str) -> str:
    return f"{_n(v)} {one if round(v) == 1 else many}"


def _counted(template: str) -> Callable[[float], str]:
    """The value counted in the braced noun: ``"{ticket} open"`` gives "1 ticket open", "2 tickets open"."""
    before, rest = template.split("{", 1)
    noun, after = rest.split("}", 1)
    return lambda v: f"{before}{_plural(v, noun, noun + 's')}{after}"


def _flag(yes: str, no: str) -> Callable[[float], str]:
    """A 0/1 feature: ``yes`` from 0.5 up."""
    return lambda v: yes if v >= 0.5 else no


def _signed(template: str, down: str, up: str) -> Callable[[float], str]:
    """A signed value: ``template`` with ``{way}`` (``down`` below 0, else ``up``) and ``{v}``, ``{abs}``."""
    return lambda v: template.format(way=down if v < 0 else up, v=v, abs=abs(v))


def _change(what: str, base: str) -> Callable[[float], str]:
    """A percent change: "usage down 48% vs the prior 60 days"."""
    return _signed(what + " {way} {abs:.0f}% vs " + base, "down", "up")


def _nps(v: float) -> str:
    kind = "detractor" if v <= 6 else "passive" if v <= 8 else "promoter"
    return f"NPS {v:.0f}: {kind}"


def _tenure(v: float) -> str:
    """Days as a person counts them: days below four weeks, months below two years, then years."""
    span = (_plural(v, "day", "days") if v < 28 else _plural(v / 30.44, "month", "months") if v < 730
            else f"{v / 365.25:.1f} years")
    return f"customer for only {span}" if v < 365 else f"customer for {span}"


def _usage_trend(v: float) -> str:
    return _change("usage in 30 days", "the 30 before")(100 * (math.exp(v) - 1))


def _since_touch(who: str, reach: int) -> Callable[[float], str]:
    """Days since a contact with ``who``; ``reach`` (the look-back) means none in it."""
    return lambda v: (f"no contact with {who} for {_plural(v, 'day', 'days')}" if v >= reach
                      else f"last contact with {who} {_plural(v, 'day', 'days')} ago")


def _usage() -> list[Feature]:
    out = []
    for w in USAGE_WINDOWS:
        out.append(Feature(f"events_{w}d", "usage", "usage_events", w, f"usage events in the last {w} days",
                           phrase=_counted(f"{{usage event}} in the last {w} days")))
        out.append(Feature(f"quantity_{w}d", "usage", "usage_events", w, f"summed event quantity in the last {w} days",
                           phrase=lambda v, w=w: f"event quantity {_n(v)} in the last {w} days"))
    out += [
        Feature("events_prior_30d", "usage", "usage_events", 60, "usage events 31-60 days before the snapshot",
                phrase=_counted("{usage event} 31-60 days ago")),
        Feature("usage_trend_30d", "usage", "usage_events", 60,
                "log((events_30d + 1) / (events_prior_30d + 1)): below 0 when use is falling", phrase=_usage_trend),
        Feature("usage_change_60d_pct", "usage", "usage_events", 120,
                "percent change of events in the last 60 days against the 60 before (missing when none before)",
                fill=None, phrase=_change("usage", "the prior 60 days")),
        Feature("days_since_last_use", "usage", "usage_events", 180,
                "days since the last usage event (180 when none in the last 180 days)", fill=180.0,
                phrase=_counted("no product use for {day}")),
        Feature("event_types_30d", "usage", "usage_events", 30, "distinct event types in the last 30 days",
                phrase=_counted("{feature} used in the last 30 days")),
        Feature("event_types_change_30d", "usage", "usage_events", 60,
                "distinct event types in the last 30 days minus those of the 30 days before",
                phrase=_signed("features used {way} by {abs:,.0f} in 30 days", "down", "up")),
        Feature("active_users_30d", "usage", "usage_events", 30, "distinct users with an event in the last 30 days",
                phrase=_counted("{active user} in the last 30 days")),
        Feature("active_users_change_30d", "usage", "usage_events", 60,
                "active users in the last 30 days minus those of the 30 days before",
                phrase=_signed("active users {way} by {abs:,.0f} in 30 days", "down", "up")),
    ]
    return out


def _touch() -> list[Feature]:
    reach = 180     # days_since_*_touch: the look-back, and the value when nothing is in it
    out = [Feature(f"days_since_{d}_touch", "360 view", "touchpoints", reach,
                   f"days since the last contact with {d} ({reach} when none in the last {reach} days)",
                   fill=float(reach), phrase=_since_touch(_DEPARTMENT_WORDS.get(d, d), reach))
           for d in DEPARTMENTS]
    out += [Feature(f"negative_{d}_touches_90d", "360 view", "touchpoints", 90,
                    f"contacts with {d} with sentiment below -0.2 in the last 90 days",
                    phrase=_counted(f"{{negative contact}} with {_DEPARTMENT_WORDS.get(d, d)} in 90 days"))
            for d in DEPARTMENTS]
    out += [
        Feature("inbound_complaints_90d", "360 view", "touchpoints", 90,
                "inbound contacts with sentiment below -0.2 in the last 90 days",
                phrase=_counted("{complaint} in the last 90 days")),
        Feature("touch_sentiment_90d", "360 view", "touchpoints", 90,
                "mean sentiment of contacts in the last 90 days (-1..1)", fill=None,
                phrase=_signed("contacts {way} in tone (sentiment {v:+.2f})", "negative", "positive")),
    ]
    return out


FEATURES: tuple[Feature, ...] = tuple([
    # account and contract ---------------------------------------------------------------------
    Feature("tenure_days", "account", "customers", None, "days since signup", phrase=_tenure),
    Feature("mrr", "contract", "subscriptions", None, "monthly recurring revenue of the running subscriptions",
            phrase=lambda v: f"MRR {_n(v)}"),
    Feature("arr", "contract", "subscriptions", None, "annual recurring revenue: 12 x mrr",
            phrase=lambda v: f"ARR {_n(v)}"),
    Feature("mrr_change_90d", "contract", "subscriptions", 90, "mrr now minus mrr 90 days earlier",
            phrase=_signed("MRR {way} {abs:,.0f} over 90 days", "down", "up")),
    Feature("mrr_change_90d_pct", "contract", "subscriptions", 90,
            "percent change of mrr over 90 days (missing when there was none)", fill=None,
            phrase=_change("MRR", "90 days ago")),
    Feature("seats", "contract", "subscriptions", None, "seats of the running subscriptions",
            phrase=_counted("{seat}")),
    Feature("active_subscriptions", "contract", "subscriptions", None, "running subscriptions",
            phrase=_counted("{running subscription}")),
    Feature("is_annual", "contract", "subscriptions", None, "1 when a running subscription is billed annually",
            phrase=_flag("annual contract", "monthly contract")),
    Feature("days_to_renewal", "contract", "subscriptions", None,
            "days to the next renewal of the running subscriptions: the renewal_date's anniversary (the start date's when "
            "absent) by billing period",
            fill=None, phrase=_counted("contract renews in {day}")),
    Feature("annual_renewal_90d", "contract", "subscriptions", None,
            "1 when an annual subscription comes up for renewal within 90 days (annual contracts are left at renewal)",
            phrase=_flag("annual contract up for renewal within 90 days", "no annual renewal within 90 days")),
    Feature("plan", "contract", "subscriptions", None,
            "plan of the largest running subscription (category; 'none' without one)", fill=None),
    # usage -------------------------------------------------------------------------------------
    *_usage(),
    # support -----------------------------------------------------------------------------------
    Feature("open_tickets", "support", "support_tickets", 365, "tickets open on the snapshot date",
            phrase=_counted("{support ticket} open")),
    Feature("open_high_critical_tickets", "support", "support_tickets", 365,
            "open tickets of high or critical severity", phrase=_counted("{high or critical ticket} open")),
    Feature("tickets_open_over_7d", "support", "support_tickets", 365, "tickets open for more than 7 days",
            phrase=_counted("{ticket} open for more than 7 days")),
    Feature("critical_open_over_14d", "support", "support_tickets", 365,
            "critical tickets open for more than 14 days", phrase=_counted("{critical ticket} open for more than 14 days")),
    Feature("tickets_90d", "support", "support_tickets", 90, "tickets opened in the last 90 days",
            phrase=_counted("{support ticket} in the last 90 days")),
    Feature("high_critical_tickets_90d", "support", "support_tickets", 90,
            "high or critical tickets opened in the last 90 days",
            phrase=_counted("{high or critical ticket} in the last 90 days")),
    Feature("resolution_hours_90d", "support", "support_tickets", 90,
            "mean hours to close, tickets closed in the last 90 days",
            fill=None, phrase=lambda v: f"tickets took {v:.0f} hours to resolve on average"),
    Feature("reopened_tickets_90d", "support", "support_tickets", 90,
            "reopened tickets among those closed in the last 90 days",
            phrase=_counted("{ticket} reopened in the last 90 days")),
    Feature("ticket_csat_180d", "support", "support_tickets", 180,
            "mean ticket CSAT (1-5), tickets closed in the last 180 days", fill=None,
            phrase=lambda v: f"ticket satisfaction {v:.1f} of 5"),
    # feedback ----------------------------------------------------------------------------------
    Feature("last_nps", "feedback", "surveys", 365, "latest NPS score (0-10) in the last year", fill=None,
            phrase=_nps),
    Feature("nps_change", "feedback", "surveys", 365, "latest NPS minus the one before", fill=None,
            phrase=_signed("NPS {way} by {abs:.0f} points", "fell", "rose")),
    Feature("nps_detractor", "feedback", "surveys", 365, "1 when the latest NPS is 0-6",
            phrase=_flag("NPS detractor", "not an NPS detractor")),
    Feature("nps_promoter", "feedback", "surveys", 365, "1 when the latest NPS is 9-10",
            phrase=_flag("NPS promoter", "not an NPS promoter")),
    Feature("days_since_last_nps", "feedback", "surveys", 365, "days since the latest NPS answer", fill=None,
            phrase=_counted("last NPS answer {day} ago")),
    Feature("last_csat", "feedback", "surveys", 365, "latest CSAT survey score (1-5)", fill=None,
            phrase=lambda v: f"CSAT {v:.0f} of 5"),
    Feature("csat_change", "feedback", "surveys", 365, "latest CSAT minus the one before", fill=None,
            phrase=_signed("CSAT {way} by {abs:.0f}", "fell", "rose")),
    Feature("last_ces", "feedback", "surveys", 365, "latest customer effort score (1-7, higher is harder)",
            fill=None, phrase=lambda v: f"customer effort {v:.0f} of 7 (higher is harder)"),
    Feature("ces_change", "feedback", "surveys", 365, "latest CES minus the one before", fill=None,
            phrase=_signed("customer effort {way} by {abs:.0f}", "fell", "rose")),
    Feature("satisfaction_mean", "feedback", "surveys", None,
            "mean of every survey answer up to the date, each on 0..1 for its kind (NPS / 10, (CSAT - 1) / 4, "
            "(7 - CES) / 6): lasting satisfaction, steadier than the latest answer", fill=None,
            phrase=lambda v: f"surveys average {100 * v:.0f} of 100 over time"),
    Feature("comment_sentiment_180d", "feedback", "surveys", 180,
            "mean VADER compound sentiment (-1..1) of survey comments in the last 180 days", fill=None,
            phrase=_signed("survey comments {way} (sentiment {v:+.2f})", "negative", "positive")),
    # billing -----------------------------------------------------------------------------------
    Feature("overdue_invoices", "billing", "invoices", 365,
            "invoices past due and unpaid on the snapshot date (issued in the last year)",
            phrase=_counted("{invoice} overdue")),
    Feature("days_overdue_max", "billing", "invoices", 365, "days the oldest overdue invoice is past due",
            phrase=_counted("an invoice {day} overdue")),
    Feature("overdue_amount", "billing", "invoices", 365, "amount of the overdue invoices",
            phrase=lambda v: f"{v:,.0f} overdue"),
    Feature("late_payments_180d", "billing", "invoices", 180,
            "invoices issued in the last 180 days that were paid after their due date",
            phrase=_counted("{late payment} in the last 180 days")),
    Feature("failed_payments_180d", "billing", "invoices", 180,
            "invoices issued in the last 180 days whose payment failed",
            phrase=_counted("{failed payment} in the last 180 days")),
    # 360 view ----------------------------------------------------------------------------------
    *_touch(),
    # advocacy ----------------------------------------------------------------------------------
    Feature("reviews_365d", "advocacy", "advocacy", 365, "public reviews in the last year",
            phrase=_counted("{public review} in the last year")),
    Feature("review_rating_365d", "advocacy", "advocacy", 365, "mean review rating (1-5) in the last year",
            fill=None, phrase=lambda v: f"reviews rated {v:.1f} of 5"),
    Feature("referrals_365d", "advocacy", "advocacy", 365, "referrals in the last year",
            phrase=_counted("{referral} in the last year")),
    Feature("reach_365d", "advocacy", "advocacy", 365, "audience reached by the customer's public voice in the last year",
            phrase=lambda v: f"public voice reached {_n(v)} people"),
    Feature("negative_reach_365d", "advocacy", "advocacy", 365,
            "audience of negative reviews and mentions (rating <= 2 or sentiment < -0.2) in the last year",
            phrase=lambda v: f"negative public voice reached {_n(v)} people"),
    Feature("vocal_detractor", "advocacy", "advocacy", 365,
            "1 when a negative review or mention reached 1,000 people or more in the last year",
            phrase=_flag("vocal detractor in public", "not a vocal detractor")),
    Feature("vocal_promoter", "advocacy", "advocacy", 365,
            "1 when a positive review or mention (rating >= 4 or sentiment > 0.3) reached 1,000 or more, "
            "or the customer referred someone, in the last year", phrase=_flag("vocal promoter", "not a vocal promoter")),
    # interventions ------------------------------------------------------------------------------
    Feature("interventions_total", "interventions", "interventions", None, "past retention actions",
            phrase=_counted("{past retention action}")),
    Feature("interventions_accepted", "interventions", "interventions", None, "past actions the customer accepted",
            phrase=_counted("{retention offer} accepted")),
    Feature("interventions_declined", "interventions", "interventions", None,
            "past actions declined or left without response", phrase=_counted("declined {retention offer}")),
    Feature("days_since_last_intervention", "interventions", "interventions", None,
            "days since the latest retention action", fill=None, phrase=_counted("last retention action {day} ago")),
])


#: A purchase log's features (usage events, churn by inactivity, no subscriptions): the customer's
#: own purchase history and the buy-till-you-die models fitted on it at each snapshot
#: (``churnlab.features.btyd``, which computes them in this order; a test checks it), not SQL
#: windows: each reads the whole history up to the snapshot date.
PURCHASE_FEATURES: tuple[Feature, ...] = (
    Feature("repeat_purchases", "purchases", "usage_events", None,
            "days with a purchase after the first (BG/NBD's frequency); purchase logs only",
            phrase=_counted("{repeat purchase} since the first")),
    Feature("purchase_gap_days", "purchases", "usage_events", None,
            "the customer's usual gap: days from the first to the last purchase / repeat purchases "
            "(missing without a repeat purchase); purchase logs only", fill=None,
            phrase=lambda v: f"usually buys every {_plural(v, 'day', 'days')}"),
    Feature("gap_overdue_ratio", "purchases", "usage_events", None,
            "days since the last purchase / the usual gap (missing without a repeat purchase); purchase logs only",
            fill=None, phrase=lambda v: f"no purchase for {v:.1f}x their usual gap"),
    Feature("spend_per_purchase", "purchases", "usage_events", None,
            "mean spend per day with a purchase, from the events' amount (missing without one); purchase logs only",
            fill=None, phrase=lambda v: f"spends {v:,.2f} per purchase" if v < 100 else f"spends {_n(v)} per purchase"),
    Feature("btyd_p_alive", "buy-till-you-die", "usage_events", None,
            "BG/NBD's probability that the customer still buys, fitted on the purchases up to the date; "
            "purchase logs only", fill=None, phrase=lambda v: f"P(alive) {v:.2f} by BG/NBD"),
    Feature("btyd_expected_purchases", "buy-till-you-die", "usage_events", None,
            "purchases BG/NBD expects within the horizon after the date; purchase logs only", fill=None,
            phrase=lambda v: f"{v:.1f} purchases expected in the horizon (BG/NBD)"),
    Feature("btyd_expected_value", "buy-till-you-die", "usage_events", None,
            "spend BG/NBD and Gamma-Gamma expect over the value horizon (value.horizon_months, discounted at "
            "value.annual_discount_rate); purchase logs with an amount only", fill=None,
            phrase=lambda v: f"spend expected {_n(v)} over the value horizon"),
)
#: every feature the package can compute: :data:`FEATURES` and :data:`PURCHASE_FEATURES`
ALL_FEATURES: tuple[Feature, ...] = FEATURES + PURCHASE_FEATURES


def _risky_side() -> dict[str, str]:
    high = ["days_since_last_use", "inbound_complaints_90d", "open_tickets", "open_high_critical_tickets",
            "tickets_open_over_7d", "critical_open_over_14d", "reopened_tickets_90d", "nps_detractor", "last_ces",
            "ces_change", "overdue_invoices", "days_overdue_max", "overdue_amount", "late_payments_180d",
            "failed_payments_180d", "negative_reach_365d", "vocal_detractor", "interventions_declined",
            "purchase_gap_days", "gap_overdue_ratio"]
    high += [f"negative_{d}_touches_90d" for d in DEPARTMENTS]
    low = ["usage_trend_30d", "usage_change_60d_pct", "event_types_30d", "event_types_change_30d",
           "active_users_30d", "active_users_change_30d", "touch_sentiment_90d", "mrr_change_90d",
           "mrr_change_90d_pct", "ticket_csat_180d", "last_nps", "nps_change", "nps_promoter", "last_csat",
           "csat_change", "satisfaction_mean", "comment_sentiment_180d", "review_rating_365d", "referrals_365d",
           "vocal_promoter", "repeat_purchases", "btyd_p_alive", "btyd_expected_purchases", "btyd_expected_value"]
    low += [f"events_{w}d" for w in USAGE_WINDOWS] + [f"quantity_{w}d" for w in USAGE_WINDOWS]
    return {**{n: "high" for n in high}, **{n: "low" for n in low}}


#: The side on which a feature's value means risk in words, where that is plain whatever the
#: model fitted ("high": more tickets, longer overdue; "low": less use, a lower NPS, a smaller
#: chance of buying again). A reason is only ever a value on this side: a model may lean on a
#: feature the other way through its correlation with another (a high expected spend raising the
#: risk once the purchase count is in), but "spend expected 540" is no reason to call anyone.
#: Features not named here (tenure, seats, days to renewal, ...) follow the model's own direction.
RISKY_SIDE: dict[str, str] = _risky_side()


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
        "Each feature's value reads in a customer's `reasons` as a short phrase with the number",
        "(\"NPS 3: detractor\", \"usage down 48% vs the prior 60 days\"); a column outside the catalogue reads",
        "from its name (\"contract: Month-to-month\", \"monthly charges 95.7\"). A reason is a known value",
        "worse than the training median on the side where the risk rises (`churnlab/models/reasons.py`).",
        "Column \"reason when\": the side that means risk in plain words (`RISKY_SIDE`); a model that leans",
        "on the feature the other way gives no reason from it. \"as fitted\": the model's own side.",
        "",
    ]
    group = None
    for f in ALL_FEATURES:
        if f.group != group:
            group = f.group
            lines += [f"## {group}", "", "| feature | table | window | when no rows | reason when | description |",
                      "|---|---|---|---|---|---|"]
        window = f"{f.window_days} d" if f.window_days else "on the date"
        fill = "missing" if f.fill is None else f"{f.fill:g}"
        side = RISKY_SIDE.get(f.name, "as fitted")
        lines.append(f"| `{f.name}` | {f.table} | {window} | {fill} | {side} | {f.description} |")
        if f is ALL_FEATURES[-1] or ALL_FEATURES[ALL_FEATURES.index(f) + 1].group != group:
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
