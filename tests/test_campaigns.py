"""Campaign target lists on hand-made customers."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from churnlab.decide.campaigns import TARGET_COLUMNS, plan_campaigns
from churnlab.settings import CampaignSettings, ProactiveCampaign, ReactiveCampaign

AS_OF = "2026-06-30"


def customers(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values()))) if cols else 1
    base = {"customer_id": [f"C{k}" for k in range(n)], "name": [f"Acme {k}" for k in range(n)],
            "owner": ["Ana"] * n, "zone": ["healthy"] * n, "value": [1000.0] * n, "value_tier": ["medium"] * n,
            "churn_probability": [0.05] * n, "reasons": ["no risk driver stands out"] * n,
            "tenure_days": [400] * n, "days_since_success_touch": [10.0] * n, "days_since_last_nps": [10.0] * n,
            "days_since_marketing_touch": [10.0] * n, "nps_promoter": [0.0] * n, "preferred_channel": ["email"] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_status_call_is_due_when_the_last_touch_is_older_than_the_tier_cadence():
    # cadence: high 30 days, medium 90, low 180
    frame = customers(value_tier=["high", "medium", "low", "high"],
                      days_since_success_touch=[31.0, 60.0, 200.0, float("nan")])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    calls = plan.proactive[plan.proactive["campaign"] == "status_call"]
    assert sorted(calls["customer_id"]) == ["C0", "C2", "C3"]   # C1: 60 < 90 days
    assert list(plan.proactive.columns) == TARGET_COLUMNS


def test_welcome_is_due_for_young_accounts_until_the_first_touch_after_signup():
    frame = customers(tenure_days=[10, 10, 100], days_since_success_touch=[float("nan"), 3.0, float("nan")])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    welcome = plan.proactive[plan.proactive["campaign"] == "welcome"]
    assert welcome["customer_id"].tolist() == ["C0"]
    assert welcome["due_date"].tolist() == [date(2026, 7, 7)]
    # a customer gets one proactive touch per run: C0 is not also on the status-call list
    assert plan.proactive["customer_id"].value_counts().max() == 1


def test_channel_is_the_preferred_one_when_the_tier_allows_it():
    frame = customers(value_tier=["high", "low", "low"], preferred_channel=["meeting", "meeting", None],
                      days_since_success_touch=[400.0] * 3)
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    assert plan.proactive.set_index("customer_id")["channel"].to_dict() == {"C0": "meeting", "C1": "email", "C2": "email"}


def test_reactive_takes_the_first_matching_campaign_and_never_two():
    frame = customers(zone=["red", "watch", "red", "healthy"],
                      symptoms=["payment_failed;usage_halved", "usage_halved", "", "tickets_stuck"],
                      alerts=["", "", "", ""], expected_gain=[500.0, 50.0, 900.0, 0.0])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    got = plan.reactive.set_index("customer_id")["campaign"].to_dict()
    assert got == {"C0": "billing_recovery", "C1": "adoption_recovery", "C2": "red_zone_rescue", "C3": "support_recovery"}
    assert plan.reactive["customer_id"].is_unique


def test_reactive_rows_carry_the_compensation_cap_of_the_value_tier():
    frame = customers(zone=["red", "red"], value_tier=["high", "low"], symptoms=["", ""])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    assert plan.reactive.set_index("customer_id")["compensation_cap"].to_dict() == {"C0": 2000.0, "C1": 100.0}
    assert plan.reactive.set_index("customer_id")["action"]["C0"].startswith("rescue meeting")


def test_red_zone_is_planned_by_priority_within_weekly_capacity_per_owner():
    settings = CampaignSettings(weekly_capacity_per_owner=2)
    frame = customers(zone=["red"] * 5, owner=["Ana", "Ana", "Ana", "Ben", "Ana"],
                      expected_gain=[100.0, 400.0, 300.0, 50.0, 200.0], symptoms=[""] * 5,
                      critical=[False, False, False, False, True])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    r = plan.reactive
    # critical first, then by expected gain; Ana's third and fourth customers are due a week later
    assert r["customer_id"].tolist() == ["C4", "C1", "C2", "C0", "C3"]
    assert r.set_index("customer_id")["due_date"].to_dict() == {
        "C4": date(2026, 7, 3), "C1": date(2026, 7, 3), "C2": date(2026, 7, 10), "C0": date(2026, 7, 10),
        "C3": date(2026, 7, 3)}


def test_dead_zone_gets_an_exit_interview_without_compensation():
    frame = customers(zone=["dead", "dead", "red"], churn_probability=[0.3, 0.6, 0.5], symptoms=["payment_failed", "", ""])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    assert plan.exit_interviews["customer_id"].tolist() == ["C1", "C0"]        # likeliest to leave first
    assert (plan.exit_interviews["compensation_cap"] == 0).all()
    assert set(plan.reactive["customer_id"]) == {"C2"}                       # no rescue for the dead


def test_accounts_without_owner_go_to_the_default_team():
    frame = customers(zone=["red"], owner=[None], symptoms=[""])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings(default_owner="CS pool"))
    assert plan.reactive["owner"].tolist() == ["CS pool"]


def test_a_campaign_without_its_data_is_skipped_with_the_reason():
    frame = customers().drop(columns=["days_since_last_nps"])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    assert plan.skipped.set_index("campaign")["reason"].to_dict() == {"satisfaction_poll": "no data for days_since_last_nps"}


def test_missing_upstream_columns_are_named():
    with pytest.raises(ValueError, match="value_tier"):
        plan_campaigns(customers().drop(columns=["value_tier"]), AS_OF, settings=CampaignSettings())


def test_custom_campaigns_come_from_settings():
    settings = CampaignSettings(
        proactive=[ProactiveCampaign(name="qbr", action="quarterly business review", last_touch="days_since_success_touch",
                                     cadence_days={"high": 90})],
        reactive=[ReactiveCampaign(name="any_symptom", on=["x"], action="call")])
    frame = customers(value_tier=["high", "medium"], days_since_success_touch=[120.0, 120.0], symptoms=["x", "x"])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    assert plan.proactive["customer_id"].tolist() == ["C0"]
    assert plan.reactive["campaign"].tolist() == ["any_symptom", "any_symptom"]


def test_targets_are_written_as_csv_and_one_workbook_with_a_sheet_per_list(tmp_path):
    from openpyxl import load_workbook

    from churnlab.report.outputs import write_targets

    frame = customers(zone=["red", "dead", "healthy"], symptoms=["", "", ""], days_since_success_touch=[1.0, 1.0, 400.0])
    plan = plan_campaigns(frame, AS_OF, settings=CampaignSettings())
    path = write_targets(tmp_path, plan.lists(), AS_OF)
    for name in ("proactive", "reactive", "exit_interviews"):
        back = pd.read_csv(tmp_path / "targets" / f"{name}.csv")
        assert list(back.columns) == TARGET_COLUMNS and len(back) == 1, name
    book = load_workbook(path)
    assert book.sheetnames == ["About", "Proactive", "Reactive", "Exit interviews"]
    assert book["Reactive"]["A2"].value == "C0" and book["Reactive"]["A1"].value == "Customer ID"
    assert book.properties.created.date() == date(2026, 6, 30)   # not the wall clock


def test_only_rules_that_fired_since_the_previous_run_trigger_reactive_campaigns():
    from churnlab.decide.campaigns import triggered_since
    from churnlab.decide.rules import parse_rules

    rules = parse_rules("""
rules:
  - {name: payment_failed, kind: symptom, severity: critical, when: failed_payments_180d >= 1, message: failed}
  - {name: detractor, kind: risk_factor, severity: recapitulative, when: last_nps <= 6, message: detractor}
""")
    now = pd.DataFrame({"customer_id": ["A", "B"], "symptoms": ["payment_failed;detractor", "detractor"],
                        "alerts": ["payment_failed", ""]})
    before = pd.DataFrame({"customer_id": ["A", "B"], "symptoms": ["detractor", ""], "alerts": ["", ""]})
    out = triggered_since(now, before, rules).set_index("customer_id")
    assert out.loc["A", "symptoms"] == "payment_failed" and out.loc["A", "critical"]
    assert out.loc["B", "symptoms"] == "detractor" and not out.loc["B", "critical"]
    first = triggered_since(now, None, rules).set_index("customer_id")
    assert first.loc["A", "symptoms"] == "payment_failed;detractor"


def test_default_reactive_campaigns_name_only_rules_of_the_starter_set():
    from churnlab.decide.rules import load_rules

    rules = load_rules()
    names = {r.name for r in rules.rules} | {a.name for a in rules.alerts}
    for camp in CampaignSettings().reactive:
        assert set(camp.on) <= names, (camp.name, set(camp.on) - names)


def test_campaign_plots_have_titles_and_axis_labels():
    import matplotlib
    matplotlib.use("agg")
    from churnlab.decide.plots import plot_campaign_sizes, plot_rule_counts

    counts = pd.DataFrame({"rule": ["a", "b"], "fired": [3, 1]})
    summary = pd.DataFrame({"list": ["proactive", "reactive"], "campaign": ["x", "y"], "rows": [2, 1], "customers": [2, 1]})
    for ax in (plot_rule_counts(counts), plot_campaign_sizes(summary)):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
