"""The next best action (churnlab.decide.next_action.next_best_action) on hand-made rates: the
gain of each action worked out in the test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.decide.next_action import next_best_action, with_next_actions
from churnlab.decide.saveability import ALL_SEGMENTS


def _rates(cells: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """(action, segment, uplift, stay_held_out, cost) rows in the shape of action_rates."""
    return pd.DataFrame([{"segment_by": "segment", "action": a, "segment": s, "uplift": u,
                          "uplift_low": u - 0.05, "uplift_high": u + 0.05, "stay_held_out": h, "cost": c}
                         for a, s, u, h, c in cells])


RATES = _rates([
    # held-out customers of both segments: half left, so an uplift of 0.1 keeps 20% of leavers
    ("discount", "small", 0.10, 0.5, 100.0), ("discount", "large", 0.01, 0.5, 100.0),
    ("discount", ALL_SEGMENTS, 0.05, 0.5, 100.0),
    ("exec_call", "small", 0.02, 0.5, 400.0), ("exec_call", "large", 0.20, 0.5, 400.0),
    ("exec_call", ALL_SEGMENTS, 0.10, 0.5, 400.0),
])


def test_each_customer_gets_the_action_with_the_highest_expected_gain_and_the_runner_up():
    frame = pd.DataFrame({"customer_id": ["S", "L"], "churn_probability": [0.5, 0.5], "value": [10_000.0, 10_000.0],
                          "segment": ["small", "large"]})
    got = next_best_action(frame, RATES).set_index("customer_id")
    # S: discount 0.5 x 0.2 x 10,000 - 100 = 900; exec 0.5 x 0.04 x 10,000 - 400 = -200
    assert got.loc["S", "next_action"] == "discount" and got.loc["S", "next_action_gain"] == pytest.approx(900)
    assert got.loc["S", "runner_up"] == "exec_call" and got.loc["S", "runner_up_gain"] == pytest.approx(-200)
    # L: exec 0.5 x 0.4 x 10,000 - 400 = 1,600; discount 0.5 x 0.02 x 10,000 - 100 = 0
    assert got.loc["L", "next_action"] == "exec_call" and got.loc["L", "next_action_gain"] == pytest.approx(1600)
    assert "keeps 40% of leavers in large" in got.loc["L", "next_action_why"]


def test_a_segment_without_a_cell_uses_the_actions_pooled_rate():
    frame = pd.DataFrame({"customer_id": ["M"], "churn_probability": [0.5], "value": [10_000.0], "segment": ["mid"]})
    got = next_best_action(frame, RATES).iloc[0]
    # pooled: discount keeps 10% -> 400; exec keeps 20% -> 600
    assert got["next_action"] == "exec_call" and got["next_action_gain"] == pytest.approx(600)


def test_without_a_control_group_no_action_is_proposed():
    rates = RATES.assign(uplift=np.nan)
    frame = pd.DataFrame({"customer_id": ["S"], "churn_probability": [0.5], "value": [1000.0], "segment": ["small"]})
    got = next_best_action(frame, rates).iloc[0]
    assert got["next_action"] == "" and np.isnan(got["next_action_gain"])


def test_the_reactive_list_gets_the_action_why_and_runner_up_of_each_row():
    frame = pd.DataFrame({"customer_id": ["S", "L"], "churn_probability": [0.5, 0.5], "value": [10_000.0, 10_000.0],
                          "segment": ["small", "large"]})
    rows = pd.DataFrame({"customer_id": ["L", "X"], "campaign": ["rescue", "rescue"]})
    got = with_next_actions(rows, next_best_action(frame, RATES)).set_index("customer_id")
    assert list(got.columns) == ["campaign", "next_action", "next_action_why", "runner_up"]
    assert (got.loc["L", "next_action"], got.loc["L", "runner_up"]) == ("exec_call", "discount")
    assert got.loc["X", "next_action"] == ""      # not weighed: no action proposed
