"""Control groups over consecutive weekly runs: a seeded share of each reactive campaign's due
customers is held out (holdouts.csv), never listed while held out, kept out for the campaign's
cooldown, and once the horizon has passed campaign_effects.csv compares the contacted with the
held-out customers.

The weekly runs here are the planning part of ``churnlab run`` (contact history from the
reports folder, plan_campaigns, write_targets), on a hand-made scored frame, so eight weeks run
in seconds; tests/test_weekly.py runs the whole thing.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from churnlab.decide.campaign_effects import campaign_effects
from churnlab.decide.campaigns import plan_campaigns
from churnlab.report.history import contact_history
from churnlab.report.outputs import write_targets
from churnlab.settings import CampaignSettings

START = date(2026, 5, 4)
HORIZON = 28


def _scored(n: int = 300) -> pd.DataFrame:
    """``n`` red customers ranked for the rescue, plenty of room on the list."""
    return pd.DataFrame({
        "customer_id": [f"C{k:04d}" for k in range(n)], "name": [f"Acme {k}" for k in range(n)],
        "owner": [f"Owner {k % 30}" for k in range(n)], "zone": "red", "value": 5000.0, "value_tier": "medium",
        "churn_probability": 0.4, "reasons": "usage fell", "expected_gain": np.linspace(900, 100, n),
        "priority": np.arange(1, n + 1, dtype=float), "tenure_days": 400, "days_since_success_touch": 5.0,
        "days_since_last_nps": 5.0, "days_since_marketing_touch": 5.0, "nps_promoter": 0.0,
        "preferred_channel": "email"})


def _weekly_runs(tmp_path, weeks: int, settings: CampaignSettings, churn: pd.DataFrame):
    """Run the planning of ``weeks`` consecutive weekly runs into ``tmp_path``; returns each
    week's (date, plan, effects)."""
    out = []
    frame = _scored()
    for w in range(weeks):
        day = START + timedelta(days=7 * w)
        history = contact_history(tmp_path, day)
        plan = plan_campaigns(frame, day, settings=settings, history=history)
        effects = campaign_effects(history, churn, day, HORIZON)
        write_targets(tmp_path / day.isoformat(), plan.lists(), day, backlog=plan.backlog, expired=plan.expired,
                      holdouts=plan.holdouts, effects=effects)
        out.append((day, plan, effects))
    return out


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    settings = CampaignSettings(holdout_share=0.2, weekly_capacity={"reactive": 15, "exit_interviews": 5,
                                                                    "proactive": 40})
    # a third of the customers left three weeks after the first run
    ids = _scored()["customer_id"]
    churn = pd.DataFrame({"customer_id": ids, "churn_date": [pd.Timestamp(START + timedelta(days=21)) if k % 3 == 0
                                                              else pd.NaT for k in range(len(ids))]})
    folder = tmp_path_factory.mktemp("reports")
    return folder, settings, _weekly_runs(folder, 8, settings, churn)


def test_about_the_holdout_share_of_the_newly_due_is_held_out(weeks):
    _, _, runs = weeks
    first = runs[0][1]
    # week one: 300 rescue customers due, 20% drawn
    assert 40 <= len(first.holdouts) <= 80
    assert set(first.holdouts["campaign"]) == {"rescue"}


def test_held_out_customers_are_never_on_a_list_while_held_out(weeks):
    _, _, runs = weeks
    for day, plan, _ in runs:
        listed = set().union(*(set(f["customer_id"]) for f in plan.lists().values()))
        assert not listed & set(plan.holdouts["customer_id"]), day
        # nor put in the backlog for a later week
        assert not set(plan.backlog["customer_id"]) & set(plan.holdouts["customer_id"]), day


def test_a_held_out_customer_stays_held_out_for_the_campaigns_cooldown(weeks):
    _, settings, runs = weeks
    cooldown = next(c.cooldown_days for c in settings.reactive if c.name == "rescue")
    first_day, first, _ = runs[0]
    for day, plan, _ in runs[1:]:
        inside = (day - first_day).days < cooldown
        still = set(first.holdouts["customer_id"]) <= set(plan.holdouts["customer_id"])
        assert still == inside, day
        if inside:
            assert (plan.holdouts.set_index("customer_id").loc[first.holdouts["customer_id"], "held_out_on"]
                    == first_day).all()


def test_the_same_inputs_draw_the_same_holdouts(weeks, tmp_path):
    _, settings, runs = weeks
    again = plan_campaigns(_scored(), START, settings=settings)
    pd.testing.assert_frame_equal(again.holdouts, runs[0][1].holdouts)


def test_campaign_effects_appear_once_the_horizon_has_passed(weeks):
    folder, _, runs = weeks
    for day, _, effects in runs:
        passed = (day - START).days >= HORIZON
        assert (folder / day.isoformat() / "campaign_effects.csv").exists() == passed, day
        assert (len(effects) > 0) == passed, day
    effects = runs[-1][2].set_index("campaign").loc["rescue"]
    # contacted and held out both lost every third customer: no measured uplift, an interval around 0
    assert effects["contacted"] > 0 and effects["held_out"] > 0
    assert effects["uplift_low"] < 0 < effects["uplift_high"]


def test_a_holdout_share_of_zero_turns_control_groups_off():
    plan = plan_campaigns(_scored(), START, settings=CampaignSettings(holdout_share=0.0))
    assert plan.holdouts.empty and len(plan.reactive) > 0


def test_campaign_effects_measure_a_campaign_that_works():
    # 100 contacted, 90 stayed; 100 held out, 60 stayed; all 60 days ago, horizon 28
    on = date(2026, 5, 1)
    history = pd.DataFrame({
        "customer_id": [f"T{k}" for k in range(100)] + [f"H{k}" for k in range(100)],
        "list": ["reactive"] * 100 + [""] * 100, "campaign": "rescue", "on": on,
        "kind": ["listed"] * 100 + ["held_out"] * 100})
    left = [f"T{k}" for k in range(10)] + [f"H{k}" for k in range(40)]
    customers = pd.DataFrame({"customer_id": history["customer_id"],
                              "churn_date": [pd.Timestamp("2026-05-15") if c in left else pd.NaT
                                             for c in history["customer_id"]]})
    got = campaign_effects(history, customers, "2026-06-30", 28).set_index("campaign").loc["rescue"]
    assert got["retention_contacted"] == pytest.approx(0.9) and got["retention_held_out"] == pytest.approx(0.6)
    assert got["uplift"] == pytest.approx(0.3)
    # Agresti-Caffo: (91/102 - 61/102) +- 1.96 sqrt(p1 q1 / 102 + p0 q0 / 102)
    p1, p0 = 91 / 102, 61 / 102
    half = 1.959964 * np.sqrt(p1 * (1 - p1) / 102 + p0 * (1 - p0) / 102)
    assert got["uplift_low"] == pytest.approx(p1 - p0 - half, abs=1e-5)


def _effects(n: int) -> pd.DataFrame:
    # the rescue measured: half the held-out customers left, 20 points more of the contacted stayed
    return pd.DataFrame([{"campaign": "rescue", "contacted": n, "contacted_retained": int(0.7 * n), "held_out": n,
                          "held_out_retained": n // 2, "retention_contacted": 0.7, "retention_held_out": 0.5,
                          "uplift": 0.2, "uplift_low": 0.1, "uplift_high": 0.3}])


def test_a_measured_campaign_effect_replaces_the_history_p_save_in_the_gain():
    frame = _scored(3).assign(p_save=0.2)
    settings = CampaignSettings(holdout_share=0.0)
    before = plan_campaigns(frame, START, settings=settings).reactive.set_index("customer_id")["expected_gain"]
    after = plan_campaigns(frame, START, settings=settings, effects=_effects(100)).reactive \
        .set_index("customer_id")["expected_gain"]
    # keeps 0.2 / (1 - 0.5) = 0.4 of leavers instead of p_save 0.2: + 0.4 x 5,000 x 0.2 = + 400
    assert (after - before).to_numpy() == pytest.approx([400.0, 400.0, 400.0])


def test_too_few_measured_customers_leave_the_gain_as_it_was():
    frame = _scored(3).assign(p_save=0.2)
    settings = CampaignSettings(holdout_share=0.0)   # measured_min_customers: 100 by default
    before = plan_campaigns(frame, START, settings=settings).reactive["expected_gain"]
    after = plan_campaigns(frame, START, settings=settings, effects=_effects(99)).reactive["expected_gain"]
    pd.testing.assert_series_equal(before, after)
