"""Saveability from the interventions history and the Red / Dead / watch / healthy decision."""
from __future__ import annotations

import pandas as pd
import pytest

from churnlab.settings import Settings, ZoneSettings
from churnlab.decide.saveability import ALL_SEGMENTS, MAX_SEGMENT_STRENGTH, save_rates
from churnlab.decide.zones import assign_zones

AS_OF = "2025-12-31"


def zone_settings(**zones) -> Settings:
    return Settings(zones=ZoneSettings(**zones))


# -- saveability ---------------------------------------------------------------------------------

def test_without_history_every_segment_gets_the_prior_mean():
    customers = pd.DataFrame({"customer_id": ["A", "B"], "plan": ["basic", "pro"], "churn_date": [None, None]})
    rates = save_rates(None, customers, AS_OF, settings=zone_settings(prior_save_rate=0.3))
    assert rates["segment"].tolist() == ["basic", "pro", ALL_SEGMENTS]
    assert rates["attempts"].tolist() == [0, 0, 0]
    assert rates["p_save"].tolist() == pytest.approx([0.3, 0.3, 0.3])


def history():
    customers = pd.DataFrame({
        "customer_id": ["A1", "A2", "A3", "A4", "B1"],
        "plan": ["basic", "basic", "basic", "basic", "pro"],
        "churn_date": [None, "2025-03-01", None, None, None],
    })
    interventions = pd.DataFrame({
        "customer_id": ["A1", "A2", "A3", "A4", "B1", "B1"],
        "ts": pd.to_datetime(["2025-01-10", "2025-01-15", "2025-02-01", "2025-03-01", "2025-04-01", "2025-12-01"]),
        "outcome": ["accepted", "accepted", "declined", "accepted", "no_response", "accepted"],
    })
    return interventions, customers


def test_accepted_and_still_a_customer_after_the_window_counts_as_saved():
    interventions, customers = history()
    rates = save_rates(interventions, customers, AS_OF, settings=zone_settings(saved_after_days=90)).set_index("segment")
    # basic: A1 saved; A2 accepted but left 45 days later; A3 declined; A4 saved -> 2 of 4
    assert (rates.loc["basic", "attempts"], rates.loc["basic", "saved"]) == (4, 2)
    # pro: B1's April action failed; its December action is under 90 days old and not judged yet
    assert (rates.loc["pro", "attempts"], rates.loc["pro", "saved"]) == (1, 0)


def test_thin_segments_are_shrunk_towards_the_pooled_rate_which_is_shrunk_towards_the_prior():
    interventions, customers = history()
    settings = zone_settings(prior_save_rate=0.3, prior_strength=10, segment_strength=5)
    rates = save_rates(interventions, customers, AS_OF, settings=settings).set_index("segment")
    p0 = (2 + 10 * 0.3) / (5 + 10)                      # 2 saved of 5 judged, prior 0.3 worth 10 actions
    assert rates.loc[ALL_SEGMENTS, "p_save"] == pytest.approx(p0)
    assert rates.loc["basic", "p_save"] == pytest.approx((2 + 5 * p0) / (4 + 5))
    assert rates.loc["pro", "p_save"] == pytest.approx((0 + 5 * p0) / (1 + 5))
    assert rates.loc["basic", "observed_rate"] == pytest.approx(0.5)


def history_by_plan(counts: dict[str, tuple[int, int]]):
    """One action per customer in January 2025, nobody left: ``plan -> (attempts, saved)``."""
    ids, plans, outcomes = [], [], []
    for plan, (attempts, saved) in counts.items():
        for i in range(attempts):
            ids.append(f"{plan}-{i}")
            plans.append(plan)
            outcomes.append("accepted" if i < saved else "declined")
    customers = pd.DataFrame({"customer_id": ids, "plan": plans, "churn_date": None})
    interventions = pd.DataFrame({"customer_id": ids, "ts": pd.Timestamp("2025-01-15"), "outcome": outcomes})
    return interventions, customers


def test_segments_differing_no_more_than_chance_all_get_the_pooled_rate():
    # rates 0.30, 0.25, 0.35 over 20 actions each scatter less than chance does at that size
    # (binomial variance 0.3 x 0.7 / 20 = 0.0105 against 0.0025 observed): no evidence of a difference
    interventions, customers = history_by_plan({"basic": (20, 6), "plus": (20, 5), "pro": (20, 7)})
    rates = save_rates(interventions, customers, AS_OF, settings=zone_settings(prior_save_rate=0.3, prior_strength=20))
    p0 = (18 + 20 * 0.3) / (60 + 20)
    assert rates["p_save"].tolist() == pytest.approx([p0] * 4, abs=1e-4)
    assert rates["segment_strength"].iloc[0] == MAX_SEGMENT_STRENGTH


def test_segments_that_truly_differ_keep_close_to_their_own_rates():
    # 10%, 60% and 30% over 100 actions each: far more scatter than chance gives
    interventions, customers = history_by_plan({"basic": (100, 10), "plus": (100, 60), "pro": (100, 30)})
    rates = save_rates(interventions, customers, AS_OF, settings=zone_settings(prior_save_rate=0.3, prior_strength=20))
    rates = rates.set_index("segment")
    k = rates["segment_strength"].iloc[0]
    assert 1 <= k < 20                                   # weighs less than a fifth of a segment's own 100 actions
    p0 = rates.loc[ALL_SEGMENTS, "p_save"]
    assert rates.loc["basic", "p_save"] == pytest.approx((10 + k * p0) / (100 + k))
    assert rates.loc["basic", "p_save"] < 0.15 and rates.loc["plus", "p_save"] > 0.55


def test_a_single_segment_with_history_tells_nothing_about_differences():
    interventions, customers = history_by_plan({"basic": (10, 1)})
    customers = pd.concat([customers, pd.DataFrame({"customer_id": ["P"], "plan": ["pro"], "churn_date": None})])
    rates = save_rates(interventions, customers, AS_OF, settings=zone_settings(prior_save_rate=0.3, prior_strength=10))
    p0 = (1 + 10 * 0.3) / (10 + 10)
    assert rates["p_save"].tolist() == pytest.approx([p0, p0, p0], abs=1e-4)


def test_a_fixed_segment_strength_must_be_positive():
    with pytest.raises(ValueError, match="segment_strength must be 'estimated' or a number"):
        ZoneSettings(segment_strength=0)


def test_segments_fall_back_to_company_size_bands():
    customers = pd.DataFrame({"customer_id": ["A", "B"], "company_size": [8, 120]})
    rates = save_rates(None, customers, AS_OF, settings=Settings())
    assert rates["segment_by"].iloc[0] == "company_size"
    assert rates["segment"].tolist() == ["1-10", "51-200", ALL_SEGMENTS]


def test_the_rules_segment_column_is_preferred_when_present():
    customers = pd.DataFrame({"customer_id": ["A"], "segment": ["high value"], "plan": ["pro"]})
    assert save_rates(None, customers, AS_OF, settings=Settings())["segment_by"].iloc[0] == "segment"


# -- zones ---------------------------------------------------------------------------------------

def customers_to_zone() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["red-big", "red-small", "dead-cheap", "dead-rule", "watch", "healthy"],
        "churn_probability": [0.42, 0.30, 0.50, 0.60, 0.15, 0.05],
        "p_save": [0.35, 0.50, 0.35, 0.50, 0.50, 0.50],
        "value": [12_800.0, 1_000.0, 200.0, 100_000.0, 50_000.0, 50_000.0],
        "not_worth_saving": [False, False, False, True, False, False],
    })


def test_zones_follow_risk_and_expected_gain():
    out = assign_zones(customers_to_zone(), settings=zone_settings(risk_threshold=0.25, watch_ratio=0.5, action_cost=50))
    assert out["zone"].tolist() == ["red", "red", "dead", "dead", "watch", "healthy"]
    # 0.42 x 0.35 x 12,800 - 50; 0.30 x 0.5 x 1,000 - 50; 0.5 x 0.35 x 200 - 50
    assert out["expected_gain"].iloc[:3].tolist() == pytest.approx([1831.6, 100.0, -15.0])


def test_every_zone_comes_with_its_reason_in_words():
    out = assign_zones(customers_to_zone(), settings=zone_settings(risk_threshold=0.25, watch_ratio=0.5, action_cost=50))
    reasons = dict(zip(out["customer_id"], out["zone_reason"]))
    assert reasons["red-big"] == "churn risk 42% ≥ 25%; expected gain 1,832 = 42% × 35% save rate × 12,800 value − 50 cost"
    assert reasons["dead-cheap"].endswith("≤ 0: saving costs more than it is expected to bring")
    assert "marked not worth saving by a rule" in reasons["dead-rule"]
    # 0.15 x 0.5 x 50,000 - 50: worth a call although below the threshold
    assert reasons["watch"] == "churn risk 15% below 25% but ≥ 12.5%: watch; expected gain 3,700"
    assert reasons["healthy"] == "churn risk 5% < 12.5%; expected gain 1,200"


def test_priority_is_by_expected_gain_and_a_valuable_customer_below_the_threshold_can_come_first():
    out = assign_zones(customers_to_zone(), settings=zone_settings(risk_threshold=0.25, action_cost=50))
    # watch: 0.15 x 0.5 x 50,000 - 50 = 3,700 beats red-big's 1,832; healthy: 0.05 x 0.5 x 50,000
    # - 50 = 1,200 beats red-small's 100; the dead get none
    assert out.set_index("customer_id")["priority"].dropna().to_dict() == {
        "watch": 1, "red-big": 2, "healthy": 3, "red-small": 4}


def test_without_a_value_the_zones_follow_risk_alone_and_nobody_is_dead_for_it():
    frame = customers_to_zone().assign(value=float("nan"))
    out = assign_zones(frame, settings=zone_settings(risk_threshold=0.25, action_cost=50)).set_index("customer_id")
    assert out["zone"].to_dict() == {"red-big": "red", "red-small": "red", "dead-cheap": "red", "dead-rule": "dead",
                                     "watch": "watch", "healthy": "healthy"}
    assert out["expected_gain"].isna().all()
    assert "value unknown: zoned by risk alone" in out.loc["dead-cheap", "zone_reason"]
    # by churn probability: 0.50, 0.42, 0.30 (dead-rule is dead: not called)
    assert out["priority"].dropna().to_dict() == {"dead-cheap": 1, "red-big": 2, "red-small": 3}


@pytest.mark.parametrize("setting, at_risk", [
    (0.25, ["c", "d"]), ("base_rate", ["c", "d"]), ("1x base_rate", ["c", "d"]),
    ("1.5x base_rate", ["d"]), ("top 50%", ["c", "d"]), ("top 25%", ["d"]), ("TOP 1%", ["d"]),
])
def test_the_risk_threshold_is_a_probability_a_lift_or_a_share(setting, at_risk):
    frame = pd.DataFrame({"customer_id": list("abcd"), "churn_probability": [0.1, 0.2, 0.3, 0.4],
                          "value": [1e6] * 4, "p_save": [0.5] * 4})
    out = assign_zones(frame, settings=zone_settings(risk_threshold=setting))
    assert out.loc[out["zone"] == "red", "customer_id"].tolist() == at_risk


@pytest.mark.parametrize("bad", [0, 1.5, "twice", "0x base_rate", "top 0%", "top 120%", "-2x base_rate"])
def test_a_risk_threshold_that_means_nothing_is_refused_with_the_forms_allowed(bad):
    with pytest.raises(ValueError, match="2x base_rate"):
        ZoneSettings(risk_threshold=bad)


def test_the_backtest_says_what_a_threshold_flags_and_how_many_of_those_churned():
    from churnlab.decide.zones import at_risk_backtest, threshold_choices
    # two folds of 10 customers; the top 2 by score churned in the first, 1 of the top 2 in the second
    preds = pd.DataFrame({"fold": ["f1"] * 10 + ["f2"] * 10,
                          "score": [0.9, 0.8] + [0.1] * 8 + [0.9, 0.8] + [0.1] * 8,
                          "churned": [1, 1] + [0] * 8 + [1, 0, 1] + [0] * 7})
    out = at_risk_backtest(preds, ["top 20%"]).iloc[0]
    assert out["at_risk_share"] == pytest.approx(0.2)
    assert out["precision"] == pytest.approx((1.0 + 0.5) / 2)
    assert out["base_rate"] == pytest.approx((0.2 + 0.2) / 2)
    assert out["lift"] == pytest.approx((5.0 + 2.5) / 2)
    assert out["recall"] == pytest.approx((1.0 + 0.5) / 2)
    table = threshold_choices(preds, settings=zone_settings(risk_threshold=0.5))
    assert table["configured"].sum() == 1 and table.iloc[-1]["risk_threshold"] == "0.5"


def test_the_base_rate_threshold_is_the_mean_churn_probability():
    frame = pd.DataFrame({"customer_id": list("abcd"), "churn_probability": [0.1, 0.2, 0.3, 0.4],
                          "value": [1e6] * 4, "p_save": [0.5] * 4})
    out = assign_zones(frame, settings=zone_settings(risk_threshold="base_rate"))
    # mean 0.25: c and d at risk; b (0.2) at least half of it: watch; a below 0.125: healthy
    assert out["zone"].tolist() == ["healthy", "watch", "red", "red"]
    assert out["zone_reason"].iloc[2].startswith("churn risk 30% ≥ 25% (the base rate)")


def test_save_rates_are_looked_up_by_segment_and_unknown_segments_get_the_pooled_rate():
    rates = pd.DataFrame({"segment_by": "plan", "segment": ["basic", ALL_SEGMENTS], "attempts": [10, 10],
                          "saved": [2, 2], "observed_rate": [0.2, 0.2], "p_save": [0.25, 0.3]})
    frame = pd.DataFrame({"customer_id": ["a", "b"], "churn_probability": [0.5, 0.5], "value": [1000.0, 1000.0],
                          "plan": ["basic", "enterprise"]})
    out = assign_zones(frame, rates, settings=zone_settings(risk_threshold=0.25, action_cost=0))
    assert out["p_save"].tolist() == [0.25, 0.3]
    assert out["expected_gain"].tolist() == pytest.approx([125.0, 150.0])


def test_without_rates_the_prior_save_rate_is_used():
    frame = pd.DataFrame({"customer_id": ["a"], "churn_probability": [0.5], "value": [1000.0]})
    out = assign_zones(frame, settings=zone_settings(risk_threshold=0.25, prior_save_rate=0.2, action_cost=0))
    assert out["p_save"].iloc[0] == 0.2 and out["expected_gain"].iloc[0] == pytest.approx(100.0)


def test_a_frame_without_value_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="lacks value"):
        assign_zones(pd.DataFrame({"customer_id": ["a"], "churn_probability": [0.5]}), settings=Settings())


def test_timezone_aware_action_times_are_judged_in_utc():
    interventions, customers = history()
    aware = interventions.assign(ts=interventions["ts"].dt.tz_localize("Europe/Berlin"))
    naive = save_rates(interventions, customers, AS_OF, settings=Settings())
    pd.testing.assert_frame_equal(save_rates(aware, customers, AS_OF, settings=Settings()), naive)


def test_an_empty_segment_column_falls_back_to_the_pooled_rate():
    from churnlab.decide.saveability import segment_of

    frame = pd.DataFrame({"customer_id": ["A", "B"], "company_size": [None, None]})
    by, seg = segment_of(frame)
    assert by == "all" and seg.nunique() == 1


def test_the_zones_say_when_the_value_is_unknown_or_the_action_costs_more_than_any_save():
    from churnlab.decide.zones import zone_notes

    cheap = customers_to_zone().assign(value=[300.0, 200.0, 100.0, 100.0, 50.0, 50.0])
    table = cheap.drop(columns="p_save").merge(assign_zones(cheap, settings=zone_settings(risk_threshold=0.25)),
                                               on="customer_id")
    assert table["zone"].tolist()[:4] == ["dead"] * 4
    notes = zone_notes(table, settings=zone_settings(risk_threshold=0.25))
    # the best of them: 0.42 x 0.35 x 300 = 44 < 200
    assert len(notes) == 1 and "4 of the 4 at-risk customers are in the Dead Zone" in notes[0] and " 44 " in notes[0]
    unknown = customers_to_zone().assign(value=float("nan"))
    table = unknown.drop(columns="p_save").merge(assign_zones(unknown, settings=zone_settings(risk_threshold=0.25)),
                                                 on="customer_id")
    assert zone_notes(table)[0].startswith("the value of every customer is unknown")
    fine = customers_to_zone()
    table = fine.drop(columns="p_save").merge(
        assign_zones(fine, settings=zone_settings(risk_threshold=0.25, action_cost=50)), on="customer_id")
    assert zone_notes(table) == []
