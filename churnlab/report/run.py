"""One scheduled run: validate the data, execute the notebooks, write ``REPORTS/<as-of>/``.

The report folder appears whole or not at all: every file is written into a staging folder next
to it and moved into place in one rename at the end. A run that fails keeps its partial work under
``REPORTS/.failed/<as-of>-<time>/`` with a ``reason.txt``, leaves earlier reports untouched and
raises :class:`RunFailed` naming the step (and, for a notebook, the cell) that failed.

One run per reports folder at a time (:mod:`churnlab.report.guard`): a second run waits up to
``run.lock_wait_seconds`` for the lock, else fails at once naming the run that holds it. Each run
stages in a folder of its own (``.staging-<as-of>-<pid>-<time>``) and publishes only that. SIGTERM
and SIGINT stop the notebooks' kernels and every other child process, keep the partial work in
``.failed/`` with the reason and raise :class:`RunInterrupted`. SIGKILL cannot be caught: the next
run on the folder moves the staging folder such a run left to ``.failed/`` (the lock of a dead
process is released by the kernel). ``.failed/`` keeps the newest ``run.keep_failed`` runs.

The run logs to the ``churnlab`` logger (each step as it starts, where a working notebook is,
data warnings, the failure) and keeps those records in ``run.log`` beside the report's files.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

import yaml

from churnlab.decide.changes import previous_run, zone_changes
from churnlab.data.loading import Dataset
from churnlab.data.mapping import MappingError
from churnlab.data.memory import release_memory
from churnlab.models.leakage import leakage_warnings
from churnlab.data.contract import DataContractError
from churnlab.settings import Settings
from churnlab.data.sql import DataSourceError, is_database_url, redact, redact_text, without_password
from churnlab.report.execute import HEARTBEAT_SECONDS, KernelDied, execute_notebook, heartbeat
from churnlab.report.guard import Interrupted, ReportsBusy, interrupted, reports_lock, signals_blocked, stop_children
from churnlab.report.handoff import Handoff, handoff, open_data
from churnlab.report.index import write_index
from churnlab.report.manifest import write_manifest
from churnlab.features.engine import activity_episodes, choose_inactivity_window
from churnlab.report.history import lapsed_since
from churnlab.report.outputs import write_data_quality, write_scores_csv, write_win_back

log = logging.getLogger(__name__)

#: The run's own log, kept in the report folder (and in ``.failed/`` with a failed run).
RUN_LOG = "run.log"

#: ``extra`` of a log record whose message the run also raises (in :class:`RunFailed`): a
#: console that prints the exception may leave such records out (the CLI does).
RAISED = {"raised": True}

#: The notebooks a run executes, in order (file names in ``notebooks/``).
NOTEBOOKS: tuple[str, ...] = ("01_data_health.ipynb", "02_features.ipynb", "03_models.ipynb",
                              "04_value_zones.ipynb", "05_campaigns.ipynb")


class RunFailed(RuntimeError):
    """A run step failed; the message names the step and the cause."""


class RunInterrupted(RunFailed):
    """The run received SIGTERM or SIGINT (``signum``) and stopped; its partial work is kept."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


def default_notebooks_dir() -> Path:
    """The notebooks a run executes: ``churnlab/notebooks/`` in an installed wheel (setup.py
    copies them there), else the ``notebooks/`` folder of the source tree (an editable install)."""
    package = Path(__file__).resolve().parents[1]
    shipped = package / "notebooks"
    return shipped if shipped.is_dir() else package.parent / "notebooks"


@dataclass
class _Steps:
    """Wall time of each step, in the order they ran; each step is logged as it starts."""

    #: the as-of date, at the start of every step's log line (a catch-up runs several)
    stamp: str
    seconds: dict[str, float] = field(default_factory=dict)
    #: the step running now (or the last one), named when the run fails or is killed
    current: str = "validate"
    #: how often a long step says it still works, in seconds
    every: float = HEARTBEAT_SECONDS

    def timed(self, name: str, fn: Callable[[], object], beat: bool = True) -> object:
        """Run ``fn`` as the step ``name``; with ``beat``, say every 9 seconds that it still
        works (a notebook says which cell instead: it runs with ``beat=False``)."""
        self.current = name
        log.info("%s %s", self.stamp, name)
        started = time.perf_counter()

        def still() -> None:
            log.info("%s %s: still working, %.0f s", self.stamp, name, time.perf_counter() - started)

        try:
            if not beat:
                return fn()
            with heartbeat(still, self.every, name=f"heartbeat {name}"):
                return fn()
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)
            log.debug("%s %s took %.1f s", self.stamp, name, self.seconds[name])


def run_pipeline(
    data: str | Path,
    as_of: date,
    reports: str | Path = "reports",
    *,
    settings: Settings | None = None,
    notebooks_dir: str | Path | None = None,
) -> Path:
    """Run every step for ``as_of`` and return the finished ``REPORTS/<as-of>/`` folder.

    Parameters
    ----------
    data : a folder of contract tables (Parquet/CSV), one such file, a DuckDB file or a database
        URL (its password, if any, reaches the notebooks' kernel as ``PGPASSWORD``, never a
        file); read through ``settings.mapping`` when the settings carry one.
    as_of : the snapshot date; nothing after it is read.
    reports : the reports root; the run writes ``reports/<as-of>/`` only.
    settings : run settings (defaults when ``None``).
    notebooks_dir : where the numbered notebooks live (default: the source tree's ``notebooks/``).

    Progress (each step as it starts; every 9 s, a working notebook's cell or that a long step
    still works), data warnings and a failure go to the ``churnlab`` logger, at INFO, WARNING
    and ERROR; the caller configures its handlers (the CLI prints them). Whatever they are, the run also writes its log records
    at INFO and above (DEBUG when the logger is set to it) to ``run.log`` in the report folder,
    or in ``.failed/`` for a failed run.
    """
    settings = settings or Settings()
    reports = Path(reports).resolve()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    if is_database_url(str(data)):
        data_path = str(data)
        notebook_data, password = without_password(data_path)
    else:
        data_path = notebook_data = str(Path(data).resolve())
        password = None
    stamp = as_of.isoformat()
    try:
        with reports_lock(reports, stamp, settings.run.lock_wait_seconds):
            _clean_stale(reports, settings.run.keep_failed)
            return _run_locked(data_path, notebook_data, password, as_of, reports, settings, notebooks_dir)
    except ReportsBusy as err:
        raise RunFailed(str(err)) from None


def _run_locked(data_path: str, notebook_data: str, password: str | None, as_of: date, reports: Path,
                settings: Settings, notebooks_dir: Path) -> Path:
    """:func:`run_pipeline` once it holds the reports folder's lock."""
    stamp = as_of.isoformat()
    final = reports / stamp
    staging = reports / f"{_STAGING}{stamp}-{os.getpid()}-{datetime.now():%H%M%S}"
    steps = _Steps(stamp)
    run_log = _RunLog(staging / RUN_LOG)
    started = time.perf_counter()
    try:
        with interrupted():
            (staging / "notebooks").mkdir(parents=True)
            (staging / "html").mkdir()
            run_log.open()
            log.debug("%s run of pid %d from %s into %s", stamp, os.getpid(), redact(data_path),
                      staging)
            _work(data_path, notebook_data, password, as_of, reports, settings, notebooks_dir, staging, steps)
            log.info("%s done in %.0f s: publishing %s", stamp, time.perf_counter() - started, final)
    except Interrupted as err:
        stopped = set(err.stopped) | set(stop_children())
        reason = (f"killed by {err.name} during step '{steps.current}'; stopped "
                  f"{len(stopped)} child process(es) (notebook kernels, model workers)")
        log.error("%s run %s", stamp, reason, extra=RAISED)
        run_log.close()
        failed = _keep_failed(staging, reports, stamp, settings.run.keep_failed, reason)
        raise RunInterrupted(f"run {reason}\npartial run kept in {failed}", err.signum) from None
    except Exception as err:  # noqa: BLE001 - every failure is reported the same way below
        reason = redact_text(f"step '{steps.current}' failed: {_describe(err)}", data_path)
        log.error("%s %s", stamp, reason, extra=RAISED)
        run_log.close()
        failed = _keep_failed(staging, reports, stamp, settings.run.keep_failed, reason)
        raise RunFailed(f"{reason}\npartial run kept in {failed}") from err
    finally:
        run_log.close()
    with signals_blocked():  # the old report goes and the new one comes, both or neither
        _publish(staging, final)
    return final


class _RunLog:
    """The run's log file: a handler on the ``churnlab`` logger while the run works, writing
    ``time level logger: message`` lines. The logger lets INFO through for that time when it is
    set (or left) higher, so the file always holds the run's progress."""

    FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handler: logging.Handler | None = None
        self.level = logging.NOTSET

    def open(self) -> None:
        logger = logging.getLogger("churnlab")
        self.handler = logging.FileHandler(self.path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter(self.FORMAT))
        self.level = logger.level
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(self.handler)

    def close(self) -> None:
        """Stop writing (before the folder is moved); again is harmless."""
        if self.handler is None:
            return
        logger = logging.getLogger("churnlab")
        logger.removeHandler(self.handler)
        self.handler.close()
        self.handler = None
        logger.setLevel(self.level)


#: The prefix of a run's staging folder; the as-of date, pid and start time follow.
_STAGING = ".staging-"


def _work(data_path: str, notebook_data: str, password: str | None, as_of: date, reports: Path,
          settings: Settings, notebooks_dir: Path, staging: Path, steps: _Steps) -> None:
    """Every step of a run, written into ``staging``."""
    stamp = as_of.isoformat()
    dataset: Dataset = steps.timed(
        "validate",
        # validated once: the notebooks read the copy kept under work/ (churnlab.report.handoff)
        lambda: open_data(data_path, as_of, staging, settings=settings),
    )
    write_data_quality(dataset, staging)
    for warning in dataset.warnings:  # also in notebook 01 and manifest.json
        log.warning("%s", warning)
    settings, window = resolve_inactivity(dataset, as_of, settings)
    dataset = replace(dataset, inactivity_days=settings.models.inactivity_days)
    if window is not None:
        log.info("inactivity window: %s", window.describe())
        for warning in window.warnings:
            log.warning("%s", warning)
    # who lapsed since the previous run is read now: the event log is let go before the notebooks
    lapsed = (lapsed_since(activity_episodes(dataset, as_of), previous_run(reports, as_of), as_of)
              if window is not None else None)
    # the notebooks read the validated copy under work/: the run itself keeps only the row
    # counts and the customers its index and manifest need (a million customers' event log
    # is several GB that would otherwise sit in memory beside every notebook's kernel)
    rows = {name: dataset.rows(name) for name in dataset.tables}
    dataset = replace(dataset, tables={"customers": dataset.tables["customers"]})
    release_memory()
    # the notebooks read the run's settings from the copy kept with the report
    config = staging / "settings.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    before = previous_run(reports, as_of)
    params = {"data": notebook_data, "as_of": stamp, "config": str(config), "out": str(staging),
              "previous_scores": str(before / "scores.csv") if before else None}
    with _kernel_password(password):
        for name in NOTEBOOKS:
            steps.timed(f"notebook {name}",
                        lambda name=name: execute_notebook(notebooks_dir / name, staging / "notebooks" / name, params),
                        beat=False)  # it says which cell it is in instead
    hand = handoff(dataset, staging, settings=settings)  # what the notebooks handed over
    notes = run_notes(hand, settings)
    for warning in rule_warnings(hand):  # notebook 04 warned too; the run's output must say it
        log.warning("%s", warning)
    for warning in model_warnings(staging):  # notebooks 02 and 03 say it too
        log.warning("%s", warning)
    steps.timed("scores", lambda: write_scores_csv(hand))
    if lapsed is not None:
        write_win_back(staging, lapsed, dataset.tables["customers"], as_of)
    previous = steps.timed("changes", lambda: _write_changes(hand, reports, as_of))
    shutil.rmtree(staging / "work", ignore_errors=True)
    steps.timed("render", lambda: _render_html(staging))
    steps.current = "index"
    notes += list_notes(staging, settings)
    for note in notes:  # notebook 04 says it too; the run's output and the index page must
        log.warning("%s", note)
    write_index(staging, dataset, as_of, notes=notes)
    write_manifest(staging, dataset, as_of, settings, steps_seconds=steps.seconds, status="ok", rows=rows,
                   previous=previous)


def catch_up(data: str | Path, since: date, until: date, reports: str | Path = "reports",
             every_days: int = 7, **kwargs) -> list[Path]:
    """Run every missing as-of date ``since, since + 7 days, ...`` up to ``until``, oldest first.

    A scheduler that missed runs calls this (``churnlab run --since``) and the reports catch up
    in order, so each run's ``changes.csv`` compares with the run a week before it. Dates whose
    report folder exists are skipped; the first failure stops the catch-up (:class:`RunFailed`).
    ``kwargs`` go to :func:`run_pipeline`.
    """
    if since > until:
        raise ValueError(f"--since {since} is after {until}: nothing to run")
    reports = Path(reports)
    done = []
    day = since
    while day <= until:
        if not (reports / day.isoformat()).is_dir():
            done.append(run_pipeline(data, as_of=day, reports=reports, **kwargs))
        day = date.fromordinal(day.toordinal() + every_days)
    return done


def resolve_inactivity(dataset: Dataset, as_of, settings: Settings):
    """The settings with ``models.inactivity_days`` fixed for the whole run (chosen from the data
    when unset, under churn: inactivity), and the window with its warnings (None otherwise), so
    every notebook and list applies one rule."""
    ms = settings.models
    if ms.churn != "inactivity":
        return settings, None
    window = choose_inactivity_window(dataset, as_of, ms.inactivity_days)
    if window is None:
        return settings, None
    models = ms.model_copy(update={"inactivity_days": window.days})
    return settings.model_copy(update={"models": models}), window


def rule_warnings(hand: Handoff) -> list[str]:
    """One line per rule that notebook 04 could not evaluate for some customers (a division by
    zero or another arithmetic error left its result unknown there), from the fired rules it
    handed over; empty when none or when the rules were not handed over."""
    if not hand.has("rules"):
        return []
    errored = hand.take("rules").attrs.get("errored", {})
    return [f"rule '{name}' could not be evaluated for {count:,} customer(s): a division by zero or "
            "another arithmetic error left it unknown there (see notebook 04)"
            for name, count in errored.items() if count]


def list_notes(folder: Path, settings: Settings) -> list[str]:
    """Lists whose rows did not fit the owners' weekly capacity or expired
    (:func:`churnlab.decide.campaigns.capacity_notes`), from the files notebook 05 wrote."""
    from churnlab.decide.campaigns import capacity_notes
    from churnlab.report.history import plan_of

    plan = plan_of(folder)
    return capacity_notes(plan, settings) if plan is not None else []


def model_warnings(folder: Path) -> list[str]:
    """The leakage guard's findings and the too-good backtest folds, in words, from the
    ``model_metrics.json`` notebook 03 wrote into ``folder`` (empty when there is none)."""
    path = Path(folder) / "model_metrics.json"
    return leakage_warnings(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else []


def run_notes(hand: Handoff, settings: Settings) -> list[str]:
    """What a reader of this run must know about its zones (:func:`churnlab.decide.zones.zone_notes`:
    the value is unknown, or one action costs more than nearly any save is worth), from the
    results notebook 04 handed over; empty when they were not handed over."""
    from churnlab.decide.zones import zone_notes

    if not all(hand.has(name) for name in ("model_scores", "value", "zones")):
        return []
    table = hand.take("model_scores")[["customer_id", "churn_probability"]].merge(
        hand.take("value")[["customer_id", "value"]], on="customer_id").merge(
        hand.take("zones")[["customer_id", "zone", "p_save"]], on="customer_id")
    return zone_notes(table, settings=settings)


def _write_changes(hand: Handoff, reports: Path, as_of: date) -> str | None:
    """``changes.csv`` against the latest earlier run; returns that run's as-of date (or None)."""
    import pandas as pd

    staging = hand.out
    before = previous_run(reports, as_of)
    current = pd.read_csv(staging / "scores.csv", dtype={"customer_id": str})
    if hand.has("zones"):  # the zone reasons stay out of scores.csv but explain the changes
        extra = hand.take("zones")
        if "zone_reason" in extra:
            current = current.merge(extra[["customer_id", "zone_reason"]].astype({"customer_id": str}),
                                    on="customer_id", how="left")
    previous = pd.read_csv(before / "scores.csv", dtype={"customer_id": str}) if before else None
    zone_changes(previous, current).to_csv(staging / "changes.csv", index=False, lineterminator="\n")
    return before.name if before else None


@contextmanager
def _kernel_password(password: str | None) -> Iterator[None]:
    """Hand a database password to the notebooks' kernels through ``PGPASSWORD``.

    papermill writes its parameters into the executed notebook, so the URL it passes has no
    password; the kernel inherits this process's environment and libpq reads the variable.
    The previous value is put back afterwards.
    """
    if password is None:
        yield
        return
    before = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = before


def _render_html(staging: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    # our template drops the lab template's require.js, MathJax and Mermaid from CDNs: a report
    # opens offline and never reaches out to the internet
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(Path(__file__).parent / "templates")],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    for path in sorted((staging / "notebooks").glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        (staging / "html" / f"{path.stem}.html").write_text(body, encoding="utf-8")


def _publish(staging: Path, final: Path) -> None:
    """Swap the finished staging folder into place; an older report of the same date goes away."""
    old = final.with_name(f".old-{final.name}")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)


def _keep_failed(staging: Path, reports: Path, stamp: str, keep: int, reason: str) -> Path:
    """Move ``staging`` to ``.failed/<as-of>-<time>/`` with ``reason.txt``; keep the newest ``keep``."""
    # The failed folder's name carries the wall-clock time so repeated failures never collide.
    target = reports / ".failed" / f"{stamp}-{datetime.now():%H%M%S}"
    if target.exists():
        target = target.with_name(f"{target.name}-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if staging.exists():
            staging.rename(target)
        else:
            target.mkdir()
        (target / "reason.txt").write_text(reason + "\n", encoding="utf-8")
    except OSError:  # a full disk: the message still says what happened
        pass
    _prune_failed(reports / ".failed", keep)
    return target


def _prune_failed(folder: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` runs in ``.failed/``."""
    try:
        runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in runs[:-keep] if keep > 0 else runs:
        shutil.rmtree(old, ignore_errors=True)


def _clean_stale(reports: Path, keep: int) -> None:
    """What runs ended by SIGKILL (or a power cut) left behind; called holding the lock, so no
    other run is at work in ``reports``: their staging folders go to ``.failed/``, and a report
    caught half-way through its publish is put back."""
    for old in reports.glob(".old-*"):
        final = reports / old.name[len(".old-"):]
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(final)
    for stale in sorted(reports.glob(f"{_STAGING}*")):
        if stale.is_dir():
            _keep_failed(stale, reports, stale.name[len(_STAGING):][:10], keep,
                         f"stale: {stale.name} was left by a run that ended without cleaning up "
                         f"(SIGKILL or a power cut); found by the run of pid {os.getpid()}")


def _describe(err: BaseException) -> str:
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()  # type: ignore[assignment]
    if isinstance(err, PapermillExecutionError):
        first_line = (err.source or "").strip().splitlines()[:1]
        if "Errno 28" in (err.evalue or "") or "No space left on device" in (err.evalue or ""):
            return (f"the disk is full: cell {err.cell_index} ({first_line[0] if first_line else ''!s}) raised "
                    f"{err.ename}: {err.evalue}")
        return (f"cell {err.cell_index} ({first_line[0] if first_line else ''!s}) raised "
                f"{err.ename}: {err.evalue}")
    if isinstance(err, DataContractError):
        return f"the data breaks the contract:\n{err}"
    if isinstance(err, MappingError):
        return f"the mapping does not fit the data: {err}"
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return f"the disk is full (no space left on device) writing {err.filename or 'the run folder'}: {err}"
    if isinstance(err, (DataSourceError, FileNotFoundError, KernelDied)):
        return str(err)
    return f"{type(err).__name__}: {err}"
