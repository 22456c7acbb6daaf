"""Evaluation figures on small cases worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from churnlab.models.metrics import (
    classification_metrics, concordance, expected_calibration_error, expected_maximum_profit,
    integrated_brier_score, lift_at, profit_curve, recall_at,
)


def test_ece_is_zero_when_each_bin_churns_at_its_predicted_rate():
    # two bins of 10: predicted 0.1 with 1 churner, predicted 0.5 with 5 churners
    p = [0.1] * 10 + [0.5] * 10
    y = [1] + [0] * 9 + [1] * 5 + [0] * 5
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.0)


def test_ece_weighs_each_bins_gap_by_its_size():
    # bin 1: predicts 0.2, observes 0.0 (gap 0.2); bin 2: predicts 0.6, observes 1.0 (gap 0.4)
    p = [0.2, 0.2, 0.6, 0.6]
    y = [0, 0, 1, 1]
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.5 * 0.2 + 0.5 * 0.4)


def test_lift_and_recall_count_churners_in_the_top_tenth():
    score = np.arange(20)[::-1].astype(float)          # customer 0 is riskiest
    y = np.zeros(20, dtype=int)
    y[[0, 5, 10, 15]] = 1                              # top 10% = customers 0 and 1: one churner
    assert lift_at(y, score, 0.1) == pytest.approx((1 / 2) / (4 / 20))
    assert recall_at(y, score, 0.1) == pytest.approx(1 / 4)


def test_ties_at_the_cut_go_to_the_customer_listed_first():
    assert recall_at([0, 1, 0, 0], [1.0, 1.0, 0.0, 0.0], fraction=0.25) == 0.0


def test_concordance_of_perfect_and_reversed_orderings():
    durations, events = [10, 20, 30, 40], [1, 1, 1, 0]
    assert concordance(durations, [4, 3, 2, 1], events) == 1.0
    assert concordance(durations, [1, 2, 3, 4], events) == 0.0


def test_emp_of_a_perfect_ranking_matches_the_closed_form():
    # a perfect model targets exactly the churners whenever that pays: profit per customer is
    # CLV * pi0 * (g(1-d) - f) for g(1-d) > f, else 0; integrate over g ~ Beta(6, 14)
    from scipy import integrate, stats

    y = np.array([1] * 20 + [0] * 80)
    score = y.astype(float)
    clv, d, f = 200.0, 10 / 200, 1 / 200
    expected, _ = integrate.quad(lambda g: max(clv * 0.2 * (g * (1 - d) - f), 0) * stats.beta.pdf(g, 6, 14), 0, 1)
    emp, share = expected_maximum_profit(y, score)
    assert emp == pytest.approx(expected, rel=1e-3)
    assert share == pytest.approx(0.2, abs=0.01)


def test_emp_of_a_random_ranking_is_near_zero_and_below_a_good_one():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    random_emp, _ = expected_maximum_profit(y, rng.random(2000))
    good_emp, _ = expected_maximum_profit(y, y + rng.normal(0, 0.5, 2000))
    assert random_emp < 1.0 < good_emp


def test_integrated_brier_of_a_perfect_predictor_is_zero_and_of_a_coin_a_quarter():
    durations = np.array([5.0, 15.0, 25.0, 35.0])
    events = np.array([1, 1, 1, 1])
    times = np.array([10.0, 20.0, 30.0])
    perfect = (durations[:, None] > times[None, :]).astype(float)
    assert integrated_brier_score(durations, events, perfect, times) == pytest.approx(0.0)
    coin = np.full((4, 3), 0.5)
    assert integrated_brier_score(durations, events, coin, times) == pytest.approx(0.25)


def test_classification_metrics_gives_nan_for_a_single_class():
    figures = classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert np.isnan(figures["roc_auc"]) and np.isnan(figures["emp"]) and figures["n"] == 3


def test_probabilities_outside_zero_one_are_refused_with_the_range():
    with pytest.raises(ValueError, match="probabilities in 0..1, got values from -1 to 2"):
        classification_metrics([0, 1], [-1.0, 2.0])


def test_lengths_must_agree():
    with pytest.raises(ValueError, match="y_true has 2 values but y_prob has 3"):
        expected_calibration_error([0, 1], [0.1, 0.2, 0.3])


def test_profit_curve_counts_accepted_churners_against_incentives():
    # riskiest first: churner, stayer. With acceptance 0.5, CLV 100, incentive 10, contact 1:
    # contacting the churner earns 0.5 * 90 - 1 = 44; the stayer then costs 11
    curve = profit_curve([1, 0], [0.9, 0.1], clv=100, incentive=10, contact=1, acceptance=0.5)
    assert curve["profit_per_customer"].tolist() == [0.0, 22.0, 16.5]
