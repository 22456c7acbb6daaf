"""End to end: `churnlab run` on small demo data, and what a failed run leaves behind."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from churnlab.report.run import NOTEBOOKS, RunFailed, run_pipeline

from tests.conftest import REPORT_AS_OF as AS_OF


def test_run_writes_the_dated_report_folder(report):
    for path in ("index.html", "manifest.json", "data_quality.csv", "scores.csv", "model_metrics.json",
                 "changes.csv", "targets/proactive.csv", "targets/reactive.csv", "targets/exit_interviews.csv",
                 "targets/targets.xlsx", "notebooks/05_campaigns.ipynb", "html/05_campaigns.html",
                 "settings.yaml", "models/bundle.json", "models/models.joblib",
                 "notebooks/01_data_health.ipynb", "html/01_data_health.html",
                 "notebooks/03_models.ipynb", "html/03_models.html",
                 "notebooks/04_value_zones.ipynb", "html/04_value_zones.html", "run.log"):
        assert (report / path).is_file(), path


def test_scores_cover_every_active_customer_with_model_columns(report, small_demo):
    scores = pd.read_csv(report / "scores.csv")
    customers = pd.read_parquet(small_demo / "customers.parquet")
    as_of = pd.Timestamp(AS_OF)
    signup, churn = pd.to_datetime(customers["signup_date"]), pd.to_datetime(customers["churn_date"])
    active = customers[(signup <= as_of) & ~(churn <= as_of)]["customer_id"]
    assert list(scores.columns[:3]) == ["customer_id", "churn_probability", "expected_lifetime_days"]
    assert {"arr", "reasons"} <= set(scores.columns)
    assert scores["customer_id"].is_monotonic_increasing
    assert scores["churn_probability"].between(0, 1).all()
    assert (scores["expected_lifetime_days"] > 0).all()
    assert scores["reasons"].notna().all()
    # active customers net of the rows quarantined at load
    assert set(scores["customer_id"]) <= set(active.astype(str))
    assert len(scores) >= 0.95 * len(active)


def test_scores_carry_value_health_and_zone(report):
    scores = pd.read_csv(report / "scores.csv")
    assert {"value", "health_score", "health_band", "zone"} <= set(scores.columns)
    assert (scores["value"] >= 0).all() and scores["health_score"].between(0, 100).all()
    assert set(scores["zone"]) <= {"red", "dead", "watch", "healthy"}
    assert set(scores["health_band"].dropna()) <= {"good", "fair", "weak", "poor"}
    # component columns stay in the notebook, out of scores.csv
    assert not any(c.startswith("health_") and c not in ("health_score", "health_band") for c in scores.columns)


def test_model_metrics_hold_the_backtest_beside_the_baselines(report):
    metrics = json.loads((report / "model_metrics.json").read_text())
    assert metrics["as_of"] == AS_OF
    models = metrics["models"]
    assert {"rule_baseline", "arr_baseline", metrics["chosen"]["classifier"],
            metrics["chosen"]["survival"]} <= set(models)
    chosen = models[metrics["chosen"]["classifier"]]["mean"]
    assert 0.5 < chosen["roc_auc"] <= 1
    assert len(models[metrics["chosen"]["classifier"]]["folds"]) == len(metrics["folds"])


def test_run_leaves_no_staging_folder_behind(report):
    assert sorted(p.name for p in report.parent.iterdir()) == [AS_OF]


def test_data_quality_lists_the_planted_dirt(report, small_demo):
    quality = pd.read_csv(report / "data_quality.csv")
    dirt = pd.read_csv(Path(f"{small_demo}-truth") / "dirt.csv")
    assert set(quality.columns) >= {"table", "rule", "reason"}
    # Every planted rule shows up; rows dated after the as-of date are not read, so at most the truth.
    counts = quality.groupby(["table", "rule"]).size()
    for rec in dirt.itertuples(index=False):
        assert 0 < counts.get((rec.table, rec.rule), 0) <= rec.count, rec


def test_manifest_records_settings_fingerprint_versions_and_timings(report):
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["as_of"] == AS_OF
    assert manifest["status"] == "ok"
    assert len(manifest["input_fingerprint"]) == 64
    assert manifest["versions"]["pandas"] == pd.__version__
    assert {"validate", "notebook 01_data_health.ipynb", "render"} <= set(manifest["steps_seconds"])
    assert manifest["settings"]["validation"]["on_row_error"] == "quarantine"
    # where every input row went, per table, and the data warnings (none on the demo)
    accounting = {row["table"]: row for row in manifest["input_accounting"]}
    assert set(accounting) == set(manifest["rows"])
    for row in accounting.values():
        assert row["input_rows"] == row["kept"] + row["quarantined"] + row["not_yet_customers"] + row["after_as_of"]
    assert accounting["usage_events"]["after_as_of"] > 0     # the demo runs on past its as-of date
    assert manifest["data_warnings"] == []


def _code_shown(html: str, notebook: Path) -> list[str]:
    """The first line of each of ``notebook``'s code cells that the rendered page ``html`` shows.

    Compared with the page's text (tags dropped, entities decoded): shown code is split into
    syntax-highlighting spans, so its lines never appear in the markup itself.
    """
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    page = Text()
    page.feed(html)
    text = "".join(page.parts)
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    firsts = [next(line.strip() for line in "".join(c["source"]).splitlines() if line.strip())
              for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert firsts, f"{notebook.name} has no code to look for"
    return [line for line in firsts if line in text]


def test_html_hides_code_and_index_links_every_page(report):
    pages = sorted((report / "html").glob("*.html"))
    assert [p.stem for p in pages] == [n[:-len(".ipynb")] for n in NOTEBOOKS]
    index = (report / "index.html").read_text(encoding="utf-8")
    for page in pages:
        # the executed notebook the page was rendered from, papermill's parameters cell included
        notebook = report / "notebooks" / f"{page.stem}.ipynb"
        assert _code_shown(page.read_text(encoding="utf-8"), notebook) == [], page.name
        assert f'href="html/{page.name}"' in index


def test_the_hidden_code_check_can_fail(report):
    """Rendered with its code shown, a page fails the check above on every code cell."""
    import nbformat
    from nbconvert import HTMLExporter

    import churnlab.report

    notebook = report / "notebooks" / "01_data_health.ipynb"
    exporter = HTMLExporter(template_name="offline",
                            extra_template_basedirs=[str(Path(churnlab.report.__file__).parent / "templates")],
                            exclude_input=False)
    shown, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert len(_code_shown(shown, notebook)) == len(cells)


def test_same_inputs_give_byte_identical_csv(small_demo, report, tmp_path):
    again = run_pipeline(small_demo, as_of=date.fromisoformat(AS_OF), reports=tmp_path)
    for name in ("data_quality.csv", "scores.csv", "targets/proactive.csv", "targets/reactive.csv",
                 "targets/exit_interviews.csv", "targets/backlog.csv"):
        assert (again / name).read_bytes() == (report / name).read_bytes(), name


def test_failed_run_keeps_previous_report_and_exits_1(small_demo, report, tmp_path):
    reports = tmp_path / "reports"
    good = reports / AS_OF
    shutil.copytree(report, good)
    before = {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()}

    broken = tmp_path / "broken"
    shutil.copytree(small_demo, broken)
    customers = pd.read_parquet(broken / "customers.parquet")
    customers = pd.concat([customers, customers.head(3)])  # duplicate ids: a structural error
    customers.to_parquet(broken / "customers.parquet")

    proc = subprocess.run(
        [sys.executable, "-m", "churnlab", "run", "--data", str(broken), "--as-of", AS_OF,
         "--out", str(reports)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert "step 'validate' failed" in proc.stderr
    assert "customer_id" in proc.stderr
    after = {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()}
    assert after == before
    assert len(list((reports / ".failed").iterdir())) == 1


def _first_notebook(tmp_path, *cells: str) -> Path:
    """A notebooks folder whose only notebook, 01_data_health.ipynb, has a parameters cell and
    then ``cells``; the run stops in it."""
    import nbformat

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data = None\nas_of = None\nconfig = None\nout = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(code) for code in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / "01_data_health.ipynb")
    return notebooks


def test_failing_notebook_is_named_with_its_cell(small_demo, tmp_path):
    notebooks = _first_notebook(tmp_path, "raise ValueError('planted failure')")
    with pytest.raises(RunFailed, match="01_data_health.ipynb.*planted failure"):
        run_pipeline(small_demo, as_of=date.fromisoformat(AS_OF), reports=tmp_path / "r",
                     notebooks_dir=notebooks)
    assert not (tmp_path / "r" / AS_OF).exists()
    assert (tmp_path / "r" / ".failed").is_dir()
    # the run's log is kept with the partial run, the failure its last line
    last = (next((tmp_path / "r" / ".failed").iterdir()) / "run.log").read_text().splitlines()[-1]
    assert " ERROR   churnlab.report.run: " in last and "01_data_health.ipynb" in last and "planted failure" in last


def test_a_killed_kernel_is_named_with_its_notebook_cell_and_the_likely_cause(small_demo, tmp_path):
    # what the out-of-memory killer does to a kernel: SIGKILL in the middle of a cell
    notebooks = _first_notebook(tmp_path, "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(RunFailed) as failed:
        run_pipeline(small_demo, as_of=date.fromisoformat(AS_OF), reports=tmp_path / "r",
                     notebooks_dir=notebooks)
    message = str(failed.value)
    assert "01_data_health.ipynb" in message and "kernel died in cell 3 (import os, signal)" in message
    assert "out-of-memory killer" in message
    assert (tmp_path / "r" / ".failed").is_dir() and not (tmp_path / "r" / AS_OF).exists()


def test_scores_carry_zone_segment_and_symptoms(report):
    scores = pd.read_csv(report / "scores.csv", keep_default_na=False)
    assert list(scores.columns) == ["customer_id", "churn_probability", "expected_lifetime_days", "value", "arr",
                                    "health_score", "health_band", "zone", "segment", "symptoms", "reasons", "holdout"]
    held = pd.read_csv(report / "holdouts.csv", dtype={"customer_id": str})
    marked = scores[scores["holdout"] != ""]
    assert dict(zip(marked["customer_id"], marked["holdout"])) == dict(zip(held["customer_id"], held["campaign"]))
    assert set(scores["zone"]) <= {"red", "dead", "watch", "healthy"}
    assert set(scores["health_band"]) <= {"good", "fair", "weak", "poor"}
    assert (scores["segment"] != "").all()


def test_target_lists_follow_the_spec_and_the_zones(report):
    from churnlab.decide.campaigns import TARGET_COLUMNS
    from churnlab.settings import CampaignSettings

    scores = pd.read_csv(report / "scores.csv").set_index("customer_id")
    lists = {n: pd.read_csv(report / "targets" / f"{n}.csv") for n in ("proactive", "reactive", "exit_interviews")}
    backlog = pd.read_csv(report / "targets" / "backlog.csv")
    from churnlab.decide.next_action import LIST_COLUMNS

    for name, frame in lists.items():
        # the reactive rows also say which action to take, why, and the runner-up
        assert list(frame.columns) == TARGET_COLUMNS + (LIST_COLUMNS if name == "reactive" else []), name
    everyone = pd.concat(lists.values())["customer_id"]
    assert everyone.is_unique                                      # one list per customer per run
    reactive, exits = lists["reactive"], lists["exit_interviews"]
    assert (exits["compensation_cap"] == 0).all()
    assert set(exits.loc[exits["zone"] != "churned", "customer_id"]) <= set(scores.index[scores["zone"] == "dead"])
    # the dead about to leave are invited now or next week; none is sent a rescue
    leaving = scores.index[(scores["zone"] == "dead") & (scores["churn_probability"] >= 0.5)]
    assert set(leaving) <= set(exits["customer_id"]) | set(backlog["customer_id"])
    assert not set(reactive["customer_id"]) & set(scores.index[scores["zone"] == "dead"])
    # every Red Zone customer gets an action this week, is carried to the next or is in a control
    # group (held out on purpose, on no list), none dropped
    red = set(scores.index[scores["zone"] == "red"])
    held = set(pd.read_csv(report / "holdouts.csv")["customer_id"])
    assert red <= set(everyone) | set(backlog["customer_id"]) | held
    assert not held & set(everyone)
    cap = CampaignSettings().weekly_capacity
    for name, frame in lists.items():
        assert frame.groupby("owner").size().max() <= cap[name] if len(frame) else True


def test_second_weekly_run_lists_who_entered_and_left_each_zone(small_demo, report, tmp_path):
    from datetime import timedelta

    reports = tmp_path / "reports"
    shutil.copytree(report, reports / AS_OF)
    second = run_pipeline(small_demo, as_of=date.fromisoformat(AS_OF) + timedelta(days=7), reports=reports)
    before = pd.read_csv(report / "scores.csv").set_index("customer_id")["zone"]
    after = pd.read_csv(second / "scores.csv").set_index("customer_id")["zone"]
    both = pd.concat([before.rename("before"), after.rename("after")], axis=1).fillna("absent")
    moved = both[both["before"] != both["after"]]
    changes = pd.read_csv(second / "changes.csv")
    assert len(moved) > 0
    assert set(changes["customer_id"]) == set(moved.index)
    for rec in changes.itertuples(index=False):
        was, now = moved.loc[rec.customer_id, "before"], moved.loc[rec.customer_id, "after"]
        assert rec.zone == (was if rec.change == "left" else now), rec
        assert isinstance(rec.reason, str) and rec.reason
    assert json.loads((second / "manifest.json").read_text())["previous_run"] == AS_OF


def test_rules_that_errored_in_notebook_04_are_said_in_the_runs_output(tmp_path):
    from churnlab.report.handoff import Handoff
    from churnlab.report.run import rule_warnings

    hand = Handoff(tmp_path, {"as_of": "2026-06-30", "fingerprint": "f", "settings": "s"})
    assert rule_warnings(hand) == []                      # nothing handed over: nothing to say
    fired = pd.DataFrame({"customer_id": ["C1", "C2"], "ratio_rule": [pd.NA, True], "symptoms": ["", "ratio_rule"]})
    fired.attrs["errored"] = {"ratio_rule": 1, "calm_rule": 0}
    hand.put("rules", fired)
    assert rule_warnings(hand) == ["rule 'ratio_rule' could not be evaluated for 1 customer(s): a division by "
                                   "zero or another arithmetic error left it unknown there (see notebook 04)"]


def test_a_working_notebook_says_where_it_is_and_its_kernel_stays_quiet(tmp_path, caplog, capfd):
    """The heartbeat names the notebook, the cell and the time every ``every`` seconds (10 in a
    run); the kernel's own log (its TCP warning at every start) does not reach the console."""
    import logging

    from churnlab.report.execute import HEARTBEAT_SECONDS, execute_notebook

    notebooks = _first_notebook(tmp_path, "x = 1", "import time\ntime.sleep(3.5)", "y = 2")
    with caplog.at_level(logging.INFO, logger="churnlab"):
        execute_notebook(notebooks / "01_data_health.ipynb", tmp_path / "out.ipynb", {"data": "d", "as_of": "x"},
                         every=1)
    beats = [r.getMessage() for r in caplog.records if r.name == "churnlab.report.execute"]
    # cells: parameters, papermill's injected parameters, x = 1, the sleep (index 3), y = 2
    sleeping = [m for m in beats if m.startswith("notebook 01_data_health.ipynb: cell 3 of 5, ")]
    assert len(sleeping) >= 2, beats
    assert sleeping[-1].endswith(" s (import time)")
    assert HEARTBEAT_SECONDS <= 10
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert "IPKernelApp" not in captured.err + captured.out


def test_the_run_logs_its_steps_to_the_console_and_to_run_log_without_kernel_noise(report_run):
    report, proc = report_run
    lines = (report / "run.log").read_text(encoding="utf-8").splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert all(re.match(rf"{stamp} (DEBUG|INFO|WARNING|ERROR) ", line) for line in lines), lines
    said = [line.split(": ", 1)[1] for line in lines]
    steps = ["validate", *(f"notebook {name}" for name in NOTEBOOKS), "scores", "changes", "render"]
    assert [s for s in said if s.startswith(AS_OF + " ") and "done in" not in s] == [f"{AS_OF} {s}" for s in steps]
    assert said[-1].startswith(f"{AS_OF} done in ")
    # the console: the same steps, each after the time of day; no kernel's own log
    console = proc.stderr.splitlines()
    for step in steps:
        assert any(re.fullmatch(rf"\d\d:\d\d:\d\d {AS_OF} {step}", line) for line in console), (step, console)
    assert "without encryption" not in proc.stderr and "IPKernelApp" not in proc.stderr
    assert proc.stdout.strip() == f"report written: {report}"


def test_quiet_and_verbose_set_what_the_console_says(small_demo, tmp_path):
    from typer.testing import CliRunner

    from churnlab.cli import app

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "customers.csv").write_text("customer_id,signup_date,churn_date\nC-1,2024-01-01,\nC-1,2024-01-02,\n")
    runner = CliRunner()
    args = ["run", "--data", str(broken), "--as-of", AS_OF, "--out", str(tmp_path / "r")]
    quiet = runner.invoke(app, [*args, "--quiet"])
    assert quiet.exit_code == 1
    # only the error, said once (the run logged it too, into its run.log)
    assert quiet.output.startswith("error: step 'validate' failed"), quiet.output
    assert quiet.output.count("duplicate_id") == 1
    log = (next((tmp_path / "r" / ".failed").iterdir()) / "run.log").read_text()
    assert f"INFO    churnlab.report.run: {AS_OF} validate" in log and "ERROR   churnlab.report.run:" in log
    assert "DEBUG" not in log
    verbose = runner.invoke(app, [*args, "--verbose"])
    assert verbose.exit_code == 1
    assert re.search(rf"^\d\d:\d\d:\d\d {AS_OF} validate took \d+\.\d s$", verbose.output, re.M), verbose.output
    both = runner.invoke(app, [*args, "--verbose", "--quiet"])
    assert both.exit_code == 2


def test_every_step_of_a_run_says_it_still_works_every_few_seconds(caplog):
    """Not only the notebooks: validating a million customers or rendering takes minutes, and the
    console must show the run is alive (every 10 s in a run; 0.2 s here)."""
    import logging
    import time

    from churnlab.report import execute
    from churnlab.report.run import _Steps

    said = []
    with execute.heartbeat(lambda: said.append(time.monotonic()), every=0.2):
        time.sleep(0.75)
    assert len(said) >= 3
    steps = _Steps(stamp=AS_OF, every=0.2)
    with caplog.at_level(logging.INFO, logger="churnlab"):
        steps.timed("validate", lambda: time.sleep(0.75))
        steps.timed("notebook x.ipynb", lambda: time.sleep(0.5), beat=False)
    lines = [r.getMessage() for r in caplog.records]
    assert sum(line.startswith(f"{AS_OF} validate: still working, ") for line in lines) >= 2, lines
    assert not any(line.startswith(f"{AS_OF} notebook x.ipynb: still working") for line in lines)
