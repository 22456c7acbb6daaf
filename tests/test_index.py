"""The landing page a customer-success lead opens on Monday, built from a small hand-made reports
folder: three dated runs (the last one still in its staging folder, as while a run writes), with
decoys that must not count as earlier runs."""
from __future__ import annotations

import base64
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from churnlab.data.loading import Dataset
from churnlab.report import overview
from churnlab.report.index import headlines, write_index

AS_OF = date(2026, 6, 30)

#: customer_id, zone, churn_probability, value of each run; value at stake = p x value
RUNS = {
    "2026-06-16": [("C-1", "watch", 0.2, 1_000_000), ("C-2", "red", 0.5, 2_000_000),
                   ("C-3", "dead", 0.8, 100_000), ("C-4", "healthy", 0.1, 500_000)],
    "2026-06-23": [("C-1", "watch", 0.2, 1_000_000), ("C-2", "red", 0.5, 2_000_000),
                   ("C-9", "red", 0.6, 3_000_000), ("C-3", "dead", 0.8, 100_000),
                   ("C-4", "healthy", 0.1, 500_000)],
    "2026-06-30": [("C-1", "red", 0.4, 1_000_000), ("C-2", "red", 0.5, 2_000_000),
                   ("C-9", "watch", 0.3, 3_000_000), ("C-3", "dead", 0.8, 100_000),
                   ("C-4", "healthy", 0.1, 500_000), ("C-5", "healthy", 0.1, 12_000_000)],
}
#: worked out by hand from RUNS
AT_STAKE = {"2026-06-16": 200_000 + 1_000_000 + 80_000 + 50_000,
            "2026-06-23": 200_000 + 1_000_000 + 1_800_000 + 80_000 + 50_000,
            "2026-06-30": 400_000 + 1_000_000 + 900_000 + 80_000 + 50_000 + 1_200_000}

TARGET_COLUMNS = ["customer_id", "name", "owner", "zone", "campaign", "action", "channel", "due_date",
                  "compensation_cap", "value", "churn_probability", "reasons"]


def _scores(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "zone", "churn_probability", "value"])


def _metrics(classifier: str, auc: float) -> dict:
    return {"as_of": "x", "horizon_days": 90, "backtest": "rolling", "folds": ["a", "b", "c"],
            "chosen": {"survival": "cox", "classifier": classifier},
            "models": {classifier: {"family": "classifier", "mean": {"roc_auc": auc, "pr_auc": 0.2}},
                       "cox": {"family": "survival", "mean": {"concordance": 0.7}}}}


def _quality(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([(t, r, "c", "why", i, "C-1", "{}") for i, (t, r) in enumerate(rows)],
                        columns=["table", "rule", "column", "reason", "row", "customer_id", "record"])


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _targets(folder: Path, *, optional: bool = True) -> None:
    """Ana: 3 proactive rows (2 due by 7 Jul) and 1 reactive row (overdue, waiting 7 days);
    Ben: 1 proactive row (due later) and the top reactive row (due 2 Jul); one exit interview
    without an owner (due 3 Jul)."""
    def row(cid, name, owner, campaign, due, value=1000.0, p=0.5, reasons="r"):
        return [cid, name, owner, "red", campaign, f"{campaign} call", "phone", due, 0, value, p, reasons]

    _write(pd.DataFrame([row("C-4", "Four", "Ana", "checkin", "2026-07-01"),
                         row("C-5", "Five", "Ana", "welcome", "2026-07-07"),
                         row("C-6", "Six", "Ana", "checkin", "2026-07-14"),
                         row("C-7", "Seven", "Ben", "checkin", "2026-07-20")], columns=TARGET_COLUMNS),
           folder / "targets" / "proactive.csv")
    reactive = pd.DataFrame([row("C-1", "Acme & Sons <Ltd>", "Ben", "renewal_rescue", "2026-07-02", 1_000_000, 0.4,
                                 "annual contract up for renewal;no usage for 30 days"),
                             row("C-2", "Beta", "Ana", "billing_recovery", "2026-06-28", 2_000_000, 0.5, "failed payment")],
                            columns=TARGET_COLUMNS)
    if optional:
        reactive["trigger"] = ["renewal_due", "usage_drop"]
        reactive["trigger_message"] = ["renewal in 30 days and usage fell by half", "usage fell 60% in 30 days"]
        reactive["days_waiting"] = [0, 7]
        reactive["triggered_on"] = ["2026-06-29", "2026-06-23"]
        reactive["expected_gain"] = [12_345.6, 800.0]
        reactive["offer"] = ["one month free", None]
    _write(reactive, folder / "targets" / "reactive.csv")
    _write(pd.DataFrame([row("C-3", "Three", None, "exit_interview", "2026-07-03")], columns=TARGET_COLUMNS),
           folder / "targets" / "exit_interviews.csv")


@pytest.fixture
def reports(tmp_path) -> Path:
    """Three runs; this one (2026-06-30) in its staging folder, the two before it published."""
    reports = tmp_path / "reports"
    for when, rows in RUNS.items():
        folder = reports / (f".staging-{when}-4242-235959" if when == AS_OF.isoformat() else when)
        _write(_scores(rows), folder / "scores.csv")
    (reports / "2026-06-23" / "model_metrics.json").write_text(json.dumps(_metrics("logistic", 0.70)))
    _write(_quality([("usage_events", "duplicate_row")]), reports / "2026-06-23" / "data_quality.csv")
    # decoys: a failed run, a later run and a dated folder without scores
    _write(_scores([("C-1", "red", 0.9, 1.0)] * 99), reports / ".failed" / "2026-06-25-120000" / "scores.csv")
    _write(_scores([("C-1", "red", 0.9, 1.0)] * 77), reports / "2026-07-07" / "scores.csv")
    (reports / "2026-06-09").mkdir()
    return reports


@pytest.fixture
def run(reports) -> Path:
    """This run's staging folder, with every file the page reads."""
    folder = reports / ".staging-2026-06-30-4242-235959"
    _write(pd.DataFrame([("C-1", "red", "entered", "watch", "red", "annual contract up for renewal"),
                         ("C-1", "watch", "left", "watch", "red", "now red: annual contract up for renewal"),
                         ("C-9", "red", "left", "red", "watch", "now watch: usage came back"),
                         ("C-9", "watch", "entered", "red", "watch", "was red"),
                         ("C-5", "healthy", "entered", "new", "healthy", "new in this run")],
                        columns=["customer_id", "zone", "change", "previous_zone", "current_zone", "reason"]),
           folder / "changes.csv")
    _targets(folder)
    (folder / "model_metrics.json").write_text(json.dumps(_metrics("boosting", 0.75)))
    _write(_quality([("usage_events", "duplicate_row"), ("usage_events", "duplicate_row"),
                     ("invoices", "negative_amount")]), folder / "data_quality.csv")
    return folder


def _dataset(customers: int = 6, quarantined: int = 0) -> Dataset:
    return Dataset(tables={"customers": pd.DataFrame({"customer_id": [f"C-{i}" for i in range(customers)]})},
                   quarantine=pd.DataFrame({"table": ["customers"] * quarantined}), missing=pd.DataFrame(),
                   source="hand-made", fingerprint="")


class _Page(HTMLParser):
    """The page's text and its tables' rows, each row as its cells' text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def plain(self) -> str:
        return " ".join("".join(self.text).split())


def _page(folder: Path, dataset: Dataset | None = None) -> tuple[str, _Page]:
    html = write_index(folder, dataset or _dataset(), AS_OF).read_text(encoding="utf-8")
    return html, _Page(html)


def test_trend_has_every_earlier_run_and_this_one_oldest_first(run):
    trend = overview.zone_trend(run, AS_OF)
    assert list(trend["as_of"]) == list(RUNS)  # not the failed run, the later run or the run without scores
    assert list(trend["red"]) == [1, 2, 2]
    assert list(trend["healthy"]) == [1, 1, 2]
    assert trend["value_at_stake"].round(6).tolist() == [AT_STAKE[d] for d in RUNS]
    assert trend["red_at_stake"].round(6).tolist() == [1_000_000, 2_800_000, 1_400_000]


def test_page_shows_the_trend_table_and_both_charts(run):
    html, page = _page(run)
    assert ["30 Jun 2026 (this run)", "6", "2", "1", "1", "2", "1,400,000", "3,630,000"] in page.rows
    assert ["23 Jun 2026", "5", "2", "1", "1", "1", "2,800,000", "3,130,000"] in page.rows
    assert ["16 Jun 2026", "4", "1", "1", "1", "1", "1,000,000", "1,330,000"] in page.rows
    charts = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(charts) == 2
    assert all(base64.b64decode(c).lstrip().startswith(b"<?xml") for c in charts)


def test_chart_plots_draw_the_trend_with_titles_and_labels():
    import matplotlib
    matplotlib.use("agg")
    trend = pd.DataFrame({"as_of": ["2026-06-23", "2026-06-30"], "customers": [10, 9],
                          "red": [3, 1], "dead": [1, 2], "watch": [2, 2], "healthy": [4, 4],
                          "red_at_stake": [30.0, 5.0], "dead_at_stake": [8.0, 9.0], "watch_at_stake": [2.0, 2.0],
                          "healthy_at_stake": [1.0, 1.0], "value_at_stake": [41.0, 17.0]})
    sizes = overview.plot_zone_sizes(trend)
    assert list(sizes.lines[0].get_ydata()) == [3, 1]  # the first line is the Red Zone
    stake = overview.plot_value_at_stake(trend)
    tops = {}
    for bar in stake.patches:
        run = round(bar.get_x() + bar.get_width() / 2)
        tops[run] = max(tops.get(run, 0.0), round(bar.get_y() + bar.get_height(), 6))
    assert tops == {0: 41.0, 1: 17.0}  # each run's stacked bar reaches its value at stake
    for ax in (sizes, stake):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert [t.get_text() for t in ax.get_xticklabels()] == ["23 Jun", "30 Jun"]


def test_each_owner_has_rows_per_list_due_this_week_and_carried_over(run):
    owners = overview.owner_lists(run, AS_OF)
    assert owners.to_dict("records") == [
        {"owner": "Ana", "proactive": 3, "reactive": 1, "exit_interviews": 0, "total": 4, "due": 3, "carried_over": 1},
        {"owner": "Ben", "proactive": 1, "reactive": 1, "exit_interviews": 0, "total": 2, "due": 1, "carried_over": 0},
        {"owner": "(no owner)", "proactive": 0, "reactive": 0, "exit_interviews": 1, "total": 1, "due": 1,
         "carried_over": 0}]
    _, page = _page(run)
    assert ["owner", "proactive", "reactive", "exit interviews", "total", "due by 07 Jul 2026", "carried over"] in page.rows
    assert ["Ana", "3", "1", "0", "4", "3", "1"] in page.rows
    assert ["all owners", "4", "2", "1", "7", "5", "1"] in page.rows


def test_without_days_waiting_there_is_no_carried_over_column(reports):
    folder = reports / ".staging-2026-06-30-4242-235959"
    _targets(folder, optional=False)
    assert "carried_over" not in overview.owner_lists(folder, AS_OF)
    _, page = _page(folder)
    assert ["Ben", "1", "1", "0", "2", "1"] in page.rows
    assert "carried over" not in page.plain


def test_top_rescue_shows_its_trigger_message_and_reasons_escaped(run):
    html, page = _page(run)
    assert "Acme &amp; Sons &lt;Ltd&gt;" in html and "<Ltd>" not in html
    top = next(r for r in page.rows if r and r[0] == "1")
    assert top[1].startswith("Acme & Sons <Ltd>") and "Ben" in top[1]
    assert "renewal_rescue" in top[2]
    assert top[3].startswith("renewal in 30 days and usage fell by half (since 2026-06-29)")
    assert "annual contract up for renewal; no usage for 30 days" in top[3]
    assert "offer: one month free" in top[2] and "due 02 Jul" in top[2]
    assert top[4:] == ["1,000,000", "40%", "12,346"]
    second = next(r for r in page.rows if r and r[0] == "2")
    assert "waiting 7 days" in second[2]


def test_rescues_without_the_optional_columns_leave_the_trigger_out(reports):
    folder = reports / ".staging-2026-06-30-4242-235959"
    _targets(folder, optional=False)
    _, page = _page(folder)
    top = next(r for r in page.rows if r and r[0] == "1")
    assert top[3] == "annual contract up for renewal; no usage for 30 days"
    assert top[4:] == ["1,000,000", "40%"]  # no expected gain column either
    assert "renewal_due" not in page.plain


def test_page_names_who_entered_and_left_the_red_zone_with_the_reason(run):
    moves = overview.red_zone_moves(run, run.parent / "2026-06-23")
    assert moves[["customer_id", "change", "value"]].values.tolist() == [
        ["C-1", "entered", 1_000_000], ["C-9", "left", 3_000_000]]
    _, page = _page(run)
    assert "Entered the Red Zone: 1" in page.plain and "Left the Red Zone: 1" in page.plain
    assert ["Acme & Sons <Ltd> C-1", "annual contract up for renewal", "1,000,000"] in page.rows
    assert ["C-9 C-9", "now watch: usage came back", "3,000,000"] in page.rows
    assert ("into / out of the Red Zone", "1 / 1", "") in headlines(run, AS_OF)


def test_model_auc_and_quarantined_rows_are_set_against_the_previous_run(run):
    _, page = _page(run, _dataset(quarantined=99))  # data_quality.csv wins over the dataset
    assert ["backtest ROC AUC", "0.750", "0.700", "+0.050"] in page.rows
    assert ["classifier chosen", "boosting", "logistic", ""] in page.rows
    assert ["quarantined input rows", "3", "1", "+2"] in page.rows
    assert ["usage_events", "duplicate_row", "2"] in page.rows
    assert "compared with the run of 23 Jun 2026" in page.plain
    assert ("quarantined rows", "3", '<span class="up">+2</span>') in headlines(run, AS_OF)
    assert ("ROC AUC (boosting)", "0.750", '<span class="down">+0.050</span>') in headlines(run, AS_OF)


def test_a_first_run_still_gets_a_page(tmp_path):
    folder = tmp_path / "reports" / ".staging-2026-06-30-1-000000"
    _write(_scores(RUNS["2026-06-30"]), folder / "scores.csv")
    _targets(folder)
    html, page = _page(folder, _dataset(quarantined=4))
    assert "the first run in this reports folder" in page.plain
    assert ["30 Jun 2026 (this run)", "6", "2", "1", "1", "2", "1,400,000", "3,630,000"] in page.rows
    assert ["quarantined input rows", "4"] in page.rows  # no data_quality.csv: the dataset's quarantine
    assert html.count("data:image/svg+xml") == 2


def test_a_run_with_missing_files_still_gets_a_page(tmp_path):
    folder = tmp_path / "reports" / "2026-06-30"
    folder.mkdir(parents=True)
    (folder / "changes.csv").write_text("")
    (folder / "model_metrics.json").write_text("{not json")
    _write(pd.DataFrame({"customer_id": ["C-1"], "churn_probability": [0.5]}), folder / "scores.csv")
    _, page = _page(folder, None)
    assert "Churn report, as of 30 Jun 2026" in page.plain
    assert "No target lists in this run" in page.plain
    empty = tmp_path / "other" / "2026-06-30"
    empty.mkdir(parents=True)
    _, page = _page(empty, None)
    assert "No scores.csv in this run or an earlier one" in page.plain


def test_page_points_only_inside_its_folder(run):
    (run / "html").mkdir()
    (run / "html" / "01_data_health.html").write_text("<p>page</p>")
    html, _ = _page(run)
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert any(link.startswith("html/") for link in links)
    for link in links:
        if link.startswith("data:"):
            continue
        assert not re.match(r"^(?:[a-z]+:|//|/|\.\.)", link), link
        if not link.startswith("notebooks/"):  # the executed notebooks are not written here
            assert (run / link).exists(), link
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)


def test_same_folder_gives_the_same_page(run):
    first = write_index(run, _dataset(), AS_OF).read_bytes()
    assert write_index(run, _dataset(), AS_OF).read_bytes() == first


def test_page_renders_in_headless_chromium_with_visible_charts(run, tmp_path):
    from PIL import Image, ImageStat

    from tests.test_report_pages import CHROMIUM, _open

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    page = write_index(run, _dataset(), AS_OF)
    shot = tmp_path / "index.png"
    boxes: dict = {"#trend img": None}
    assert _open(page, shot, boxes) == []  # no console errors, no failed requests
    charts = boxes["#trend img"]
    assert len(charts) == 2 and all(box and box["width"] > 200 and box["height"] > 100 for box in charts)
    image = Image.open(shot).convert("L")
    assert image.height > 900  # the full page, longer than the window
    assert ImageStat.Stat(image).stddev[0] > 20  # not a blank page
    for box in charts:  # and each chart drew something: a blank image would be all white
        chart = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))
        assert ImageStat.Stat(chart).stddev[0] > 20
