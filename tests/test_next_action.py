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
    # at the held-out customers' own risk (half left) the hazard ratio gives back the measured uplift:
    # log(0.7) / log(0.5) = 0.515 of the risk left in place, risk 50% -> 30%
    assert "cuts the risk by 49% in large" in got.loc["L", "next_action_why"]
    # the gain as a reader can check it: 20 points of risk x 10,000 - 400
    assert "risk 50% → 30%; gain 20.0 points × 10,000 − 400 = 1,600" in got.loc["L", "next_action_why"]


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


def test_an_action_measured_on_risky_customers_carries_over_as_a_hazard_ratio():
    # measured where half the held-out customers left and 70% of the contacted stayed: the action
    # leaves log(0.7) / log(0.5) = 0.5146 of the risk in place (proportional hazards). A customer
    # at 5% then leaves with 1 - 0.95 ** 0.5146 = 2.605%: 2.395 points saved, 47.9% of the risk,
    # where "uplift / share that left" (0.2 / 0.5) would have said 40%
    rates = _rates([("call", "all", 0.20, 0.5, 0.0), ("call", ALL_SEGMENTS, 0.20, 0.5, 0.0)])
    frame = pd.DataFrame({"customer_id": ["low", "mid", "sure"], "churn_probability": [0.05, 0.5, 1.0],
                          "value": [10_000.0] * 3, "segment": ["all"] * 3})
    got = next_best_action(frame, rates).set_index("customer_id")["next_action_gain"]
    ratio = np.log(0.7) / np.log(0.5)
    assert got["low"] == pytest.approx((0.95 ** ratio - 0.95) * 10_000)
    assert got["low"] == pytest.approx(239.5, abs=0.1)
    assert got["mid"] == pytest.approx(2_000)          # the measured customers' own risk: the uplift itself
    assert got["sure"] == pytest.approx(0.0)           # nobody keeps a customer who leaves whatever is done


def test_an_action_that_does_not_raise_the_stay_rate_saves_nothing():
    rates = _rates([("poll", "all", -0.05, 0.6, 10.0), ("poll", ALL_SEGMENTS, -0.05, 0.6, 10.0)])
    frame = pd.DataFrame({"customer_id": ["A"], "churn_probability": [0.3], "value": [5_000.0], "segment": ["all"]})
    assert next_best_action(frame, rates)["next_action_gain"].iloc[0] == pytest.approx(-10.0)
