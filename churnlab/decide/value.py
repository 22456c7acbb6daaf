"""What each customer is worth to the business: not ARR alone.

:func:`customer_value` adds three documented parts, each kept as its own column so a reader sees
why a small contract can be worth saving and a large one not (``settings.value``,
:class:`~churnlab.settings.ValueSettings`):

* ``expected_margin``: the discounted margin the customer is expected to bring over the next
  ``horizon_months`` months, from its own survival curve S(t) of the churn model::

      A = sum_{k=1..H} S(k months) * (1 + annual_discount_rate) ** (-k / 12)   # survival annuity
      expected_margin = mrr * margin_rate * A

  Beyond the survival model's time range (``time_range_days_``, the longest duration it was
  fitted on) the curve is extended at the customer's own average hazard over that range,
  S(t) = S(T) * exp(-(t - T) * (-ln S(T) / T)), instead of staying flat (a flat tail would
  promise customers eternal life).
* ``advocacy_value``: the customer's public voice. For a *vocal* customer (its reviews and
  mentions reached at least ``vocal_reach_min`` people in the last year)::

      value_per_reach * (promoter_weight * (reach_365d - negative_reach_365d)
                         + detractor_weight * negative_reach_365d)

  plus ``value_per_referral * referrals_365d`` for everyone. A vocal detractor counts: turning
  one round is worth about as much as keeping a promoter, even on a small contract.
* ``expansion_value``: for a customer using at least ``seat_use_near_limit`` of its seats
  (``active_users_30d / seats``), the margin of the extra seats it would likely buy::

      expansion_probability * margin_rate * (mrr / seats) * ceil(seats * expansion_seat_share) * A

``value`` is the sum of the three; ``arr`` (12 x mrr at the as-of date) stays beside it.
A part whose input columns are absent from the features (e.g. no ``advocacy`` table) is 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.settings import Settings

__all__ = ["customer_value", "survival_annuity", "VALUE_COLUMNS"]

VALUE_COLUMNS = ["customer_id", "arr", "expected_margin", "advocacy_value", "expansion_value", "value"]
_DAYS_PER_MONTH = 365.25 / 12


def _column(frame: pd.DataFrame, name: str, fill: float = 0.0) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), fill, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").fillna(fill).to_numpy(dtype="float64")


def survival_annuity(features: pd.DataFrame, survival, months: int, annual_discount_rate: float) -> np.ndarray:
    """A = sum over k = 1..``months`` of S(k months) x (1 + rate) ** (-k / 12), per row of ``features``.

    ``survival`` is anything with ``survival_function(frame, times) -> DataFrame`` (times as
    index, one column per row of ``frame``), e.g. ``bundle.survival``; its ``time_range_days_``,
    when present, is where the constant-hazard tail starts (see the module docstring).
    """
    if len(features) == 0:
        return np.zeros(0)
    times = np.arange(1, months + 1) * _DAYS_PER_MONTH
    cap = float(getattr(survival, "time_range_days_", np.inf))
    inside = times[times <= cap]
    grid = np.unique(np.concatenate([inside, [cap]])) if np.isfinite(cap) and cap < times[-1] else inside
    if len(grid):
        S = survival.survival_function(features, grid).to_numpy(dtype="float64")  # (len(grid), n)
    else:
        S = np.ones((0, len(features)))
    S = np.clip(S, 0.0, 1.0)
    curve = np.empty((len(times), len(features)))
    curve[: len(inside)] = S[: len(inside)]
    if len(inside) < len(times):
        if len(grid):
            s_cap, t_cap = S[-1], grid[-1]
        else:  # a time range shorter than a month: S(T) read at T itself
            s_cap = np.clip(survival.survival_function(features, [cap]).to_numpy(dtype="float64")[0], 0.0, 1.0)
            t_cap = cap
        with np.errstate(divide="ignore"):
            hazard = -np.log(np.maximum(s_cap, 1e-300)) / t_cap
        beyond = times[len(inside):]
        curve[len(inside):] = s_cap[None, :] * np.exp(-(beyond - t_cap)[:, None] * hazard[None, :])
    discount = (1.0 + annual_discount_rate) ** (-np.arange(1, months + 1) / 12.0)
    return (curve * discount[:, None]).sum(axis=0)


def customer_value(scores: pd.DataFrame, features: pd.DataFrame, survival, *,
                   settings: Settings | None = None) -> pd.DataFrame:
    """The value of each scored customer and its parts.

    Parameters
    ----------
    scores : one row per customer (needs ``customer_id``; e.g. from :func:`churnlab.score`).
    features : the features at the same as-of date (``mrr``, ``arr``, ``seats``,
        ``active_users_30d``, ``reach_365d``, ``negative_reach_365d``, ``referrals_365d`` are read
        when present); must hold every customer of ``scores``.
    survival : the survival model (``bundle.survival``) or any object with
        ``survival_function(frame, times)``.
    settings : run settings; ``settings.value`` holds every rate and weight.

    Returns
    -------
    DataFrame in the order of ``scores`` with :data:`VALUE_COLUMNS`: ``customer_id``, ``arr``,
    ``expected_margin``, ``advocacy_value``, ``expansion_value``, ``value`` (currency of mrr).
    """
    vs = (settings or Settings()).value
    if "customer_id" not in scores.columns or "customer_id" not in features.columns:
        raise ValueError("customer_value: scores and features both need a customer_id column")
    if features["customer_id"].duplicated().any():
        dup = features.loc[features["customer_id"].duplicated(), "customer_id"].head(3).tolist()
        raise ValueError(f"customer_value: features hold customers twice (e.g. {', '.join(map(str, dup))})")
    missing = scores.loc[~scores["customer_id"].isin(features["customer_id"]), "customer_id"]
    if len(missing):
        raise ValueError(f"customer_value: {len(missing)} scored customers have no features "
                         f"(e.g. {', '.join(map(str, missing.head(3)))})")
    rows = features.set_index("customer_id").reindex(scores["customer_id"]).reset_index()

    mrr = _column(rows, "mrr")
    arr = _column(rows, "arr") if "arr" in rows.columns else 12.0 * mrr
    annuity = survival_annuity(rows, survival, vs.horizon_months, vs.annual_discount_rate)
    expected_margin = mrr * vs.margin_rate * annuity

    reach = _column(rows, "reach_365d")
    negative = np.minimum(_column(rows, "negative_reach_365d"), reach)
    vocal = reach >= vs.vocal_reach_min
    voice = vs.promoter_weight * (reach - negative) + vs.detractor_weight * negative
    advocacy = np.where(vocal, vs.value_per_reach * voice, 0.0) + vs.value_per_referral * _column(rows, "referrals_365d")

    seats = _column(rows, "seats")
    users = _column(rows, "active_users_30d")
    with np.errstate(divide="ignore", invalid="ignore"):
        use = np.where(seats > 0, users / np.where(seats > 0, seats, 1.0), 0.0)
        per_seat = np.where(seats > 0, mrr / np.where(seats > 0, seats, 1.0), 0.0)
    near_limit = (seats > 0) & (use >= vs.seat_use_near_limit)
    extra_seats = np.ceil(seats * vs.expansion_seat_share)
    expansion = np.where(near_limit, vs.expansion_probability * vs.margin_rate * per_seat * extra_seats * annuity, 0.0)

    return pd.DataFrame({
        "customer_id": scores["customer_id"].to_numpy(),
        "arr": arr,
        "expected_margin": expected_margin,
        "advocacy_value": advocacy,
        "expansion_value": expansion,
        "value": expected_margin + advocacy + expansion,
    }, columns=VALUE_COLUMNS)
