"""customer_value: expected margin from the survival curve, advocacy and expansion, on hand-made customers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churnlab.settings import Settings, ValueSettings
from churnlab.decide.value import customer_value, survival_annuity

MONTH = 365.25 / 12


class NeverChurns:
    """A survival model under which every customer stays: S(t) = 1."""

    def survival_function(self, frame, times):
        return pd.DataFrame(np.ones((len(times), len(frame))), index=np.asarray(times, dtype=float))


class ConstantHazard:
    """S(t) = exp(-rate x t) per customer, known only up to ``time_range_days_``; past it the
    curve stays flat, as a Cox baseline does past its last event time."""

    def __init__(self, rates, time_range_days=np.inf):
        self.rates = np.asarray(rates, dtype=float)
        self.time_range_days_ = time_range_days

    def survival_function(self, frame, times):
        t = np.minimum(np.asarray(times, dtype=float), self.time_range_days_)
        return pd.DataFrame(np.exp(-np.outer(t, self.rates[: len(frame)])), index=np.asarray(times, dtype=float))


def settings(**value) -> Settings:
    base = dict(horizon_months=12, margin_rate=0.5, annual_discount_rate=0.0)
    return Settings(value=ValueSettings(**{**base, **value}))


def customers(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(1, n + 1)], **columns})


def test_expected_margin_is_monthly_margin_over_the_horizon_when_nobody_churns():
    features = customers(mrr=[100.0, 0.0], arr=[1200.0, 0.0])
    out = customer_value(features[["customer_id"]], features, NeverChurns(), settings=settings())
    # 12 months x 100 mrr x 0.5 margin
    assert out["expected_margin"].tolist() == pytest.approx([600.0, 0.0])
    assert out["arr"].tolist() == [1200.0, 0.0]
    assert out["value"].tolist() == pytest.approx([600.0, 0.0])


def test_expected_margin_is_discounted_at_the_annual_rate():
    features = customers(mrr=[100.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(annual_discount_rate=0.10))
    expected = sum(100.0 * 0.5 * 1.10 ** (-k / 12) for k in range(1, 13))
    assert out["expected_margin"].iloc[0] == pytest.approx(expected)
    assert expected < 600.0


def test_expected_margin_follows_each_customers_survival_curve():
    features = customers(mrr=[100.0, 100.0])
    rates = [0.0, 0.01]    # per day
    out = customer_value(features, features, ConstantHazard(rates), settings=settings())
    second = sum(100.0 * 0.5 * math.exp(-0.01 * k * MONTH) for k in range(1, 13))
    assert out["expected_margin"].tolist() == pytest.approx([600.0, second])


def test_survival_past_the_models_time_range_continues_at_the_customers_average_hazard():
    features = customers(mrr=[100.0])
    flat_after_60_days = ConstantHazard([0.01], time_range_days=60.0)
    annuity = survival_annuity(features, flat_after_60_days, months=12, annual_discount_rate=0.0)
    # the tail is extended at -ln S(60)/60 = 0.01 a day, so the whole curve is exp(-0.01 t)
    assert annuity[0] == pytest.approx(sum(math.exp(-0.01 * k * MONTH) for k in range(1, 13)))


def test_a_vocal_detractor_on_a_small_contract_is_worth_more_than_its_margin():
    features = customers(mrr=[10.0, 10.0], reach_365d=[20_000.0, 500.0], negative_reach_365d=[20_000.0, 500.0],
                         referrals_365d=[0.0, 0.0])
    out = customer_value(features, features, NeverChurns(), settings=settings())
    # vocal (reach >= 1,000): 0.25 per person reached; the second is below the vocal threshold
    assert out["advocacy_value"].tolist() == pytest.approx([5000.0, 0.0])
    assert out["value"].iloc[0] == pytest.approx(60.0 + 5000.0)


def test_advocacy_weights_positive_and_negative_reach_and_counts_referrals():
    features = customers(mrr=[0.0], reach_365d=[4000.0], negative_reach_365d=[1000.0], referrals_365d=[2.0])
    out = customer_value(features, features, NeverChurns(),
                         settings=settings(promoter_weight=1.0, detractor_weight=2.0, value_per_referral=500.0))
    # 0.25 x (1 x 3,000 positive + 2 x 1,000 negative) + 2 referrals x 500
    assert out["advocacy_value"].iloc[0] == pytest.approx(0.25 * 5000.0 + 1000.0)


def test_expansion_value_only_for_customers_near_their_seat_limit():
    features = customers(mrr=[100.0, 100.0], seats=[10.0, 10.0], active_users_30d=[9.0, 8.0])
    out = customer_value(features, features, NeverChurns(), settings=settings())
    # 9 of 10 seats in use: 0.3 chance x 0.5 margin x 10 per seat x ceil(10 x 0.2) = 2 seats x 12 months
    assert out["expansion_value"].tolist() == pytest.approx([0.3 * 0.5 * 10.0 * 2 * 12, 0.0])


def test_parts_without_their_tables_are_zero():
    features = customers(mrr=[100.0])
    out = customer_value(features, features, NeverChurns(), settings=settings())
    assert out[["advocacy_value", "expansion_value"]].iloc[0].tolist() == [0.0, 0.0]
    assert out["arr"].iloc[0] == 1200.0   # 12 x mrr when the features have no arr


def test_scored_customers_without_features_are_named():
    features = customers(mrr=[100.0])
    scores = pd.DataFrame({"customer_id": ["C1", "C-404"]})
    with pytest.raises(ValueError, match="C-404"):
        customer_value(scores, features, NeverChurns(), settings=settings())


def test_inputs_are_not_changed():
    features = customers(mrr=[100.0], seats=[10.0], active_users_30d=[10.0])
    before = features.copy()
    customer_value(features, features, NeverChurns(), settings=settings())
    pd.testing.assert_frame_equal(features, before)
