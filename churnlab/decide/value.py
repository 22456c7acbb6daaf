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

Where the money comes from (a flat table, a bank export or a purchase log has no subscriptions),
in this order; the first that applies is used for everyone:

1. ``subscriptions``: the ``mrr`` feature, when some scored customer has mrr > 0 (as above);
2. ``money column <name> (<per>)``: ``settings.value.money``, else the mapping's ``money``
   (:class:`~churnlab.settings.MoneySettings`), a customer column or feature turned into monthly
   money (revenue: the amount per month, per year / 12, or a tenure total / months of tenure;
   a balance: amount x yearly ``rate`` / 12) and monthly margin (x ``rate`` or ``margin_rate``;
   a balance's monthly money is margin already); ``expected_margin`` = monthly margin x A and
   ``arr`` = 12 x monthly money;
3. ``purchases (BG/NBD + Gamma-Gamma)``: a purchase log read under churn by inactivity has the
   ``btyd_expected_value`` feature (:mod:`churnlab.features.btyd`): the spend expected over the
   next ``horizon_months``, discounted at ``annual_discount_rate`` (the run passes both to the
   feature engine, ``Dataset.btyd``); ``expected_margin`` = that x ``margin_rate`` and ``arr`` =
   that per year (x 12 / ``horizon_months``);
4. ``constant <x>``: ``settings.value.constant`` is every customer's ``expected_margin``;
5. ``none``: the value is unknown. ``expected_margin`` and ``value`` are NaN for everyone (not 0:
   a 0 would send every at-risk customer to the Dead Zone) and zones should use risk alone.

The result's ``attrs["value_source"]`` names the source (:func:`value_source`) and
``attrs["value_note"]`` says it in one sentence for the notebook and the index page
(:func:`value_note`). Pandas keeps ``attrs`` in Parquet, so both survive
``Handoff.put``/``Handoff.take``; a merge or ``concat`` may drop them, so read them from the
value frame itself.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.settings import MoneySettings, Settings, ValueSettings

__all__ = ["customer_value", "survival_annuity", "value_source", "value_note", "VALUE_COLUMNS"]

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


def _money_amount(rows: pd.DataFrame, money: MoneySettings, origin: str) -> np.ndarray:
    """The money column of ``rows`` as numbers, negative amounts and missing cells as NaN."""
    name = money.column
    if name not in rows.columns:
        numbers = [str(c) for c in rows.columns if pd.api.types.is_numeric_dtype(rows[c]) and c != "customer_id"]
        raise ValueError(f"{origin} names the column {name!r}, which is neither a customer column nor a feature; "
                         f"columns holding numbers: {', '.join(numbers[:30]) or 'none'}")
    column = rows[name]
    if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
        raise ValueError(f"{origin} names the column {name!r}, which holds text, not amounts; in a mapping, "
                         f"list it under tables.customers.numeric")
    amount = column.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(amount >= 0, amount, np.nan)


def _monthly_money(amount: np.ndarray, money: MoneySettings, rows: pd.DataFrame, vs: ValueSettings):
    """(monthly money, monthly margin) of each customer from its amount; a missing amount gives 0."""
    amount = np.nan_to_num(amount, nan=0.0)
    if money.per == "balance":
        monthly = amount * money.rate / 12.0
        return monthly, monthly
    if money.per == "total":
        if "tenure_days" not in rows.columns:
            raise ValueError(f"value.money: {money.column!r} is a total over the tenure, and the features have no "
                             "tenure_days to spread it over")
        months = np.maximum(_column(rows, "tenure_days") / _DAYS_PER_MONTH, 1.0)
    else:
        months = 12.0 if money.per == "year" else 1.0
    monthly = amount / months
    return monthly, monthly * (vs.margin_rate if money.rate is None else money.rate)


def _curve_words(vs: ValueSettings) -> str:
    return (f"over the survival curve ({vs.horizon_months} months, discounted {100 * vs.annual_discount_rate:g}% "
            f"a year)")


def customer_value(scores: pd.DataFrame, features: pd.DataFrame, survival, *,
                   settings: Settings | None = None) -> pd.DataFrame:
    """The value of each scored customer and its parts.

    Parameters
    ----------
    scores : one row per customer (needs ``customer_id``; e.g. from :func:`churnlab.score`).
    features : the features at the same as-of date (``mrr``, ``arr``, ``seats``,
        ``active_users_30d``, ``reach_365d``, ``negative_reach_365d``, ``referrals_365d``,
        ``tenure_days`` and the money column of the settings are read when present); must hold
        every customer of ``scores``.
    survival : the survival model (``bundle.survival``) or any object with
        ``survival_function(frame, times)``.
    settings : run settings; ``settings.value`` holds every rate and weight and where money comes
        from without subscriptions (``value.money``, ``value.constant``), ``settings.mapping.money``
        the mapping's money column.

    Returns
    -------
    DataFrame in the order of ``scores`` with :data:`VALUE_COLUMNS`: ``customer_id``, ``arr``,
    ``expected_margin``, ``advocacy_value``, ``expansion_value``, ``value`` (currency of the
    money), and ``attrs["value_source"]`` / ``attrs["value_note"]`` (see the module docstring).
    ``value`` is NaN for everyone when the source is ``none``.

    Raises
    ------
    ValueError : the features lack a scored customer or hold one twice; the money column named by
        the settings or the mapping is missing or holds text.
    """
    settings = settings or Settings()
    vs = settings.value
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
    money = vs.money or (settings.mapping.money if settings.mapping is not None else None)
    origin = "value.money" if vs.money is not None else "the mapping's money"
    annuity = np.zeros(len(rows))
    if "mrr" in rows.columns and (mrr > 0).any():
        source = "subscriptions"
        annuity = survival_annuity(rows, survival, vs.horizon_months, vs.annual_discount_rate)
        expected_margin = mrr * vs.margin_rate * annuity
        note = (f"value from subscription MRR x margin {100 * vs.margin_rate:g}% {_curve_words(vs)}, "
                "plus advocacy and expansion")
    elif money is not None:
        amount = _money_amount(rows, money, origin)
        monthly, margin = _monthly_money(amount, money, rows, vs)
        annuity = survival_annuity(rows, survival, vs.horizon_months, vs.annual_discount_rate)
        expected_margin = margin * annuity
        arr = 12.0 * monthly
        source = f"money column {money.column} ({money.describe()})"
        share = "" if money.per == "balance" else \
            f" x margin {100 * (vs.margin_rate if money.rate is None else money.rate):g}%"
        named = ", named by the mapping" if vs.money is None else ""
        without = int(np.isnan(amount).sum())
        note = (f"value from {money.column} ({money.describe()}{named}){share} {_curve_words(vs)}"
                + (f"; {without:,} customers without an amount count 0" if without else ""))
    elif "btyd_expected_value" in rows.columns and rows["btyd_expected_value"].notna().any():
        spend = _column(rows, "btyd_expected_value")
        source = "purchases (BG/NBD + Gamma-Gamma)"
        expected_margin = spend * vs.margin_rate
        arr = spend * 12.0 / vs.horizon_months
        note = (f"value from the purchase log: the spend BG/NBD and Gamma-Gamma expect over the next "
                f"{vs.horizon_months} months, discounted {100 * vs.annual_discount_rate:g}% a year, "
                f"x margin {100 * vs.margin_rate:g}%")
    elif vs.constant is not None:
        source = f"constant {vs.constant:g}"
        expected_margin = np.full(len(rows), float(vs.constant))
        note = (f"value is {vs.constant:,.0f} for every customer (value.constant): the data has no subscription "
                "MRR and no money column is set")
    else:
        source = "none"
        expected_margin = np.full(len(rows), np.nan)
        note = ("no money column in the data and no value.constant: zones use risk alone; "
                "set value.money or value.constant")

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

    out = pd.DataFrame({
        "customer_id": scores["customer_id"].to_numpy(),
        "arr": arr,
        "expected_margin": expected_margin,
        "advocacy_value": advocacy,
        "expansion_value": expansion,
        "value": expected_margin + advocacy + expansion,
    }, columns=VALUE_COLUMNS)
    out.attrs["value_source"] = source
    out.attrs["value_note"] = note
    return out


def _attr(value_frame: pd.DataFrame, key: str) -> str:
    try:
        return str(value_frame.attrs[key])
    except KeyError:
        raise ValueError(f"this frame carries no {key}: pass the frame customer_value returned (or "
                         "hand.take('value')), not one made from it by a merge or concat") from None


def value_source(value_frame: pd.DataFrame) -> str:
    """Where the value of :func:`customer_value`'s result comes from: ``"subscriptions"``,
    ``"money column <name> (<per>)"``, ``"constant <x>"`` or ``"none"`` (value unknown: zone by
    risk alone). Read from ``attrs``, which a Parquet round trip (``Handoff.put``/``take``) keeps."""
    return _attr(value_frame, "value_source")


def value_note(value_frame: pd.DataFrame) -> str:
    """One sentence saying where the value of :func:`customer_value`'s result comes from, for
    notebook 04 and the index page, e.g. "value from MonthlyCharges (per month) x margin 70% over
    the survival curve (24 months, discounted 10% a year)"."""
    return _attr(value_frame, "value_note")
