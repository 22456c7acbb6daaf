"""A run under faults: two runs on one reports folder, a run killed by SIGTERM, and database
passwords in every form a URL can carry them (none may show in any output)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

AS_OF = "2026-03-31"
#: One model of each kind and one backtest fold: these tests need whole runs, not every model.
LIGHT_SETTINGS = "models:\n  survival: [cox]\n  classifiers: [logistic]\n  backtest_folds: 1\n"


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> Path:
    config = tmp_path_factory.mktemp("settings") / "light.yaml"
    config.write_text(LIGHT_SETTINGS)
    return config


def _start(data: str, reports: Path, config: Path, as_of: str = AS_OF) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "churnlab", "run", "--data", data, "--as-of", as_of,
                             "--out", str(reports), "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- one run per reports folder ------------------------------------------------------------------

def test_two_runs_on_one_folder_give_one_whole_report_and_one_clear_refusal(small_demo, light, tmp_path):
    reports = tmp_path / "reports"
    runs = [_start(str(small_demo), reports, light) for _ in range(2)]
    done = [(p.wait(timeout=900), *p.communicate()) for p in runs]
    codes = sorted(code for code, _, _ in done)
    assert codes == [0, 1], [err for _, _, err in done]
    refused = next(err for code, _, err in done if code == 1)
    winner = next(p for p, (code, _, _) in zip(runs, done) if code == 0)
    assert "another churnlab run is writing to" in refused
    assert f"pid {winner.pid}, as-of {AS_OF}, started " in refused
    # exactly one report, nothing else left in the folder
    assert sorted(p.name for p in reports.iterdir()) == [AS_OF]
    report = reports / AS_OF
    assert json.loads((report / "manifest.json").read_text())["status"] == "ok"
    # every notebook was executed whole, by the same run (the same staging folder)
    outs = set()
    for name in ("01_data_health", "02_features", "03_models", "04_value_zones", "05_campaigns"):
        nb = json.loads((report / "notebooks" / f"{name}.ipynb").read_text())
        assert nb["metadata"]["papermill"]["exception"] in (None, False), name
        outs.add(nb["metadata"]["papermill"]["parameters"]["out"])
        assert (report / "html" / f"{name}.html").is_file()
    assert len(outs) == 1 and f"-{winner.pid}-" in Path(outs.pop()).name


def test_a_second_run_waits_for_the_lock_when_told_to(tmp_path):
    from churnlab.report.guard import ReportsBusy, reports_lock

    held = threading.Event()

    def hold() -> None:
        with reports_lock(tmp_path, "2026-01-05"):
            held.set()
            time.sleep(1.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    with pytest.raises(ReportsBusy, match=rf"pid {os.getpid()}, as-of 2026-01-05, started"):
        with reports_lock(tmp_path, "2026-01-12"):
            pass
    started = time.monotonic()
    with reports_lock(tmp_path, "2026-01-12", wait_seconds=30) as lock:
        assert time.monotonic() - started > 0.5
        assert json.loads(lock.read_text())["as_of"] == "2026-01-12"
    holder.join()
    assert list(tmp_path.iterdir()) == []  # the lock file goes with its holder


# -- SIGTERM -------------------------------------------------------------------------------------

def _depth(proc: psutil.Process, root: int) -> int:
    depth = 0
    while proc is not None and proc.pid != root:
        proc, depth = proc.parent(), depth + 1
    return depth


def test_sigterm_stops_every_child_keeps_the_reason_and_leaves_earlier_reports(small_demo, light, tmp_path):
    reports = tmp_path / "reports"
    earlier = reports / "2026-03-24"
    earlier.mkdir(parents=True)
    (earlier / "index.html").write_text("<p>last week</p>")
    (earlier / "manifest.json").write_text('{"status": "ok"}')
    before = _files(earlier)
    proc = _start(str(small_demo), reports, light)
    children: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 600
        while not list(reports.glob(".staging-*/notebooks/03_models.ipynb")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        # in notebook 03: wait (a while) for the kernel's model workers, grandchildren of the run
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = psutil.Process(proc.pid).children(recursive=True)
            children.update({p.pid: p for p in found})
            if any(_depth(p, proc.pid) >= 2 for p in found):
                break
            time.sleep(0.2)
        assert children, "the run started no kernel"
        proc.send_signal(signal.SIGTERM)
        killed_at = time.monotonic()
        code = proc.wait(timeout=60)
        stdout, stderr = proc.communicate()
        while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in children.values()):
            assert time.monotonic() - killed_at < 10, [p.cmdline() for p in children.values() if p.is_running()]
            time.sleep(0.2)
    finally:
        for p in [psutil.Process(proc.pid), *children.values()] if proc.poll() is None else children.values():
            try:
                p.kill()
            except psutil.Error:
                pass
    assert code != 0
    assert "SIGTERM" in stderr
    failed = list((reports / ".failed").iterdir())
    assert len(failed) == 1
    reason = (failed[0] / "reason.txt").read_text()
    assert "killed by SIGTERM during step 'notebook 03_models.ipynb'" in reason
    assert sorted(p.name for p in reports.iterdir()) == [".failed", "2026-03-24"]
    assert _files(earlier) == before


def test_failed_keeps_only_the_newest_runs_and_stale_staging_goes_there(tmp_path):
    from churnlab.report.run import RunFailed, run_pipeline
    from churnlab.settings import load_settings

    config = tmp_path / "s.yaml"
    config.write_text("run:\n  keep_failed: 2\n")
    reports = tmp_path / "reports"
    stale = reports / ".staging-2026-03-31-99999-060000"  # a run killed with SIGKILL
    (stale / "notebooks").mkdir(parents=True)
    for day in ("2026-01-05", "2026-01-12", "2026-01-19"):
        with pytest.raises(RunFailed, match="step .validate. failed"):
            run_pipeline(tmp_path / "no-such-folder", as_of=__import__("datetime").date.fromisoformat(day),
                         reports=reports, settings=load_settings(config))
        time.sleep(0.02)
    kept = sorted(p.name[:10] for p in (reports / ".failed").iterdir())
    assert kept == ["2026-01-12", "2026-01-19"]
    assert not stale.exists()
    assert sorted(p.name for p in reports.iterdir()) == [".failed"]


_FORKER = r'''
import signal, subprocess, sys, time
out = open(sys.argv[1], "a")
def spawn():
    p = subprocess.Popen(["sleep", "120"])
    out.write(f"{p.pid}\n"); out.flush()
def on_term(*_):
    # like a kernel shutting down: it goes on starting workers for a moment, then leaves them
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        spawn(); time.sleep(0.02)
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
while True:
    spawn(); time.sleep(0.02)
'''

_STOPPER = r'''
import subprocess, sys, time
from churnlab.report.guard import stop_children
forker = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1]], start_new_session=True)
time.sleep(1.0)
stop_children(grace=2.0)
'''


def test_stop_children_leaves_no_process_behind_even_one_started_while_stopping(tmp_path):
    # a kernel (a session of its own) keeps starting workers, even after SIGTERM; when it ends,
    # those it started last are adopted by init, out of the run's tree: none may outlive the run
    pids = tmp_path / "pids.txt"
    subprocess.run([sys.executable, "-c", _STOPPER, str(pids), _FORKER], check=True, timeout=60)
    started = [int(line) for line in pids.read_text().split()]
    assert len(started) > 10
    time.sleep(0.2)
    alive = []
    for pid in started:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    for pid in alive:  # leave the machine clean whatever the verdict
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    assert not alive, f"{len(alive)} of {len(started)} processes outlived stop_children"
