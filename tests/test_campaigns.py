"""Campaign target lists on hand-made customers."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from churnlab.decide.campaigns import TARGET_COLUMNS, plan_campaigns
from churnlab.settings import CampaignSettings, ProactiveCampaign, ReactiveCampaign


def NoHoldouts(**fields) -> CampaignSettings:
    """Campaign settings without control groups: these tests are about the lists
    (tests/test_holdouts.py tests the control groups)."""
    return CampaignSettings(**{"holdout_share": 0.0, **fields})

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
    # cadence: high 30 days, medium 90, low 180; all just fell due, so none is spread to a later week
    frame = customers(value_tier=["high", "medium", "low", "high"], days_since_success_touch=[31.0, 60.0, 182.0, 35.0])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    calls = plan.proactive[plan.proactive["campaign"] == "status_call"]
    assert sorted(calls["customer_id"]) == ["C0", "C2", "C3"]   # C1: 60 < 90 days
    assert list(plan.proactive.columns) == TARGET_COLUMNS
    assert calls.set_index("customer_id").loc["C0", "trigger_message"] == "last made 31 days ago; due every 30 days"


def test_a_first_run_spreads_a_cadence_over_its_period_instead_of_listing_everybody_at_once():
    # 260 medium customers never called: cadence 90 days = 12 weeks; each week lists about a twelfth
    n = 260
    frame = customers(customer_id=[f"C{k:03d}" for k in range(n)], days_since_success_touch=[float("nan")] * n,
                      days_since_last_nps=[1.0] * n)
    settings = NoHoldouts(weekly_capacity={"reactive": 15, "exit_interviews": 5, "proactive": 1000})
    history = pd.DataFrame(columns=["customer_id", "list", "campaign", "on", "kind"])
    weekly = []
    for week in range(12):
        day = date(2026, 6, 30) + timedelta(days=7 * week)
        plan = plan_campaigns(frame, day, settings=settings, history=history)
        weekly.append(len(plan.proactive))
        history = pd.concat([history, plan.proactive.assign(list="proactive", on=day, kind="listed")],
                            ignore_index=True)
    assert max(weekly) < 3 * n / 12                 # not 260 in week one
    assert sum(weekly) == n and history["customer_id"].is_unique   # everyone once within the cadence


def test_welcome_is_due_for_young_accounts_until_the_first_touch_after_signup():
    frame = customers(tenure_days=[10, 10, 100], days_since_success_touch=[float("nan"), 3.0, 95.0])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    welcome = plan.proactive[plan.proactive["campaign"] == "welcome"]
    assert welcome["customer_id"].tolist() == ["C0"]
    assert welcome["due_date"].tolist() == [date(2026, 7, 7)]
    # a customer gets one proactive touch per run: C0 is not also on the status-call list
    assert plan.proactive["customer_id"].value_counts().max() == 1


def test_channel_is_the_preferred_one_when_campaign_and_tier_allow_it():
    frame = customers(value_tier=["high", "low", "low", "low"], preferred_channel=["meeting", "meeting", None, "email"],
                      days_since_success_touch=[95.0, 185.0, 185.0, 185.0])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    # status check-in: meeting, phone, chat, email; the low tier may not get a meeting or a call
    assert plan.proactive.set_index("customer_id")["channel"].to_dict() == {
        "C0": "meeting", "C1": "chat", "C2": "chat", "C3": "email"}


def test_an_action_never_goes_out_on_a_channel_that_contradicts_it():
    frame = customers(zone=["healthy", "healthy", "red"], value_tier=["high", "low", "high"],
                      preferred_channel=["email", "chat", "email"], symptoms=["renewal_with_usage_drop", "payment_failed", ""],
                      expected_gain=[500.0, 50.0, 900.0], priority=[None, None, 1])
    rows = plan_campaigns(frame, AS_OF, settings=NoHoldouts()).reactive.set_index("customer_id")
    assert rows.loc["C0", "action"].startswith("renewal meeting") and rows.loc["C0", "channel"] == "meeting"
    assert rows.loc["C1", "action"].startswith("finance call") and rows.loc["C1", "channel"] == "phone"
    assert rows.loc["C2", "action"].startswith("rescue meeting") and rows.loc["C2", "channel"] == "meeting"


def test_reactive_takes_the_first_matching_campaign_and_never_two():
    frame = customers(zone=["red", "watch", "red", "healthy"],
                      symptoms=["payment_failed;usage_halved", "usage_halved", "", "tickets_stuck"],
                      alerts=["", "", "", ""], expected_gain=[500.0, 50.0, 900.0, 0.0], priority=[2, 3, 1, None])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    got = plan.reactive.set_index("customer_id")
    assert got["campaign"].to_dict() == {"C0": "billing_recovery", "C1": "adoption_recovery", "C2": "rescue",
                                         "C3": "support_recovery"}
    assert plan.reactive["customer_id"].is_unique
    # C0 was due for the adoption session and the rescue too: said, not listed twice
    assert got.loc["C0", "also_due"] == "adoption_recovery;rescue"


def test_reactive_rows_carry_the_rule_that_fired_with_its_numbers_and_when():
    frame = customers(zone=["healthy"], symptoms=["payment_failed"],
                      trigger_messages=["payment_failed: a payment failed (2 failed in 180 days)"])
    row = plan_campaigns(frame, AS_OF, settings=NoHoldouts()).reactive.iloc[0]
    assert (row["trigger"], row["trigger_message"]) == ("payment_failed", "a payment failed (2 failed in 180 days)")
    assert row["triggered_on"] == date(2026, 6, 30)


def test_the_compensation_cap_is_never_more_than_a_save_is_worth():
    frame = customers(zone=["red", "red", "red"], value_tier=["high", "high", "low"], symptoms=["", "", ""],
                      expected_gain=[10_000.0, 300.0, 1_000.0], priority=[1, 3, 2])
    caps = plan_campaigns(frame, AS_OF, settings=NoHoldouts()).reactive.set_index("customer_id")["compensation_cap"]
    # the tier's cap (2,000 / 100) or half the expected gain, whichever is smaller
    assert caps.to_dict() == {"C0": 2000.0, "C1": 150.0, "C2": 100.0}


def test_an_offer_from_the_menu_fits_under_the_cap_and_its_cost_comes_off_the_gain():
    from churnlab.settings import Offer

    settings = NoHoldouts(offers=[Offer(name="1 bonus month", cost=100.0), Offer(name="training day", cost=800.0),
                                        Offer(name="extra seats", cost=1500.0, tiers=["medium"])])
    frame = customers(zone=["red", "red"], value_tier=["high", "high"], symptoms=["", ""],
                      expected_gain=[10_000.0, 400.0], priority=[1, 2])
    rows = plan_campaigns(frame, AS_OF, settings=settings).reactive.set_index("customer_id")
    assert rows.loc["C0", "offer"] == "training day" and rows.loc["C0", "expected_gain"] == 9_200.0
    assert rows.loc["C1", "offer"] == "1 bonus month" and rows.loc["C1", "expected_gain"] == 300.0


def test_each_owner_works_a_list_within_capacity_and_the_rest_waits_for_next_week():
    settings = NoHoldouts(weekly_capacity={"reactive": 2, "exit_interviews": 5, "proactive": 40})
    frame = customers(zone=["red"] * 5, owner=["Ana", "Ana", "Ana", "Ben", "Ana"],
                      expected_gain=[100.0, 400.0, 300.0, 50.0, 200.0], priority=[4, 1, 2, 5, 3], symptoms=[""] * 5,
                      critical=[False, False, False, False, True])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    # critical first, then by expected gain; Ana's third and fourth wait
    assert plan.reactive["customer_id"].tolist() == ["C4", "C1", "C3"]
    assert plan.by_owner().loc["Ana", "reactive"] == 2
    back = plan.backlog.set_index("customer_id")
    assert back.index.tolist() == ["C2", "C0"]
    assert back.loc["C2", "due_date"] == date(2026, 7, 10) and back.loc["C2", "first_due_date"] == date(2026, 7, 3)
    from churnlab.decide.campaigns import capacity_notes
    assert capacity_notes(plan, settings) == [
        "reactive: 5 rows were due this week for 2 owner(s) of 2 places each; 2 wait for next week "
        "(raise campaigns.weekly_capacity.reactive)"]


def test_carried_rows_come_back_first_with_their_first_due_date_and_how_long_they_waited():
    settings = NoHoldouts(weekly_capacity={"reactive": 1, "exit_interviews": 5, "proactive": 40})
    frame = customers(zone=["red", "red"], expected_gain=[100.0, 400.0], priority=[2, 1], symptoms=["", ""])
    week1 = plan_campaigns(frame, AS_OF, settings=settings)
    assert week1.reactive["customer_id"].tolist() == ["C1"] and week1.backlog["customer_id"].tolist() == ["C0"]
    history = pd.concat([week1.reactive.assign(list="reactive", on=date(2026, 6, 30), kind="listed"),
                         week1.backlog.assign(on=date(2026, 6, 30), kind="carried")], ignore_index=True)
    week2 = plan_campaigns(frame, "2026-07-07", settings=settings, history=history)
    row = week2.reactive.iloc[0]
    assert row["customer_id"] == "C0"           # C1 was called last week: its cooldown holds
    assert row["first_due_date"] == date(2026, 7, 3) and row["days_waiting"] == 4


def test_a_row_that_waited_longer_than_max_wait_days_expires_and_is_named():
    settings = NoHoldouts(weekly_capacity={"reactive": 1, "exit_interviews": 5, "proactive": 40}, max_wait_days=10)
    frame = customers(zone=["red", "red"], expected_gain=[100.0, 400.0], priority=[2, 1], symptoms=["", ""])
    old = plan_campaigns(frame, "2026-06-16", settings=settings)
    history = old.backlog.assign(on=date(2026, 6, 16), kind="carried")
    plan = plan_campaigns(frame, AS_OF, settings=settings, history=history)
    # C0 was first due on 2026-06-19: 11 days > 10; it is not listed nor carried again, but named
    assert "C0" not in set(plan.reactive["customer_id"]) | set(plan.backlog["customer_id"])
    assert plan.expired["customer_id"].tolist() == ["C0"]
    assert plan.summary().set_index("campaign").loc["rescue", "expired"] == 1


def test_a_customer_contacted_within_the_cooldown_is_not_listed_again_unless_a_new_critical_rule_fires():
    frame = customers(zone=["red", "red", "red"], priority=[1, 2, 3], symptoms=["", "", "payment_failed"],
                      critical=[False, False, True], expected_gain=[300.0, 200.0, 100.0])
    history = pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "list": ["reactive", "", "reactive"],
                            "campaign": ["rescue", "save_desk", "billing_recovery"],
                            "on": [date(2026, 6, 16), date(2026, 6, 27), date(2026, 6, 23)],
                            "kind": ["listed", "intervention", "listed"]})
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts(), history=history)
    # C0: rescued two weeks ago (cooldown 60 days); C1: a save-desk action 3 days ago counts for
    # every reactive campaign; C2: a new critical rule overrides the cooldown
    assert plan.reactive["customer_id"].tolist() == ["C2"]


def test_exit_interviews_go_to_the_churned_and_the_dead_about_to_leave_and_each_is_asked_once():
    frame = customers(zone=["dead", "dead", "red", "dead"], churn_probability=[0.3, 0.6, 0.5, 0.9],
                      symptoms=["payment_failed", "", "", ""], priority=[None, None, 1, None])
    churned = pd.DataFrame({"customer_id": ["X1"], "name": ["Gone Ltd"], "owner": ["Ben"],
                            "churn_date": [date(2026, 6, 28)]})
    asked = pd.DataFrame({"customer_id": ["C3"], "list": ["exit_interviews"], "campaign": ["exit_interview"],
                          "on": [date(2026, 1, 6)], "kind": ["listed"]})
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts(), history=asked, churned=churned)
    exits = plan.exit_interviews
    # the churned first; C0 (30%) is below the 50% leaving probability; C3 was asked in January
    assert exits["customer_id"].tolist() == ["X1", "C1"]
    assert exits.set_index("customer_id").loc["X1", "trigger_message"] == "churned on 2026-06-28"
    assert (exits["compensation_cap"] == 0).all()
    assert set(plan.reactive["customer_id"]) == {"C2"}                       # no rescue for the dead


def test_a_customer_is_on_one_list_per_run_and_the_others_are_named():
    frame = customers(zone=["red"], priority=[1], symptoms=[""], days_since_success_touch=[95.0])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    assert len(plan.reactive) == 1 and len(plan.proactive) == 0
    assert plan.reactive.iloc[0]["also_due"] == ""
    settings = NoHoldouts(list_priority=["proactive", "reactive", "exit_interviews"])
    frame = customers(zone=["watch"], priority=[1], symptoms=[""], days_since_success_touch=[95.0])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    assert len(plan.reactive) == 0 and plan.proactive.iloc[0]["also_due"] == "rescue"


def test_accounts_without_owner_go_to_the_default_team():
    frame = customers(zone=["red"], owner=[None], symptoms=[""], priority=[1])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts(default_owner="CS pool"))
    assert plan.reactive["owner"].tolist() == ["CS pool"]


def test_a_campaign_without_its_data_is_skipped_with_the_reason():
    frame = customers().drop(columns=["nps_promoter"])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    assert plan.skipped.set_index("campaign")["reason"].to_dict() == {"advocate_invitation": "no data for nps_promoter"}


def test_without_touch_data_churnlabs_own_lists_are_the_memory():
    # a flat table has no touchpoints: everyone counts as never touched, spread over the cadence
    # in the first weeks, then due again a cadence after churnlab listed them
    n = 120
    frame = customers(customer_id=[f"C{k:03d}" for k in range(n)]).drop(
        columns=["days_since_success_touch", "days_since_last_nps", "days_since_marketing_touch"])
    settings = NoHoldouts(weekly_capacity={"reactive": 15, "exit_interviews": 5, "proactive": 1000})
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    assert plan.skipped.empty and 0 < len(plan.proactive) < n / 4
    listed = plan.proactive.assign(list="proactive", on=date(2026, 6, 30), kind="listed")
    again = plan_campaigns(frame, "2026-07-07", settings=settings, history=listed)
    assert not set(again.proactive["customer_id"]) & set(plan.proactive["customer_id"])


def test_the_team_without_owners_has_the_capacity_of_its_people():
    settings = NoHoldouts(weekly_capacity={"reactive": 2, "exit_interviews": 5, "proactive": 40}, team_size=3,
                                default_owner="team")
    frame = customers(zone=["red"] * 8, owner=[None] * 8, priority=list(range(1, 9)), symptoms=[""] * 8,
                      expected_gain=[float(100 - k) for k in range(8)])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    assert len(plan.reactive) == 6 and len(plan.backlog) == 2


def test_missing_upstream_columns_are_named():
    with pytest.raises(ValueError, match="value_tier"):
        plan_campaigns(customers().drop(columns=["value_tier"]), AS_OF, settings=NoHoldouts())


def test_old_capacity_settings_still_load_and_a_list_cannot_be_left_out():
    with pytest.warns(UserWarning, match="weekly_capacity.reactive"):
        assert NoHoldouts(weekly_capacity_per_owner=7).weekly_capacity["reactive"] == 7
    with pytest.raises(ValueError, match="list_priority"):
        NoHoldouts(list_priority=["reactive", "proactive"])


def test_custom_campaigns_come_from_settings():
    settings = NoHoldouts(
        proactive=[ProactiveCampaign(name="qbr", action="quarterly business review", last_touch="days_since_success_touch",
                                     cadence_days={"high": 90})],
        reactive=[ReactiveCampaign(name="any_symptom", on=["x"], action="call")])
    frame = customers(value_tier=["high", "medium"], days_since_success_touch=[92.0, 120.0], symptoms=["", "x"])
    plan = plan_campaigns(frame, AS_OF, settings=settings)
    assert plan.proactive["customer_id"].tolist() == ["C0"]
    assert plan.reactive["campaign"].tolist() == ["any_symptom"]


def test_targets_are_written_as_csv_and_one_workbook_with_a_sheet_per_list(tmp_path):
    from openpyxl import load_workbook

    from churnlab.report.outputs import write_targets

    frame = customers(zone=["red", "dead", "healthy"], symptoms=["", "", ""], days_since_success_touch=[1.0, 1.0, 95.0],
                      priority=[1, None, None], churn_probability=[0.3, 0.7, 0.01])
    plan = plan_campaigns(frame, AS_OF, settings=NoHoldouts())
    path = write_targets(tmp_path, plan.lists(), AS_OF, backlog=plan.backlog)
    for name in ("proactive", "reactive", "exit_interviews"):
        back = pd.read_csv(tmp_path / "targets" / f"{name}.csv")
        assert list(back.columns) == TARGET_COLUMNS and len(back) == 1, name
    assert (tmp_path / "targets" / "backlog.csv").is_file()
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
    for camp in NoHoldouts().reactive:
        assert set(camp.on) <= names, (camp.name, set(camp.on) - names)


def test_campaign_plots_have_titles_and_axis_labels():
    import matplotlib
    matplotlib.use("agg")
    from churnlab.decide.plots import plot_campaign_sizes, plot_rule_counts

    counts = pd.DataFrame({"rule": ["a", "b"], "fired": [3, 1]})
    summary = pd.DataFrame({"list": ["proactive", "reactive"], "campaign": ["x", "y"], "rows": [2, 1], "customers": [2, 1]})
    for ax in (plot_rule_counts(counts), plot_campaign_sizes(summary)):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
