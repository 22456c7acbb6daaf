"""The chosen models against the demo world's ground truth (what the benchmark prints at 5,000
and 100,000 customers, asserted here on 2,000), judged against the as-of oracle: the best
prediction the world's complete latent state allows at the as-of date
(``churnlab.demo.oracle.expected_hazard``; see ``benchmarks/models.py`` for why it is the fair one).

The issue asks for AUC >= 0.95 x the oracle's and concordance >= 0.95 x the oracle's. On this
2,000-customer world (seed 5, 1,123 customers alive at 2025-06-30, 53 churn within 90 days) the
models reach 0.874 x (AUC 0.814 against 0.932) and 0.847 x (concordance 0.673 against 0.795),
with bootstrap standard errors of 0.026 and 0.021 (measured 2026-11-25). The thresholds below
are those figures minus one standard error, rounded down: the test fails if the models get
measurably worse, it does not claim the goal is met, and must be raised as the models improve.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "models.py"


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    from churnlab.demo.simulation import generate_demo_data

    spec = importlib.util.spec_from_file_location("bench_models", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path_factory.mktemp("truth") / "demo"
    generate_demo_data(folder, customers=2000, seed=5)
    return bench.judge(folder, seed=7, reps_auc=0, reps_concordance=0)


def test_chosen_classifier_ranks_close_to_the_as_of_oracle(judged):
    assert judged["auc_ratio_as_of"] >= 0.85, judged


def test_probabilities_are_calibrated(judged):
    assert judged["ece"] <= 0.03, judged


def test_survival_model_orders_churn_times_close_to_the_as_of_oracle(judged):
    assert judged["concordance_ratio_as_of"] >= 0.82, judged
