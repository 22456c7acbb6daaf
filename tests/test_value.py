"""customer_value: expected margin from the survival curve, advocacy and expansion, on hand-made customers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churnlab.data.loading import load_data
from churnlab.decide.value import customer_value, survival_annuity, value_note, value_source
from churnlab.features.engine import build_features
from churnlab.report.handoff import Handoff
from churnlab.settings import MappingSettings, MoneySettings, Settings, ValueSettings, load_settings

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


# --- where the money comes from: subscriptions, a money column, a constant, or none ----------

def money(column="MonthlyCharges", **more) -> MoneySettings:
    return MoneySettings(column=column, **more)


def test_subscriptions_win_over_a_money_column_when_someone_has_mrr():
    features = customers(mrr=[100.0, 0.0], MonthlyCharges=[50.0, 60.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money()))
    assert value_source(out) == "subscriptions"
    assert out["expected_margin"].tolist() == pytest.approx([600.0, 0.0])   # 12 x 100 x 0.5; charges unused


def test_a_monthly_money_column_gives_margin_and_arr_without_subscriptions():
    features = customers(mrr=[0.0, 0.0], MonthlyCharges=[50.0, 80.0])   # subscriptions, all of them zero
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money(per="month")))
    assert value_source(out) == "money column MonthlyCharges (per month)"
    assert out["expected_margin"].tolist() == pytest.approx([12 * 50.0 * 0.5, 12 * 80.0 * 0.5])
    assert out["arr"].tolist() == pytest.approx([600.0, 960.0])          # 12 x monthly money, not 0


def test_a_yearly_amount_is_spread_over_twelve_months():
    features = customers(AnnualFee=[1200.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money("AnnualFee", per="year")))
    assert out["expected_margin"].iloc[0] == pytest.approx(12 * 100.0 * 0.5)
    assert out["arr"].iloc[0] == pytest.approx(1200.0)
    assert value_source(out) == "money column AnnualFee (per year)"


def test_a_tenure_total_is_spread_over_the_months_of_tenure_at_least_one():
    features = customers(TotalCharges=[1200.0, 30.0], tenure_days=[24 * MONTH, 0.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money("TotalCharges", per="total")))
    # 1,200 over 24 months = 50 a month; a customer who joined today: 30 over one month
    assert out["arr"].tolist() == pytest.approx([600.0, 360.0])
    assert out["expected_margin"].tolist() == pytest.approx([12 * 50.0 * 0.5, 12 * 30.0 * 0.5])


def test_a_balance_earns_its_yearly_rate_and_no_margin_rate_on_top():
    features = customers(Balance=[12_000.0, 0.0])
    out = customer_value(features, features, NeverChurns(),
                         settings=settings(money=money("Balance", per="balance", rate=0.02)))
    # 12,000 x 2% a year = 20 a month of margin, for 12 months
    assert out["expected_margin"].tolist() == pytest.approx([240.0, 0.0])
    assert out["arr"].tolist() == pytest.approx([240.0, 0.0])
    assert value_source(out) == "money column Balance (balance at 2% a year)"


def test_a_balance_without_a_rate_is_refused_because_a_balance_is_not_margin():
    with pytest.raises(ValueError, match="rate"):
        MoneySettings(column="Balance", per="balance")


def test_a_rate_replaces_the_margin_rate_for_revenue():
    features = customers(MonthlyCharges=[100.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money(rate=0.2)))
    assert out["expected_margin"].iloc[0] == pytest.approx(12 * 100.0 * 0.2)


def test_missing_and_negative_amounts_count_zero_and_the_note_says_how_many():
    features = customers(MonthlyCharges=[100.0, np.nan, -5.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money()))
    assert out["value"].tolist() == pytest.approx([600.0, 0.0, 0.0])
    assert "2 customers without an amount count 0" in value_note(out)


def test_the_mappings_money_is_used_and_value_money_wins_over_it():
    features = customers(MonthlyCharges=[100.0], TotalCharges=[2400.0], tenure_days=[24 * MONTH])
    mapped = MappingSettings.model_validate({
        "tables": {"customers": {"numeric": ["MonthlyCharges", "TotalCharges"]}},
        "money": {"column": "MonthlyCharges", "per": "month"}})
    base = dict(horizon_months=12, margin_rate=0.5, annual_discount_rate=0.0)
    by_mapping = Settings(mapping=mapped, value=ValueSettings(**base))
    out = customer_value(features, features, NeverChurns(), settings=by_mapping)
    assert value_source(out) == "money column MonthlyCharges (per month)"
    assert "named by the mapping" in value_note(out)
    overridden = Settings(mapping=mapped, value=ValueSettings(**base, money=money("TotalCharges", per="total")))
    out = customer_value(features, features, NeverChurns(), settings=overridden)
    assert value_source(out) == "money column TotalCharges (total over tenure)"


def test_a_constant_is_every_customers_value_when_there_is_no_money():
    features = customers(mrr=[0.0, 0.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(constant=500.0))
    assert value_source(out) == "constant 500"
    assert out["value"].tolist() == [500.0, 500.0]


def test_a_money_column_comes_before_the_constant():
    features = customers(MonthlyCharges=[10.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money(), constant=500.0))
    assert value_source(out).startswith("money column")
    assert out["value"].iloc[0] == pytest.approx(12 * 10.0 * 0.5)


def test_without_any_money_the_value_is_unknown_not_zero():
    features = customers(tenure_days=[100.0, 400.0])
    out = customer_value(features, features, NeverChurns(), settings=settings())
    assert value_source(out) == "none"
    assert out["value"].isna().all() and out["expected_margin"].isna().all()
    assert out["arr"].tolist() == [0.0, 0.0]                # scores.csv: 0 where ARR is unknown
    assert "value.money or value.constant" in value_note(out)


def test_a_money_column_the_features_lack_is_named_with_the_columns_at_hand():
    features = customers(MonthlyCharges=[10.0])
    with pytest.raises(ValueError, match="'Monthly'.*MonthlyCharges"):
        customer_value(features, features, NeverChurns(), settings=settings(money=money("Monthly")))


def test_a_money_column_holding_text_is_refused():
    features = customers(Plan=pd.Categorical(["gold"]))
    with pytest.raises(ValueError, match="holds text.*numeric"):
        customer_value(features, features, NeverChurns(), settings=settings(money=money("Plan")))


def test_a_frame_without_the_source_says_where_to_get_one():
    with pytest.raises(ValueError, match="customer_value"):
        value_source(customers(value=[1.0]))


def test_the_source_and_note_survive_the_handoff_between_notebooks(tmp_path):
    features = customers(MonthlyCharges=[10.0, 20.0])
    out = customer_value(features, features, NeverChurns(), settings=settings(money=money()))
    hand = Handoff(tmp_path, {"as_of": "2026-06-30", "settings": "s"})
    hand.put("value", out)
    back = hand.take("value")
    assert value_source(back) == value_source(out) == "money column MonthlyCharges (per month)"
    assert value_note(back) == value_note(out)
    none = customer_value(features, features, NeverChurns(), settings=settings())
    hand.put("value", none)
    assert value_source(hand.take("value")) == "none"


def test_a_mapping_money_column_must_be_read_as_numbers():
    with pytest.raises(ValueError, match="numeric"):
        MappingSettings.model_validate({"tables": {"customers": {"columns": {"customer_id": "id"}}},
                                        "money": {"column": "Balance", "per": "balance", "rate": 0.02}})


TELCO_CSV = """customerID,gender,SeniorCitizen,tenure,Contract,MonthlyCharges,TotalCharges,Churn
0001-A,Female,0,1,Month-to-month,29.85,29.85,No
0002-B,Male,0,34,One year,56.95,1889.5,No
0003-C,Male,1,0,Two year,70.70, ,No
0004-D,Female,0,45,One year,42.30,1840.75,Yes
"""


def test_a_telco_shaped_flat_table_gets_value_from_its_monthly_charges_out_of_the_box(tmp_path):
    """The shipped telco mapping names MonthlyCharges as money: read through it, the column
    reaches the features as a number and value and ARR come from it."""
    path = tmp_path / "telco.csv"
    path.write_text(TELCO_CSV)
    run = load_settings(None, mapping="telco")
    dataset = load_data(path, as_of="2026-06-30", mapping=run.mapping)
    features = build_features(dataset, "2026-06-30")          # the churner of the last month is gone
    assert features["MonthlyCharges"].dtype == "float64"
    scores = features[["customer_id"]]
    base = run.value.model_dump(exclude={"money", "constant"})
    out = customer_value(scores, features, NeverChurns(), settings=run.model_copy(update={
        "value": ValueSettings(**{**base, "annual_discount_rate": 0.0, "horizon_months": 12})}))
    assert value_source(out) == "money column MonthlyCharges (per month)"
    charges = {"0001-A": 29.85, "0002-B": 56.95, "0003-C": 70.70}
    assert dict(zip(out["customer_id"], out["arr"])) == pytest.approx({k: 12 * v for k, v in charges.items()})
    assert dict(zip(out["customer_id"], out["value"])) == pytest.approx(
        {k: 12 * v * run.value.margin_rate for k, v in charges.items()})
