"""The value, health and zone tables in a run: scores.csv columns and the notebook's summaries."""
from __future__ import annotations

import pandas as pd
import pytest

from churnlab.report import write_scores_csv, write_value_zones
from churnlab.zone_plots import band_summary, zone_summary


def test_scores_csv_takes_value_health_and_zone_but_not_the_components(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    ids = ["C2", "C1"]
    pd.DataFrame({"customer_id": ids, "churn_probability": [0.5, 0.1], "expected_lifetime_days": [100.0, 300.0],
                  "reasons": ["a", "b"]}).to_parquet(work / "model_scores.parquet")
    pd.DataFrame({"customer_id": ids, "arr": [1200.0, 2400.0]}).to_parquet(work / "features.parquet")
    value = pd.DataFrame({"customer_id": ids, "arr": [1200.0, 2400.0], "expected_margin": [900.0, 2000.0],
                          "advocacy_value": [5000.0, 0.0], "expansion_value": [0.0, 0.0], "value": [5900.0, 2000.0]})
    health = pd.DataFrame({"customer_id": ids, "health_score": [35.0, 80.0], "health_band": ["red", "green"],
                           "health_usage": [10.0, 90.0]})
    zones = pd.DataFrame({"customer_id": ids, "zone": ["red", "healthy"], "expected_gain": [100.0, -200.0],
                          "p_save": [0.3, 0.3], "priority": pd.array([1, None], dtype="Int64"),
                          "zone_reason": ["x", "y"]})
    write_value_zones(tmp_path, value, health, zones)
    scores = pd.read_csv(write_scores_csv(tmp_path))
    assert scores.columns.tolist() == ["customer_id", "churn_probability", "expected_lifetime_days", "value", "arr",
                                       "health_score", "health_band", "zone", "reasons"]
    assert scores["customer_id"].tolist() == ["C1", "C2"]
    assert scores["value"].tolist() == [2000.0, 5900.0] and scores["zone"].tolist() == ["healthy", "red"]


def test_zone_summary_counts_customers_value_and_value_at_stake_per_zone():
    table = pd.DataFrame({"zone": ["red", "red", "dead", "healthy"], "churn_probability": [0.5, 0.2, 0.8, 0.01],
                          "value": [1000.0, 5000.0, 100.0, 2000.0], "arr": [100.0, 200.0, 50.0, 300.0],
                          "expected_gain": [50.0, 150.0, -20.0, -190.0]})
    out = zone_summary(table)
    assert out.index.tolist() == ["red", "dead", "watch", "healthy", "total"]
    assert out.loc["red"].to_dict() == pytest.approx({"customers": 2, "arr": 300.0, "value": 6000.0,
                                                      "value_at_stake": 0.5 * 1000 + 0.2 * 5000,
                                                      "expected_gain": 200.0})
    assert out.loc["watch", "customers"] == 0 and out.loc["total", "customers"] == 4


def test_band_summary_gives_shares_and_mean_components_per_band():
    health = pd.DataFrame({"health_band": ["green", "green", "red", "amber"],
                           **{f"health_{c}": [80.0, 60.0, 10.0, 40.0] for c in
                              ("usage", "adoption", "trend", "nps", "sentiment", "support", "billing")}})
    out = band_summary(health)
    assert out["customers"].tolist() == [2, 0, 1, 1]
    assert out.loc["green", "share"] == 0.5 and out.loc["green", "usage"] == 70.0
