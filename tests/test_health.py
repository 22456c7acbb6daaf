"""health_score: component transforms, bands, re-weighting of missing components, learned weights."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churnlab.decide.health import health_score, health_weights
from churnlab.settings import HealthSettings, Settings


def frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(1, n + 1)], **columns})


def test_bands_follow_the_cut_offs():
    # billing alone is known: 0 issues -> 100, 1 -> 60, 1.5 -> 45 (between the anchors), 2 -> 30
    out = health_score(frame(overdue_invoices=[0.0, 1.0, 1.5, 2.0]), settings=Settings())
    assert out["health_score"].tolist() == pytest.approx([100.0, 60.0, 45.0, 30.0])
    assert out["health_band"].tolist() == ["good", "fair", "weak", "poor"]


def test_band_cut_offs_come_from_the_settings():
    settings = Settings(health=HealthSettings(good_min=95, fair_min=50, weak_min=20))
    out = health_score(frame(overdue_invoices=[0.0, 1.0, 1.5, 2.0]), settings=settings)
    assert out["health_band"].tolist() == ["good", "fair", "weak", "weak"]


def test_a_missing_component_is_left_out_and_the_others_reweighted_not_scored_zero():
    features = frame(last_nps=[10.0, np.nan], overdue_invoices=[1.0, 1.0])
    out = health_score(features, settings=Settings())
    # default weights nps 0.15, billing 0.10: (0.15 x 100 + 0.10 x 60) / 0.25; without NPS billing alone
    assert out["health_score"].tolist() == pytest.approx([(0.15 * 100 + 0.10 * 60) / 0.25, 60.0])
    assert math.isnan(out["health_nps"].iloc[1])


def test_usage_is_the_percentile_rank_among_the_customers():
    out = health_score(frame(events_30d=[0.0, 5.0, 5.0, 10.0]), settings=Settings())
    # ranks 1, 2.5, 2.5, 4 of 4
    assert out["health_usage"].tolist() == pytest.approx([25.0, 62.5, 62.5, 100.0])


def test_trend_and_nps_are_scored_on_fixed_anchors():
    out = health_score(frame(usage_trend_30d=[-math.log(2), -math.log(2) / 2, 0.0, math.log(1.5), 2.0],
                             last_nps=[0.0, 3.0, 6.0, 7.0, 10.0]), settings=Settings())
    assert out["health_trend"].tolist() == pytest.approx([0.0, 37.5, 75.0, 100.0, 100.0])
    assert out["health_nps"].tolist() == pytest.approx([0.0, 20.0, 40.0, 55.0, 100.0])


def test_sentiment_and_support_average_the_inputs_they_have():
    out = health_score(frame(comment_sentiment_180d=[0.5, np.nan], touch_sentiment_90d=[-0.5, np.nan],
                             last_csat=[5.0, 2.0], tickets_open_over_7d=[1.0, 0.0],
                             critical_open_over_14d=[1.0, 0.0], ticket_csat_180d=[np.nan, 3.0]), settings=Settings())
    # sentiment: mean(75, 25, 100); second: csat only (25)
    assert out["health_sentiment"].tolist() == pytest.approx([200.0 / 3, 25.0])
    # support: backlog 1 + 2 x 1 = 3 -> 30; second: backlog 0 -> 100 and ticket CSAT 3 -> 50
    assert out["health_support"].tolist() == pytest.approx([30.0, 75.0])


def test_adoption_blends_breadth_rank_and_seats_in_use():
    out = health_score(frame(event_types_30d=[1.0, 3.0], active_users_30d=[5.0, 2.0], seats=[10.0, 0.0]),
                       settings=Settings())
    # breadth ranks 50 and 100; seats in use 50% (the second has no seats: breadth alone)
    assert out["health_adoption"].tolist() == pytest.approx([50.0, 100.0])


def test_no_component_at_all_gives_no_score_and_no_band():
    out = health_score(frame(tenure_days=[100.0]), settings=Settings())
    assert math.isnan(out["health_score"].iloc[0]) and out["health_band"].iloc[0] is None


def stub_bundle(coefficients: dict[str, float]):
    """A bundle whose survival model has the given standardised coefficients; the classifier is
    not logistic, so the weights come from the survival model."""
    survival = SimpleNamespace(
        kind="cox", features_=["events_30d", "last_nps", "nps_detractor", "failed_payments_180d", "plan"],
        coefficients=lambda: pd.DataFrame({"coef": pd.Series(coefficients)}))
    return SimpleNamespace(survival=survival, classifier=SimpleNamespace(kind="boosting"))


def test_learned_weights_sum_absolute_coefficients_per_component():
    bundle = stub_bundle({"events_30d": 0.6, "last_nps": -0.3, "nps_detractor": 0.1,
                          "failed_payments_180d": -0.2, "plan=pro": 0.5})
    settings = Settings(health=HealthSettings(weights_from="learned"))
    weights = health_weights(bundle, settings=settings)
    # usage 0.6, nps 0.3 + 0.1, billing 0.2 (plan belongs to no component): shares of 1.2
    assert weights[["usage", "nps", "billing"]].tolist() == pytest.approx([0.5, 0.4 / 1.2, 0.2 / 1.2])
    assert weights[["adoption", "trend", "sentiment", "support"]].sum() == 0.0
    assert "learned from the cox survival model" in weights.attrs["source"]


def test_learned_weights_change_the_score():
    bundle = stub_bundle({"events_30d": 0.1, "failed_payments_180d": 0.3})
    features = frame(events_30d=[10.0, 0.0], overdue_invoices=[2.0, 0.0])
    learned = health_score(features, bundle, settings=Settings(health=HealthSettings(weights_from="learned")))
    # usage ranks 100 and 50, billing 30 and 100; weights 0.25 and 0.75
    assert learned["health_score"].tolist() == pytest.approx([0.25 * 100 + 0.75 * 30, 0.25 * 50 + 0.75 * 100])
    assert learned.attrs["health_weights_source"].startswith("learned")


def test_learned_weights_need_a_bundle():
    with pytest.raises(ValueError, match="no model bundle"):
        health_score(frame(events_30d=[1.0]), settings=Settings(health=HealthSettings(weights_from="learned")))


def test_band_cut_offs_out_of_order_are_refused():
    with pytest.raises(ValueError, match="good_min >= fair_min >= weak_min"):
        HealthSettings(good_min=50, fair_min=60)
