"""Eight consecutive weekly runs (``churnlab run --since ... --until ...``) on the small demo: the
lists keep their promises from one week to the next.

Capacities are set small so that lists overflow and rows are carried over; the models are cut
down (one survival model, one classifier, six snapshots) to keep eight runs quick; the horizon is
three weeks and three rows in ten are held out, so the control groups are measured within the
eight weeks. What is
checked is what the people who make the calls would notice: a customer called twice for one
campaign within its cooldown, an exit interview asked twice, an owner given more rows than a
week holds, a customer who left and was never invited.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
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
horizon_days: 21
models:
  survival: [weibull_aft]
  classifiers: [logistic]
  snapshots: 6
  backtest_folds: 2
  n_jobs: 1
campaigns:
  weekly_capacity: {reactive: 2, exit_interviews: 1, proactive: 4}
  holdout_share: 0.3
"""


def start_weekly_runs(config) -> None:
    """Generate the small demo and start ``churnlab run --since --until`` in the background (called
    by conftest.py once the tests are collected); :func:`weekly` waits for it."""
    from churnlab.demo.simulation import generate_demo_data

    from tests.conftest import SMALL_CUSTOMERS, SMALL_SEED

    root = Path(tempfile.mkdtemp(prefix="churnlab-weekly-"))
    data = root / "tables"
    generate_demo_data(data, customers=SMALL_CUSTOMERS, seed=SMALL_SEED)
    reports, config_file = root / "reports", root / "weekly-settings.yaml"
    config_file.write_text(SETTINGS, encoding="utf-8")
    log = (root / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "churnlab", "run", "--data", str(data), "--since", FIRST.isoformat(),
         "--until", LAST.isoformat(), "--out", str(reports), "--config", str(config_file), "--quiet"],
        stdout=log, stderr=subprocess.STDOUT, text=True)
    _RUNS.update(proc=proc, root=root, data=data, reports=reports, config=config_file, log=log)
    config.add_cleanup(lambda: (proc.kill(), proc.wait(), log.close(), shutil.rmtree(root, ignore_errors=True)))


_RUNS: dict = {}


@pytest.fixture(scope="module")
def weekly() -> tuple[Path, object]:
    """The reports folder of eight weekly runs on the small demo, and their settings."""
    if not _RUNS:  # the test was collected in a way the hook did not see: start it now
        pytest.fail("the weekly runs were not started (tests/conftest.py, pytest_collection_finish)")
    proc = _RUNS["proc"]
    proc.wait(timeout=1800)
    _RUNS["log"].flush()
    assert proc.returncode == 0, (_RUNS["root"] / "run.log").read_text()
    return _RUNS["reports"], load_settings(_RUNS["config"])


@pytest.fixture(scope="module")
def weekly_demo() -> Path:
    return _RUNS["data"]


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


def test_every_customer_who_churned_in_a_week_is_invited_or_carried_over(weekly, weekly_demo):
    reports, _ = weekly
    customers = pd.read_parquet(weekly_demo / "customers.parquet")
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


def _weeks(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_held_out_customers_are_on_no_list_and_marked_in_scores(weekly):
    reports, settings = weekly
    assert settings.campaigns.holdout_share > 0
    drawn = 0
    for run in _weeks(reports):
        held = pd.read_csv(run / "holdouts.csv", dtype={"customer_id": str})
        drawn += len(held)
        listed = set().union(*(set(pd.read_csv(run / "targets" / f"{n}.csv", dtype={"customer_id": str})["customer_id"])
                               for n in LISTS))
        assert not listed & set(held["customer_id"]), run.name
        scores = pd.read_csv(run / "scores.csv", dtype={"customer_id": str}).set_index("customer_id")
        marked = scores["holdout"].dropna()
        assert dict(marked) == dict(zip(held["customer_id"], held["campaign"])), run.name
    assert drawn > 0


def test_a_held_out_customer_stays_held_out_for_the_campaigns_cooldown(weekly):
    reports, settings = weekly
    cooldown = {c.name: c.cooldown_days for c in settings.campaigns.reactive}
    runs = _weeks(reports)
    checked = 0
    for k, run in enumerate(runs):
        held = pd.read_csv(run / "holdouts.csv", dtype={"customer_id": str}, parse_dates=["held_out_on"])
        for later in runs[k + 1:]:
            day = pd.Timestamp(later.name)
            active = set(pd.read_csv(later / "scores.csv", dtype={"customer_id": str})["customer_id"])
            again = pd.read_csv(later / "holdouts.csv", dtype={"customer_id": str},
                                parse_dates=["held_out_on"]).set_index("customer_id")
            for cid, camp, on in zip(held["customer_id"], held["campaign"], held["held_out_on"]):
                if cid in active and (day - on).days < cooldown[camp]:
                    assert cid in again.index and again.loc[cid, "held_out_on"] == on, (cid, later.name)
                    checked += 1
    assert checked > 0


def test_campaign_effects_appear_once_the_horizon_has_passed(weekly):
    """campaign_effects.csv is written by the first run at least ``horizon_days`` after a campaign
    first contacted and first held out a customer, and from then on counts exactly the customers
    first listed (reactive) or first held out at least ``horizon_days`` before the run."""
    reports, settings = weekly
    horizon = pd.Timedelta(days=settings.horizon_days)
    runs = _weeks(reports)
    seen: dict[tuple[str, str], tuple[str, pd.Timestamp]] = {}   # (campaign, customer) -> (group, first day)
    measured = 0
    for run in runs:
        day = pd.Timestamp(run.name)
        held = pd.read_csv(run / "holdouts.csv", dtype={"customer_id": str}, parse_dates=["held_out_on"])
        listed = pd.read_csv(run / "targets" / "reactive.csv", dtype={"customer_id": str})
        for cid, camp, on in zip(held["customer_id"], held["campaign"], held["held_out_on"]):
            seen.setdefault((camp, cid), ("held_out", on))
        for cid, camp in zip(listed["customer_id"], listed["campaign"]):
            seen.setdefault((camp, cid), ("contacted", day))
        due = pd.DataFrame([(camp, group) for (camp, _), (group, on) in seen.items() if on + horizon <= day],
                           columns=["campaign", "group"])
        expected = {camp: part["group"].value_counts() for camp, part in due.groupby("campaign")}
        expected = {camp: n for camp, n in expected.items() if n.get("held_out", 0) and n.get("contacted", 0)}
        path = run / "campaign_effects.csv"
        assert path.exists() == bool(expected), run.name
        if expected:
            effects = pd.read_csv(path).set_index("campaign")
            assert set(effects.index) == set(expected), run.name
            for camp, n in expected.items():
                assert effects.loc[camp, "contacted"] == n["contacted"], (run.name, camp)
                assert effects.loc[camp, "held_out"] == n["held_out"], (run.name, camp)
            measured += 1
    assert measured > 0, "no run measured a campaign: lengthen the runs or shorten the horizon"
    assert not (runs[0] / "campaign_effects.csv").exists()
