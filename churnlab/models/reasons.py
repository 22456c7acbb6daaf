"""Each customer's risk in words: the top drivers of a model's additive contributions.

A model's :meth:`contributions` give, per customer and feature, how much the feature moves the
log-risk away from the training average. The features pushing risk *up* the most become
reasons, each phrased with the customer's own numbers ("usage down 48% vs the prior 60 days",
"2 critical tickets open for more than 14 days", "NPS 3: detractor"). Features without a phrase
of their own are worded from the feature catalogue's description.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from churnlab.features.catalogue import FEATURES

__all__ = ["explain", "phrase"]


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _plural(v: float, one: str, many: str) -> str:
    return f"{_n(v)} {one if round(v) == 1 else many}"


def _nps(v: float) -> str:
    kind = "detractor" if v <= 6 else "passive" if v <= 8 else "promoter"
    return f"NPS {v:.0f}: {kind}"


def _change(v: float, what: str, base: str) -> str:
    return f"{what} {'down' if v < 0 else 'up'} {abs(v):.0f}% vs {base}"


_DEPTS = ("sales", "marketing", "finance", "rnd", "support", "success")
_DEPT_WORDS = {"rnd": "R&D", "success": "customer success"}

#: feature → phrase of its value (only where the catalogue description would read poorly)
PHRASES: dict[str, Callable[[float], str]] = {
    "tenure_days": lambda v: f"customer for only {_n(v)} days" if v < 365 else f"customer for {_n(v)} days",
    "mrr_change_90d_pct": lambda v: _change(v, "MRR", "90 days ago"),
    "mrr_change_90d": lambda v: f"MRR {'down' if v < 0 else 'up'} {abs(v):,.0f} over 90 days",
    "is_annual": lambda v: "annual contract" if v >= 0.5 else "monthly contract",
    "annual_renewal_90d": lambda v: "annual contract up for renewal within 90 days" if v >= 0.5
    else "no annual renewal within 90 days",
    "days_to_renewal": lambda v: f"contract renews in {_plural(v, 'day', 'days')}",
    "usage_change_60d_pct": lambda v: _change(v, "usage", "the prior 60 days"),
    "usage_trend_30d": lambda v: _change(100 * (math.exp(v) - 1), "usage in the last 30 days", "the 30 before"),
    "days_since_last_use": lambda v: f"no product use for {_plural(v, 'day', 'days')}",
    "events_7d": lambda v: f"{_plural(v, 'usage event', 'usage events')} in the last 7 days",
    "events_30d": lambda v: f"{_plural(v, 'usage event', 'usage events')} in the last 30 days",
    "events_90d": lambda v: f"{_plural(v, 'usage event', 'usage events')} in the last 90 days",
    "events_180d": lambda v: f"{_plural(v, 'usage event', 'usage events')} in the last 180 days",
    "active_users_30d": lambda v: f"{_plural(v, 'active user', 'active users')} in the last 30 days",
    "active_users_change_30d": lambda v: f"active users {'down' if v < 0 else 'up'} by {_n(abs(v))} in 30 days",
    "event_types_30d": lambda v: f"{_plural(v, 'feature', 'features')} used in the last 30 days",
    "open_tickets": lambda v: f"{_plural(v, 'support ticket', 'support tickets')} open",
    "open_high_critical_tickets": lambda v: f"{_plural(v, 'high or critical ticket', 'high or critical tickets')} open",
    "tickets_open_over_7d": lambda v: f"{_plural(v, 'ticket', 'tickets')} open for more than 7 days",
    "critical_open_over_14d": lambda v: f"{_plural(v, 'critical ticket', 'critical tickets')} open for more than 14 days",
    "tickets_90d": lambda v: f"{_plural(v, 'support ticket', 'support tickets')} in the last 90 days",
    "high_critical_tickets_90d": lambda v: f"{_plural(v, 'high or critical ticket', 'high or critical tickets')} in the last 90 days",
    "resolution_hours_90d": lambda v: f"tickets took {v:.0f} hours to resolve on average",
    "reopened_tickets_90d": lambda v: f"{_plural(v, 'ticket', 'tickets')} reopened in the last 90 days",
    "ticket_csat_180d": lambda v: f"ticket satisfaction {v:.1f} of 5",
    "last_nps": _nps,
    "nps_change": lambda v: f"NPS {'fell' if v < 0 else 'rose'} by {abs(v):.0f} points",
    "nps_detractor": lambda v: "NPS detractor" if v >= 0.5 else "not an NPS detractor",
    "nps_promoter": lambda v: "NPS promoter" if v >= 0.5 else "not an NPS promoter",
    "last_csat": lambda v: f"CSAT {v:.0f} of 5",
    "csat_change": lambda v: f"CSAT {'fell' if v < 0 else 'rose'} by {abs(v):.0f}",
    "last_ces": lambda v: f"customer effort {v:.0f} of 7 (higher is harder)",
    "satisfaction_mean": lambda v: f"survey answers average {100 * v:.0f} of 100 over the whole relationship",
    "comment_sentiment_180d": lambda v: f"survey comments {'negative' if v < 0 else 'positive'} (sentiment {v:+.2f})",
    "overdue_invoices": lambda v: f"{_plural(v, 'invoice', 'invoices')} overdue",
    "days_overdue_max": lambda v: f"an invoice {_plural(v, 'day', 'days')} overdue",
    "overdue_amount": lambda v: f"{v:,.0f} overdue",
    "late_payments_180d": lambda v: f"{_plural(v, 'late payment', 'late payments')} in the last 180 days",
    "failed_payments_180d": lambda v: f"{_plural(v, 'failed payment', 'failed payments')} in the last 180 days",
    "inbound_complaints_90d": lambda v: f"{_plural(v, 'complaint', 'complaints')} in the last 90 days",
    "touch_sentiment_90d": lambda v: f"contacts {'negative' if v < 0 else 'positive'} in tone (sentiment {v:+.2f})",
    "vocal_detractor": lambda v: "vocal detractor in public" if v >= 0.5 else "not a vocal detractor",
    "vocal_promoter": lambda v: "vocal promoter" if v >= 0.5 else "not a vocal promoter",
    "negative_reach_365d": lambda v: f"negative public voice reached {_n(v)} people",
    "interventions_declined": lambda v: f"declined {_plural(v, 'retention offer', 'retention offers')}",
    "days_since_last_intervention": lambda v: f"last retention action {_plural(v, 'day', 'days')} ago",
}
for _d in _DEPTS:
    _w = _DEPT_WORDS.get(_d, _d)
    PHRASES[f"days_since_{_d}_touch"] = (
        lambda v, w=_w: f"no contact with {w} for {_plural(v, 'day', 'days')}" if v >= 180
        else f"last contact with {w} {_plural(v, 'day', 'days')} ago")
    PHRASES[f"negative_{_d}_touches_90d"] = (
        lambda v, w=_w: f"{_plural(v, 'negative contact', 'negative contacts')} with {w} in the last 90 days")

_DESCRIPTIONS = {f.name: f.description for f in FEATURES}


def phrase(feature: str, value) -> str:
    """One feature's value in words, e.g. ``phrase("last_nps", 3)`` → ``"NPS 3: detractor"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return f"no record of {_DESCRIPTIONS.get(feature, feature.replace('_', ' '))}"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if feature in PHRASES:
            return PHRASES[feature](v)
        label = _DESCRIPTIONS.get(feature, feature.replace("_", " "))
        return f"{label}: {v:,.4g}"
    return f"{feature.replace('_', ' ')}: {value}"


_TOPIC = {f.name: f.group for f in FEATURES}

#: The reason given when nothing raises a customer's risk noticeably.
NOTHING_STANDS_OUT = "no risk driver stands out"


def explain(contributions: pd.DataFrame, features: pd.DataFrame, top: int = 3,
            min_contribution: float = 0.1) -> pd.Series:
    """The top drivers of each customer's risk, in words, ``;``-separated.

    Contributions are summed per topic (the feature catalogue's groups: usage, support,
    feedback, billing, contract, ...), so one slump in usage reads as one reason rather than
    five correlated ones. A topic's reason is phrased from its feature that raises the risk
    most among those with a phrase of their own. Columns that are not catalogue features (the
    customer's own attributes, such as industry) describe who a customer is rather than what is
    going wrong, and are left out.

    Parameters
    ----------
    contributions : rows as ``features``, one column per feature: additive terms of a model's
        log-risk (``SurvivalModel.contributions`` or ``ChurnClassifier.contributions``).
    features : the features frame the contributions were computed from (same index).
    top : at most this many reasons per customer.
    min_contribution : topics adding less than this to the log-risk are not reasons.

    Returns
    -------
    Series (index as ``features``) of strings; :data:`NOTHING_STANDS_OUT` when no topic raises
    the risk by ``min_contribution`` (a list reader should see that, not a blank cell).
    """
    cols = [c for c in contributions.columns if c in _TOPIC]
    values = contributions[cols].to_numpy(dtype="float64")
    topics = sorted({_TOPIC[c] for c in cols}, key=[f.group for f in FEATURES].index)
    member = {t: [j for j, c in enumerate(cols) if _TOPIC[c] == t] for t in topics}
    speakable = {t: [j for j in member[t] if cols[j] in PHRASES] or member[t] for t in topics}
    topic_sum = np.column_stack([values[:, member[t]].sum(axis=1) for t in topics]) if topics else \
        np.zeros((len(values), 0))
    order = np.argsort(-topic_sum, axis=1, kind="stable")[:, :top]
    out = []
    column = {c: features[c] for c in cols if c in features.columns}  # a row of a wide frame is slow to take
    for i, row in enumerate(order):
        words = []
        for k in row:
            if topic_sum[i, k] < min_contribution:
                break
            cand = speakable[topics[k]]
            j = cand[int(np.argmax(values[i, cand]))]
            words.append(phrase(cols[j], column[cols[j]].iat[i] if cols[j] in column else features.iloc[i][cols[j]]))
        out.append("; ".join(words) or NOTHING_STANDS_OUT)
    return pd.Series(out, index=features.index, name="reasons")
