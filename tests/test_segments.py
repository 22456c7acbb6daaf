"""Churn segments on hand-made customers."""
from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from churnlab.decide.segments import SEGMENT_COLUMNS, assign_segments
from churnlab.settings import SegmentSettings, Settings


def scored(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"customer_id": [f"C{i:02d}" for i in range(1, n + 1)], "churn_probability": [0.1] * n}
    return pd.DataFrame({**base, **columns})


def test_value_tiers_follow_quantiles_top_20_percent_high():
    # ten distinct values: 5 below the median (low), the next 3 medium, the top 2 high
    frame = scored(value=[10.0, 90.0, 20.0, 80.0, 30.0, 70.0, 40.0, 60.0, 50.0, 100.0])
    tiers = dict(zip(frame["value"], assign_segments(frame, settings=Settings())["value_tier"]))
    assert [tiers[v] for v in [10, 20, 30, 40, 50]] == ["low"] * 5
    assert [tiers[v] for v in [60, 70, 80]] == ["medium"] * 3
    assert [tiers[v] for v in [90, 100]] == ["high"] * 2


def test_tied_values_share_a_tier():
    # six zeros: nobody has less (0%), so all are low; the 7s have 6 below (60%): medium;
    # the 9s have 8 below (80%): high
    frame = scored(value=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 7.0, 9.0, 9.0])
    assert list(assign_segments(frame, settings=Settings())["value_tier"]) == ["low"] * 6 + ["medium"] * 2 + ["high"] * 2


def test_value_tiers_fall_back_to_arr_when_there_is_no_value_column():
    frame = scored(arr=[100.0, 200.0, 300.0, 400.0, 500.0])
    out = assign_segments(frame, settings=Settings())
    assert list(out["value_tier"]) == ["low", "low", "low", "medium", "high"]  # 0, 20, 40, 60, 80% below
    assert out.attrs["value_column"] == "arr"


def test_a_frame_without_value_or_arr_is_refused_with_both_names():
    with pytest.raises(ValueError, match="neither 'value' nor 'arr'"):
        assign_segments(scored(mrr=[1.0]), settings=Settings())


def test_risk_levels_start_at_their_threshold():
    frame = scored(value=[1.0] * 4, churn_probability=[0.0, 0.149, 0.15, 0.35])
    assert list(assign_segments(frame, settings=Settings())["risk_level"]) == ["low", "low", "medium", "high"]


def test_size_bands_from_company_size():
    frame = scored(value=[1.0] * 5, company_size=[3, 10, 49, 50, 1000])
    assert list(assign_segments(frame, settings=Settings())["size_band"]) == ["micro", "small", "small", "mid", "large"]


def test_customers_with_missing_firmographics_get_unknown_and_stay():
    frame = scored(value=[5.0, None], churn_probability=[0.5, None], company_size=[None, 20.0],
                   industry=["retail", None], region=[None, "europe"], preferred_channel=["email", ""])
    out = assign_segments(frame, settings=Settings())
    assert list(out["customer_id"]) == ["C01", "C02"]
    assert out.drop(columns=["customer_id", "segment"]).to_dict("records") == [
        {"value_tier": "low", "risk_level": "high", "size_band": "unknown", "industry": "retail",
         "region": "unknown", "preferred_channel": "email"},
        {"value_tier": "unknown", "risk_level": "unknown", "size_band": "small", "industry": "unknown",
         "region": "europe", "preferred_channel": "unknown"},
    ]
    assert list(out["segment"]) == [
        "low value, high risk, unknown size, retail, unknown region, via email",
        "unknown value, unknown risk, small company, unknown industry, europe, unknown channel",
    ]


def test_absent_firmographic_columns_read_unknown():
    out = assign_segments(scored(value=[1.0]), settings=Settings())
    assert out.loc[0, ["size_band", "industry", "region", "preferred_channel"]].tolist() == ["unknown"] * 4
    assert list(out.columns) == SEGMENT_COLUMNS


def test_the_settings_choose_the_parts_of_the_label_and_the_tiers():
    settings = SegmentSettings(value_tiers={"standard": 0.0, "key": 0.5}, risk_levels={"calm": 0.0, "alarm": 0.3},
                               parts=["value_tier", "risk_level", "preferred_channel"])
    frame = scored(value=[1.0, 2.0], churn_probability=[0.1, 0.4], preferred_channel=["phone", "chat"])
    assert list(assign_segments(frame, settings=settings)["segment"]) == ["standard value, calm risk, via phone",
                                                                 "key value, alarm risk, via chat"]


def test_the_input_frame_is_not_changed():
    frame = scored(value=[3.0, 1.0], industry=["media", None])
    before = frame.copy()
    assign_segments(frame, settings=Settings())
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("levels, message", [
    ({"low": 0.1, "high": 0.5}, "the first level's lower bound must be 0"),
    ({"low": 0.0, "high": 0.5, "mid": 0.3}, "lower bounds must increase"),
    ({"unknown": 0.0, "high": 0.5}, "'unknown' is reserved"),
])
def test_tier_bounds_must_start_at_zero_and_increase(levels, message):
    with pytest.raises(ValidationError, match=message):
        SegmentSettings(risk_levels=levels)


def test_segment_frame_joins_scores_value_and_the_firmographics_the_customers_table_has():
    from churnlab.decide.segments import segment_frame

    scores = pd.DataFrame({"customer_id": ["B", "A"], "churn_probability": [0.2, 0.1], "reasons": ["x", "y"]})
    value = pd.DataFrame({"customer_id": ["A", "B"], "value": [10.0, 20.0], "arr": [1.0, 2.0]})
    customers = pd.DataFrame({"customer_id": ["A", "B", "C"], "industry": ["retail", None, "x"],
                              "owner": ["o", "o", "o"]})
    frame = segment_frame(scores, value, customers)
    assert frame.columns.tolist() == ["customer_id", "churn_probability", "value", "industry"]
    assert frame["customer_id"].tolist() == ["B", "A"] and frame["value"].tolist() == [20.0, 10.0]
    out = assign_segments(frame, settings=Settings())
    assert len(out) == 2 and "unknown" in out.set_index("customer_id").loc["B", "segment"]
