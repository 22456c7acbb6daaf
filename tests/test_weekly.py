"""Eight consecutive weekly runs (``churnlab run --since ... --until ...``) on the small demo: the
lists keep their promises from one week to the next.

Capacities are set small so that lists overflow and rows are carried over; the models are cut
down (one survival model, one classifier, six snapshots) to keep eight runs quick. What is
checked is what the people who make the calls would notice: a customer called twice for one
campaign within its cooldown, an exit interview asked twice, an owner given more rows than a
week holds, a customer who left and was never invited.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from churnlab.decide.rules import load_rules
from churnlab.settings import load_settings

WEEKS = 8
FIRST = date(2026, 2, 3)
LAST = FIRST + timedelta(days=7 * (WEEKS - 1))
LISTS = ("proactive", "reactive", "exit_interviews")

SETTINGS = """\
models:
  survival: [weibull_aft]
  classifiers: [logistic]
  snapshots: 6
  backtest_folds: 2
  n_jobs: 1
campaigns:
  weekly_capacity: {reactive: 2, exit_interviews: 1, proactive: 4}
"""


@pytest.fixture(scope="module")
def weekly(small_demo, tmp_path_factory) -> tuple[Path, object]:
    """The reports folder of eight weekly runs on the small demo, and their settings."""
    reports = tmp_path_factory.mktemp("weekly")
    config = reports.parent / "weekly-settings.yaml"
    config.write_text(SETTINGS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "churnlab", "run", "--data", str(small_demo), "--since", FIRST.isoformat(),
         "--until", LAST.isoformat(), "--out", str(reports), "--config", str(config), "--quiet"],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return reports, load_settings(config)


def rows(reports: Path, name: str) -> pd.DataFrame:
    """Every row of one list (or the backlog) over the weeks, with its run's date in ``week``."""
    parts = []
    for run in sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith(".")):
        frame = pd.read_csv(run / "targets" / f"{name}.csv", dtype={"customer_id": str},
                            parse_dates=["due_date", "first_due_date"])
        parts.append(frame.assign(week=pd.Timestamp(run.name)))
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def test_eight_weekly_reports_are_written(weekly):
    reports, _ = weekly
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == [
        (FIRST + timedelta(days=7 * k)).isoformat() for k in range(WEEKS)]


def test_nobody_is_listed_twice_for_a_campaign_within_its_cooldown_without_a_new_critical_trigger(weekly):
    reports, settings = weekly
    camp = settings.campaigns
    critical = {r.name for r in load_rules(settings.rules.path).rules if r.severity == "critical"}
    cooldown = {c.name: c.cooldown_days for c in camp.reactive}
    # a proactive campaign's cooldown is its tier's cadence: the shortest one is the safe bound
    cooldown |= {c.name: min(c.cadence_days.values()) if c.cadence_days else 10_000 for c in camp.proactive}
    listed = pd.concat([rows(reports, name) for name in ("proactive", "reactive")], ignore_index=True)
    listed = listed.sort_values(["customer_id", "campaign", "week"])
    for (_, name), calls in listed.groupby(["customer_id", "campaign"]):
        weeks = calls["week"].tolist()
        for before, again, trigger in zip(weeks, weeks[1:], calls["trigger"].tolist()[1:]):
            if (again - before).days < cooldown[name]:
                assert trigger in critical, (calls.iloc[0]["customer_id"], name, before, again, trigger)
    assert len(listed) > 0


def test_no_exit_interview_is_asked_twice(weekly):
    reports, _ = weekly
    asked = rows(reports, "exit_interviews")
    assert len(asked) > 0
    assert asked["customer_id"].is_unique, asked[asked["customer_id"].duplicated(keep=False)]


def test_each_owners_weekly_rows_stay_within_capacity(weekly):
    reports, settings = weekly
    for name in LISTS:
        per_owner = rows(reports, name).groupby(["week", "owner"]).size()
        assert per_owner.max() <= settings.campaigns.weekly_capacity[name], (name, per_owner.idxmax())


def test_rows_over_capacity_are_carried_with_their_first_due_date_and_come_back(weekly):
    reports, _ = weekly
    backlog = rows(reports, "backlog")
    listed = pd.concat([rows(reports, name).assign(list=name) for name in LISTS], ignore_index=True)
    carried = listed[listed["days_waiting"] > 0]
    assert len(backlog) > 0 and len(carried) > 0, "the capacities are small enough that lists overflow"
    for rec in carried.itertuples(index=False):
        # carried from the week before, with the date it was first due then
        before = backlog[(backlog["customer_id"] == rec.customer_id)
                         & (backlog["week"] == rec.week - pd.Timedelta(days=7))]
        assert len(before) == 1, rec
        assert rec.first_due_date == before["first_due_date"].iloc[0], rec
        assert rec.days_waiting == (rec.week - rec.first_due_date).days


def test_every_customer_who_churned_in_a_week_is_invited_or_carried_over(weekly, small_demo):
    reports, _ = weekly
    customers = pd.read_parquet(small_demo / "customers.parquet")
    churn = pd.to_datetime(customers["churn_date"])
    invited = pd.concat([rows(reports, "exit_interviews"), rows(reports, "backlog")], ignore_index=True)
    invited = invited[invited["campaign"] == "exit_interview"]
    missed = []
    for k in range(1, WEEKS):
        start, end = pd.Timestamp(FIRST + timedelta(days=7 * (k - 1))), pd.Timestamp(FIRST + timedelta(days=7 * k))
        left = set(customers.loc[(churn > start) & (churn <= end), "customer_id"].astype(str))
        this_week = set(invited.loc[invited["week"] == end, "customer_id"])
        missed += sorted(left - this_week)
    assert not missed
    assert (invited["zone"] == "churned").any()
