"""Buy-till-you-die: BG/NBD and Gamma-Gamma models of a purchase log (``lifetimes``).

A shop's customer buys at its own rate while it is "alive" and may silently stop after any
purchase; BG/NBD (Fader, Hardie and Lee 2005) learns both from each customer's frequency
(purchase days after the first), recency (first to last purchase) and age T (first purchase to
the as-of date), and gives P(alive) and the purchases expected over the next days. Gamma-Gamma
(Fader, Hardie and Lee 2005b) learns the spend per purchase, shrunk towards the population's for
customers with few purchases. Together they give the customer's expected spend over a horizon,
discounted: its value when there is no contract to read it from.

Everything is fitted on the purchases up to the date asked about, so at a past snapshot the
figures are what was known then (:func:`btyd_features` fits once per snapshot): the feature
engine adds them as features (``btyd_p_alive``, ``btyd_expected_purchases``,
``btyd_expected_value``) for purchase logs read under ``models.churn: inactivity``, beside the
customer's own purchase history that BG/NBD reads (:data:`HISTORY_FEATURES`: repeat purchases,
the usual gap between them, how overdue the next one is, the spend per purchase), so the
classifier can use them beyond BG/NBD's one functional form and the reasons can word them.

>>> summary = rfm_summary(events, "1998-03-31", money="amount")        # doctest: +SKIP
>>> btyd_scores(summary, horizon_days=90, value_months=12, annual_discount_rate=0.1)  # doctest: +SKIP
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["rfm_summary", "btyd_scores", "purchase_history", "btyd_features", "BTYD_FEATURES", "HISTORY_FEATURES",
           "BTYD_MONTHS", "BTYD_DISCOUNT"]

#: the model scores :func:`btyd_scores` gives, in order
BTYD_SCORES = ["btyd_p_alive", "btyd_expected_purchases", "btyd_expected_value"]
#: the customer's purchase history :func:`purchase_history` gives, in order
HISTORY_FEATURES = ["repeat_purchases", "purchase_gap_days", "gap_overdue_ratio", "spend_per_purchase"]
#: the features :func:`btyd_features` adds, in order
BTYD_FEATURES = [*HISTORY_FEATURES, *BTYD_SCORES]
_DAYS_PER_MONTH = 365.25 / 12
#: the months and yearly discount of ``btyd_expected_value`` as the feature engine computes it
BTYD_MONTHS = 12
BTYD_DISCOUNT = 0.1


def rfm_summary(events: pd.DataFrame, as_of, money: str | None = None) -> pd.DataFrame:
    """Per customer with a purchase on or before ``as_of``: ``frequency`` (days with a purchase
    after the first), ``recency`` (days from the first to the last), ``T`` (days from the first
    to ``as_of``), ``monetary_value`` (mean spend per purchase day after the first, from the
    ``money`` column; 0 without repeats or without money) and ``mean_spend`` (mean spend per
    purchase day, the first included; NaN without money). Index ``customer_id``, sorted.

    ``events``: ``customer_id``, ``ts`` and, when given, the ``money`` column (usage_events).
    """
    as_of = pd.Timestamp(as_of).normalize()
    ts = pd.to_datetime(events["ts"])
    past = events.loc[ts < as_of + pd.Timedelta(days=1)]
    day = pd.to_datetime(past["ts"]).dt.normalize()
    spend = pd.to_numeric(past[money], errors="coerce").fillna(0.0) if money else pd.Series(0.0, index=past.index)
    days = (pd.DataFrame({"customer_id": past["customer_id"].astype(str).to_numpy(), "day": day.to_numpy(),
                          "spend": spend.to_numpy()})
            .groupby(["customer_id", "day"], sort=True)["spend"].sum().reset_index())
    g = days.groupby("customer_id", sort=True)
    first, last, n = g["day"].min(), g["day"].max(), g.size()
    total, first_spend = g["spend"].sum(), g["spend"].first()
    frequency = (n - 1).astype(float)
    repeat = (total - first_spend).clip(lower=0)
    return pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days.astype(float),
        "T": (as_of - first).dt.days.astype(float),
        "monetary_value": np.where(frequency > 0, repeat / frequency.where(frequency > 0, 1), 0.0),
        "mean_spend": total / n if money else np.nan,
    })


def purchase_history(summary: pd.DataFrame) -> pd.DataFrame:
    """The customer's own purchase history from :func:`rfm_summary`, as features (same index):

    * ``repeat_purchases``: days with a purchase after the first (BG/NBD's frequency);
    * ``purchase_gap_days``: the usual gap, first to last purchase / repeat purchases (NaN
      without a repeat purchase: no gap seen yet);
    * ``gap_overdue_ratio``: days since the last purchase / the usual gap (3 reads "three usual
      gaps without a purchase"; NaN without a repeat purchase);
    * ``spend_per_purchase``: mean spend per purchase day (NaN without money).
    """
    f = summary["frequency"]
    gap = (summary["recency"] / f.where(f > 0)).astype(float)
    since = summary["T"] - summary["recency"]
    return pd.DataFrame({
        "repeat_purchases": f.astype(float),
        "purchase_gap_days": gap,
        # a gap of under a day (several purchase days in a row) counts as one day
        "gap_overdue_ratio": since / gap.clip(lower=1.0),
        "spend_per_purchase": summary["mean_spend"].astype(float) if "mean_spend" in summary else np.nan,
    }, index=summary.index)


def btyd_scores(summary: pd.DataFrame, horizon_days: int = 90, value_months: int = BTYD_MONTHS,
                annual_discount_rate: float = BTYD_DISCOUNT, penalizer: float = 0.001) -> pd.DataFrame:
    """BG/NBD and Gamma-Gamma fitted on ``summary`` (:func:`rfm_summary`) and applied to it.

    Returns, per customer (index of ``summary``): ``btyd_p_alive``; ``btyd_expected_purchases``
    in the next ``horizon_days``; ``btyd_expected_value``, the spend expected over the next
    ``value_months`` months discounted at ``annual_discount_rate`` (expected purchases per
    month x Gamma-Gamma's expected spend per purchase; NaN when the log has no money or too few
    repeat buyers with money to fit Gamma-Gamma).
    ``penalizer``: lifetimes' L2 penalty, which keeps the fit finite on small logs.
    """
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.utils import ConvergenceError
    except ImportError:  # a venv made before churnlab needed it
        raise ImportError("the buy-till-you-die models of a purchase log need the package lifetimes: run "
                          "`make install` (or pip install -r requirements.lock)") from None

    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    out = pd.DataFrame(index=summary.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' own convergence chatter; a failed fit raises
        try:
            bg = BetaGeoFitter(penalizer_coef=penalizer).fit(f, r, t)
        except ConvergenceError:  # a log too small or too regular to fit: the features stay unknown
            return out.assign(**{name: np.nan for name in BTYD_SCORES})
        out["btyd_p_alive"] = np.asarray(bg.conditional_probability_alive(f, r, t), dtype=float)
        out["btyd_expected_purchases"] = np.asarray(
            bg.conditional_expected_number_of_purchases_up_to_time(horizon_days, f, r, t), dtype=float)
        repeat = (f > 0) & (summary["monetary_value"] > 0)
        out["btyd_expected_value"] = np.nan
        if repeat.sum() < 20:
            return out
        try:
            gg = GammaGammaFitter(penalizer_coef=penalizer).fit(f[repeat], summary.loc[repeat, "monetary_value"])
        except ConvergenceError:
            return out
        spend = np.asarray(gg.conditional_expected_average_profit(f, summary["monetary_value"]), dtype=float)
        monthly = (1 + annual_discount_rate) ** (1 / 12) - 1
        value = np.zeros(len(summary))
        before = np.zeros(len(summary))
        for k in range(1, value_months + 1):  # purchases expected in month k, discounted to today
            upto = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(
                k * _DAYS_PER_MONTH, f, r, t), dtype=float)
            value += (upto - before) * spend / (1 + monthly) ** k
            before = upto
        out["btyd_expected_value"] = value
    return out


def btyd_features(events: pd.DataFrame, snapshots, money: str | None = None, horizon_days: int = 90,
                  value_months: int = BTYD_MONTHS, annual_discount_rate: float = BTYD_DISCOUNT) -> pd.DataFrame:
    """:func:`purchase_history` and :func:`btyd_scores` fitted at each snapshot on the purchases
    up to it: columns ``snapshot``, ``customer_id`` and :data:`BTYD_FEATURES`. A snapshot with
    fewer than two customers or no repeat purchase is left out (nothing to fit)."""
    parts = []
    for snap in sorted(pd.to_datetime(list(snapshots))):
        summary = rfm_summary(events, snap, money)
        if len(summary) < 2 or not (summary["frequency"] > 0).any():
            continue
        scores = btyd_scores(summary, horizon_days, value_months, annual_discount_rate)
        parts.append(purchase_history(summary).join(scores).reset_index().assign(snapshot=snap))
    if not parts:
        return pd.DataFrame(columns=["snapshot", "customer_id", *BTYD_FEATURES])
    return pd.concat(parts, ignore_index=True)[["snapshot", "customer_id", *BTYD_FEATURES]]
