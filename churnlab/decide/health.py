"""The health score: 0-100 and a band, from quantitative and qualitative components.

Low usage alone does not make a customer red: the score blends seven components, each scored 0-100
by a documented transform of the features (``docs/features.md``) and shown in its own column
``health_<component>``:

=============  ==========================================================================
component      transform (100 = healthiest)
=============  ==========================================================================
usage          percentile rank of ``events_30d`` among the customers of the frame (ties
               share their mean rank), x 100
adoption       mean of: percentile rank of ``event_types_30d`` x 100, and the share of seats
               in use, 100 x min(``active_users_30d`` / ``seats``, 1) (where seats > 0)
trend          ``usage_trend_30d`` (log of this month's events over last month's) on fixed
               anchors: halved (-ln 2) or worse 0, flat 75, up by half (ln 1.5) or more 100
nps            ``last_nps`` on anchors 0 -> 0, 6 -> 40, 8 -> 70, 10 -> 100
sentiment      mean of: survey comment sentiment 50 x (``comment_sentiment_180d`` + 1),
               touchpoint sentiment 50 x (``touch_sentiment_90d`` + 1), CSAT
               25 x (``last_csat`` - 1)
support        mean of: backlog = ``tickets_open_over_7d`` + ``open_high_critical_tickets`` +
               2 x ``critical_open_over_14d`` on anchors 0 -> 100, 1 -> 70, 3 -> 30, 6 -> 0,
               and ticket CSAT 25 x (``ticket_csat_180d`` - 1)
billing        issues = ``overdue_invoices`` + ``late_payments_180d`` + 2 x
               ``failed_payments_180d`` on anchors 0 -> 100, 1 -> 60, 2 -> 30, 4 -> 0
=============  ==========================================================================

Between anchors scores are linear; beyond the last anchor they stay at its score. A component
is *missing* for a customer when none of its inputs is known (no NPS answer, no surveys table);
the score is then the weighted mean of the components present, i.e. the other weights are scaled
up — a missing component is never scored as zero. ``health_score`` is missing only when no
weighted component is known.

**Weights.** ``settings.health.weights`` (manual, the default), or learned from the churn model
(``weights_from: learned``, needs a bundle): the absolute standardised coefficients of the
logistic model (of the survival model when the chosen classifier is not logistic) summed over
the features of each component (:data:`LEARNED_FROM`), as shares. :func:`health_weights` says
which were used and where they came from.

**Bands.** good from ``good_min``, fair from ``fair_min``, weak from ``weak_min``, poor below it
(``settings.health``). Words, not colours: a health band never reads like a zone ("red" is the
Red Zone only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.settings import Settings

__all__ = ["health_score", "health_weights", "COMPONENTS", "LEARNED_FROM", "BANDS"]

COMPONENTS = ("usage", "adoption", "trend", "nps", "sentiment", "support", "billing")
BANDS = ("good", "fair", "weak", "poor")

#: The model features whose coefficients make up each component's learned weight.
LEARNED_FROM: dict[str, tuple[str, ...]] = {
    "usage": ("events_7d", "quantity_7d", "events_30d", "quantity_30d", "events_90d", "quantity_90d",
              "events_180d", "quantity_180d", "days_since_last_use"),
    "adoption": ("event_types_30d", "active_users_30d"),
    "trend": ("events_prior_30d", "usage_trend_30d", "usage_change_60d_pct", "event_types_change_30d",
              "active_users_change_30d"),
    "nps": ("last_nps", "nps_change", "nps_detractor", "nps_promoter"),
    "sentiment": ("comment_sentiment_180d", "touch_sentiment_90d", "last_csat", "csat_change", "last_ces",
                  "ces_change", "satisfaction_mean", "inbound_complaints_90d", "negative_sales_touches_90d",
                  "negative_marketing_touches_90d", "negative_finance_touches_90d", "negative_rnd_touches_90d",
                  "negative_support_touches_90d", "negative_success_touches_90d"),
    "support": ("open_tickets", "open_high_critical_tickets", "tickets_open_over_7d", "critical_open_over_14d",
                "tickets_90d", "high_critical_tickets_90d", "resolution_hours_90d", "reopened_tickets_90d",
                "ticket_csat_180d"),
    "billing": ("overdue_invoices", "days_overdue_max", "overdue_amount", "late_payments_180d",
                "failed_payments_180d"),
}


def _get(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column, or all-missing when the frame lacks it."""
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def _anchors(x: pd.Series, xs: list[float], ys: list[float]) -> pd.Series:
    out = np.interp(x.to_numpy(dtype="float64"), xs, ys)
    return pd.Series(np.where(x.isna(), np.nan, out), index=x.index)


def _percentile(x: pd.Series) -> pd.Series:
    return 100.0 * x.rank(method="average", pct=True)


def _mean_known(*parts: pd.Series) -> pd.Series:
    """Row mean over the parts that are known (missing when none is)."""
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def _sum_known(frame: pd.DataFrame, terms: dict[str, float]) -> pd.Series:
    """Weighted sum of the columns present; missing when none of them is known for a row."""
    cols = pd.concat({name: _get(frame, name) * w for name, w in terms.items()}, axis=1)
    return cols.sum(axis=1, min_count=1)


def _components(features: pd.DataFrame) -> pd.DataFrame:
    f = features
    seats, users = _get(f, "seats"), _get(f, "active_users_30d")
    seat_use = 100.0 * (users / seats.where(seats > 0)).clip(upper=1.0)
    backlog = _sum_known(f, {"tickets_open_over_7d": 1.0, "open_high_critical_tickets": 1.0,
                             "critical_open_over_14d": 2.0})
    issues = _sum_known(f, {"overdue_invoices": 1.0, "late_payments_180d": 1.0, "failed_payments_180d": 2.0})
    return pd.DataFrame({
        "usage": _percentile(_get(f, "events_30d")),
        "adoption": _mean_known(_percentile(_get(f, "event_types_30d")), seat_use),
        "trend": _anchors(_get(f, "usage_trend_30d"), [-np.log(2.0), 0.0, np.log(1.5)], [0.0, 75.0, 100.0]),
        "nps": _anchors(_get(f, "last_nps"), [0.0, 6.0, 8.0, 10.0], [0.0, 40.0, 70.0, 100.0]),
        "sentiment": _mean_known(50.0 * (_get(f, "comment_sentiment_180d") + 1.0),
                                 50.0 * (_get(f, "touch_sentiment_90d") + 1.0),
                                 25.0 * (_get(f, "last_csat") - 1.0)),
        "support": _mean_known(_anchors(backlog, [0.0, 1.0, 3.0, 6.0], [100.0, 70.0, 30.0, 0.0]),
                               25.0 * (_get(f, "ticket_csat_180d") - 1.0)),
        "billing": _anchors(issues, [0.0, 1.0, 2.0, 4.0], [100.0, 60.0, 30.0, 0.0]),
    }, index=f.index).clip(0.0, 100.0)


def _model_coefficients(bundle) -> tuple[pd.Series, str]:
    """|standardised coefficient| per model feature and the name of the model they came from."""
    from churnlab.models.design import source_feature

    classifier = getattr(bundle, "classifier", None)
    if getattr(classifier, "kind", "") == "logistic":
        design = classifier.pipeline_.named_steps["design"]
        names = list(design.get_feature_names_out())
        coef = pd.Series(np.abs(classifier.pipeline_.named_steps["model"].coef_[0]), index=names)
        features, source = classifier.features_, "logistic regression"
    else:
        survival = bundle.survival
        coef = survival.coefficients()["coef"].abs()
        features, source = survival.features_, f"{survival.kind} survival model"
    owner = [source_feature(c, features) for c in coef.index]
    return coef.groupby(owner).sum(), source


def health_weights(bundle=None, *, settings: Settings | None = None) -> pd.Series:
    """The component weights in use, as shares summing to 1 (index: :data:`COMPONENTS`).

    ``series.attrs["source"]`` says where they came from ("settings" or the model's name).
    With ``weights_from: learned`` a bundle is required.
    """
    settings = settings or Settings()
    hs = settings.health
    if hs.weights_from == "learned":
        if bundle is None:
            raise ValueError("health: weights_from is 'learned' but no model bundle was given "
                             "(pass bundle=... or set health.weights_from: manual)")
        coef, source = _model_coefficients(bundle)
        raw = pd.Series({c: float(coef.reindex(list(LEARNED_FROM[c])).fillna(0.0).sum()) for c in COMPONENTS})
        source = f"learned from the {source} (absolute standardised coefficients per component)"
    else:
        raw = pd.Series({c: float(hs.weights.get(c, 0.0)) for c in COMPONENTS})
        source = "settings"
    if raw.sum() <= 0:
        raise ValueError(f"health: every component weight is 0 ({source}); give at least one a weight")
    weights = raw / raw.sum()
    weights.attrs["source"] = source
    return weights


def health_score(features: pd.DataFrame, bundle=None, *, settings: Settings | None = None) -> pd.DataFrame:
    """Health score, band and component scores of each customer of ``features``.

    Parameters
    ----------
    features : one row per customer at the as-of date (:func:`churnlab.build_features`);
        percentile components rank customers within this frame, so pass all active customers.
    settings : run settings (``settings.health``: weights, learned or manual, band cut-offs).
    bundle : the fitted model bundle; needed when ``weights_from`` is ``learned``.

    Returns
    -------
    DataFrame in the order of ``features``: ``customer_id``, ``health_score`` (0-100),
    ``health_band`` (good, fair, weak, poor; missing with the score), then
    ``health_<component>`` (0-100, missing when the customer has no data for it) for each of
    :data:`COMPONENTS`. ``frame.attrs["health_weights"]`` holds the weights used.
    """
    if "customer_id" not in features.columns:
        raise ValueError("health_score: features need a customer_id column")
    settings = settings or Settings()
    hs = settings.health
    weights = health_weights(bundle, settings=settings)
    parts = _components(features)
    known = parts.notna()
    w = known.mul(weights, axis=1)
    total = w.sum(axis=1)
    score = (parts.fillna(0.0) * w).sum(axis=1) / total.where(total > 0)
    band = pd.Series(np.select([score >= hs.good_min, score >= hs.fair_min, score >= hs.weak_min, score.notna()],
                               list(BANDS), default=None), index=features.index, dtype="object")
    out = pd.DataFrame({"customer_id": features["customer_id"].to_numpy(),
                        "health_score": score.to_numpy(), "health_band": band.to_numpy()})
    for c in COMPONENTS:
        out[f"health_{c}"] = parts[c].to_numpy()
    out.attrs["health_weights"] = weights.to_dict()
    out.attrs["health_weights_source"] = weights.attrs["source"]
    return out
