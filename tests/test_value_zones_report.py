"""The value, health and zone tables in a run: scores.csv columns and the notebook's summaries."""
from __future__ import annotations

import pandas as pd
import pytest

from churnlab.report.handoff import Handoff
from churnlab.report.outputs import write_scores_csv
from churnlab.decide.plots import band_summary, zone_summary


def test_scores_csv_takes_value_health_and_zone_but_not_the_components(tmp_path):
    hand = Handoff(tmp_path, {"as_of": "2026-06-30", "fingerprint": "f", "settings": "s"})
    ids = ["C2", "C1"]
    hand.put("model_scores", pd.DataFrame({"customer_id": ids, "churn_probability": [0.5, 0.1],
                                           "expected_lifetime_days": [100.0, 300.0], "reasons": ["a", "b"]}))
    hand.put("features", pd.DataFrame({"customer_id": ids, "arr": [1200.0, 2400.0]}))
    value = pd.DataFrame({"customer_id": ids, "arr": [1200.0, 2400.0], "expected_margin": [900.0, 2000.0],
                          "advocacy_value": [5000.0, 0.0], "expansion_value": [0.0, 0.0], "value": [5900.0, 2000.0]})
    health = pd.DataFrame({"customer_id": ids, "health_score": [35.0, 80.0], "health_band": ["poor", "good"],
                           "health_usage": [10.0, 90.0]})
    zones = pd.DataFrame({"customer_id": ids, "zone": ["red", "healthy"], "expected_gain": [100.0, -200.0],
                          "p_save": [0.3, 0.3], "priority": pd.array([1, None], dtype="Int64"),
                          "zone_reason": ["x", "y"]})
    for name, frame in (("value", value), ("health", health), ("zones", zones)):
        hand.put(name, frame)
    scores = pd.read_csv(write_scores_csv(hand))
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
    health = pd.DataFrame({"health_band": ["good", "good", "poor", "weak"],
                           **{f"health_{c}": [80.0, 60.0, 10.0, 40.0] for c in
                              ("usage", "adoption", "trend", "nps", "sentiment", "support", "billing")}})
    out = band_summary(health)
    assert out["customers"].tolist() == [2, 0, 1, 1]
    assert out.loc["good", "share"] == 0.5 and out.loc["good", "usage"] == 70.0


def _labelled(ax) -> bool:
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


def test_value_health_and_zone_plots_have_titles_and_labelled_axes():
    import matplotlib
    matplotlib.use("agg")
    from churnlab.decide.plots import (plot_health_bands, plot_health_components, plot_risk_value_map,
                                     plot_value_parts)

    value = pd.DataFrame({"customer_id": ["A", "B", "C"], "arr": [1200.0, 300.0, 0.0],
                          "expected_margin": [900.0, 200.0, 0.0], "advocacy_value": [0.0, 2500.0, 0.0],
                          "expansion_value": [100.0, 0.0, 0.0], "value": [1000.0, 2700.0, 0.0]})
    health = pd.DataFrame({"health_band": ["good", "poor", "weak"],
                           **{f"health_{c}": [80.0, 10.0, 40.0] for c in
                              ("usage", "adoption", "trend", "nps", "sentiment", "support", "billing")}})
    table = pd.DataFrame({"churn_probability": [0.02, 0.4, 0.6], "value": [1000.0, 2700.0, 0.0],
                          "zone": ["healthy", "red", "dead"]})
    for ax in (plot_value_parts(value), plot_health_bands(health), plot_health_components(health),
               plot_risk_value_map(table, threshold=0.1)):
        assert _labelled(ax), ax.get_title()


def test_score_shift_plot_has_a_title_and_labelled_axes():
    import matplotlib
    matplotlib.use("agg")
    from churnlab.features.drift import plot_score_shift

    ax = plot_score_shift(pd.DataFrame({"churn_probability": [0.1, 0.2, 0.3]}),
                          pd.DataFrame({"churn_probability": [0.2, 0.4, 0.5]}))
    assert _labelled(ax)


def test_every_package_plot_function_is_checked_for_a_title_and_labels():
    # The notebooks draw only through churnlab's plot_* functions (test_report_pages); each of
    # them must appear in a test that checks its title and axis labels. A new one fails here
    # until it has such a test.
    import inspect
    import pkgutil
    from importlib import import_module
    from pathlib import Path

    import churnlab

    plots = {name for mod in pkgutil.walk_packages(churnlab.__path__, prefix="churnlab.")
             for name, fn in inspect.getmembers(import_module(mod.name), inspect.isfunction)
             if name.startswith("plot_") and fn.__module__ == mod.name}
    assert len(plots) >= 15
    checked = ""
    for test in Path(__file__).parent.glob("test_*.py"):
        text = test.read_text(encoding="utf-8")
        if "get_title()" in text and "get_xlabel()" in text:
            checked += text
    assert sorted(p for p in plots if p not in checked) == []
