"""changes.csv: who entered or left each zone since the previous run."""
from __future__ import annotations

from datetime import date

import pandas as pd

from churnlab.decide.changes import CHANGES_COLUMNS, previous_run, zone_changes


def test_a_move_between_zones_is_one_left_and_one_entered_row():
    before = pd.DataFrame({"customer_id": ["A", "B"], "zone": ["watch", "red"]})
    now = pd.DataFrame({"customer_id": ["A", "B"], "zone": ["red", "red"],
                        "zone_reason": ["churn risk 40% >= 25%; expected gain 900", "unchanged"]})
    out = zone_changes(before, now)
    assert list(out.columns) == CHANGES_COLUMNS
    assert out[["customer_id", "zone", "change"]].values.tolist() == [["A", "watch", "left"], ["A", "red", "entered"]]
    assert out["reason"].tolist() == ["now red: churn risk 40% >= 25%; expected gain 900",
                                      "churn risk 40% >= 25%; expected gain 900"]


def test_customers_who_appear_or_disappear_are_changes():
    before = pd.DataFrame({"customer_id": ["GONE"], "zone": ["dead"]})
    now = pd.DataFrame({"customer_id": ["NEW"], "zone": ["healthy"]})
    out = zone_changes(before, now).set_index("customer_id")
    assert out.loc["GONE", "change"] == "left" and out.loc["GONE", "current_zone"] == "gone"
    assert out.loc["GONE", "reason"] == "no longer an active customer"
    assert out.loc["NEW", "change"] == "entered" and out.loc["NEW", "previous_zone"] == "new"


def test_first_run_has_no_changes():
    now = pd.DataFrame({"customer_id": ["A"], "zone": ["red"]})
    assert zone_changes(None, now).empty
    assert list(zone_changes(None, now).columns) == CHANGES_COLUMNS


def test_previous_run_is_the_latest_finished_dated_folder_before_as_of(tmp_path):
    for name in ("2026-06-09", "2026-06-16", "2026-06-23", ".staging-2026-06-20", "notes"):
        (tmp_path / name).mkdir()
    for name in ("2026-06-09", "2026-06-16", "2026-06-23"):
        (tmp_path / name / "scores.csv").write_text("customer_id\n")
    assert previous_run(tmp_path, date(2026, 6, 23)).name == "2026-06-16"
    assert previous_run(tmp_path, date(2026, 6, 30)).name == "2026-06-23"
    assert previous_run(tmp_path, date(2026, 6, 9)) is None
    assert previous_run(tmp_path / "missing", date(2026, 6, 9)) is None


def test_catch_up_runs_every_missing_week_in_order(tmp_path, monkeypatch):
    from churnlab.report import run
    (tmp_path / "2026-06-16").mkdir()   # already reported: skipped
    calls = []
    monkeypatch.setattr(run, "run_pipeline", lambda data, as_of, reports, **kw: calls.append(as_of) or tmp_path / str(as_of))
    done = run.catch_up("data", since=date(2026, 6, 9), until=date(2026, 7, 1), reports=tmp_path)
    assert calls == [date(2026, 6, 9), date(2026, 6, 23), date(2026, 6, 30)]
    assert [p.name for p in done] == ["2026-06-09", "2026-06-23", "2026-06-30"]
