"""The next-best-action judge of benchmarks/zones.py on hand-made worths: how far a next best
action can go at all (ceiling) and what a list built from estimated gains saves (_list_value)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "zones.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_zones", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# three candidates, two actions: what each saves in expectation, and what each costs
WORTH = {"a": np.array([10.0, 0.0, 4.0]), "b": np.array([2.0, 8.0, 3.0])}
COST = {"a": 1.0, "b": 5.0}


def test_the_ceiling_gives_each_candidate_its_best_action_against_the_best_single_action(bench):
    got = bench.ceiling(WORTH, COST, budget=2)
    # by value: best of each 10, 8, 4 -> the two best 18; a alone 10 + 4 = 14, b alone 8 + 3 = 11
    assert got["ceiling_next_action"] == 18 and got["ceiling_single_action"] == 14
    assert got["ceiling_ratio"] == pytest.approx(18 / 14, abs=1e-3)
    # net of costs: a 9, -1, 3 and b -3, 3, -2; best of each 9, 3, 3 -> 12, as much as a alone (9 + 3)
    assert got["ceiling_net_next_action"] == 12 and got["ceiling_net_single_action"] == 12
    assert got["ceiling_net_ratio"] == pytest.approx(1.0)


def test_a_list_from_estimated_gains_is_judged_by_the_true_worth_of_the_actions_it_picked(bench):
    gain = {"a": np.array([5.0, 1.0, 0.0]), "b": np.array([0.0, 4.0, 9.0])}
    # each its best: 0 -> a (5), 1 -> b (4), 2 -> b (9); the two highest are 2 and 0:
    # worth b[2] + a[0] = 3 + 10, costs 5 + 1
    assert bench._list_value(gain, WORTH, COST, budget=2) == pytest.approx((13.0, 7.0))
    # a for all: 0 and 1, worth 10 + 0, costs 1 + 1
    assert bench._list_value(gain, WORTH, COST, budget=2, only="a") == pytest.approx((10.0, 8.0))
