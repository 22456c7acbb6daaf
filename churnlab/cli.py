"""The `churnlab` command: a thin shell over the package's functions of the same names.

Exit codes: 0 ok, 1 data or run failure (and `validate --strict` with quarantined rows), 2 usage error (click's own code for bad options).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    help="churnlab: customer churn management for small and mid-sized businesses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

DATA_HELP = ("A folder of <table>.parquet / <table>.csv files, one such file or an .xlsx workbook (with a mapping), a DuckDB file, "
             "or a database URL (postgresql://user@host:5432/db, duckdb:///file.duckdb, sqlite:///file.db); "
             "default: the settings' sql.url_env or sql.url.")
MAPPING_HELP = ("A mapping of the source's own tables and columns onto the data contract: a shipped "
                "name (telco) or a mapping YAML; overrides the settings' mapping.")


log = logging.getLogger(__name__)

VERBOSE_HELP = "Say more: every notebook cell as it starts, how long each step took (the run's log too)."
QUIET_HELP = "Say only warnings and errors on the console (the run's log keeps its progress anyway)."


class _ConsoleHandler(logging.Handler):
    """The ``churnlab`` logger's records on the console, one line each: ``HH:MM:SS message``,
    with ``warning:`` or ``error:`` before the message from WARNING up. Records the run also
    raises (``extra=RAISED``) are left out: the command prints the exception itself."""

    LEVELS = ((logging.ERROR, "error:", "bold red"), (logging.WARNING, "warning:", "bold yellow"))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "raised", False):
            return
        try:
            line = Text(time.strftime("%H:%M:%S ", time.localtime(record.created)), style="dim")
            for level, word, style in self.LEVELS:
                if record.levelno >= level:
                    line.append(f"{word} ", style=style)
                    break
            line.append(self.format(record))
            console.print(line, highlight=False, soft_wrap=True)
        except Exception:  # noqa: BLE001 - logging's own convention: never raise from a handler
            self.handleError(record)


def _configure_logging(verbose: bool, quiet: bool) -> None:
    """Print the ``churnlab`` logger on the console: INFO and up, DEBUG with ``--verbose``,
    WARNING and up with ``--quiet``. A run writes its own ``run.log`` besides (INFO and up,
    DEBUG with ``--verbose``)."""
    if verbose and quiet:
        raise typer.BadParameter("give either --verbose or --quiet, not both", param_hint="--quiet")
    logger = logging.getLogger("churnlab")
    for old in [h for h in logger.handlers if isinstance(h, _ConsoleHandler)]:
        logger.removeHandler(old)  # a second command in the same process (tests)
    handler = _ConsoleHandler(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A Python warning as one readable log record (``HH:MM:SS warning: <message>`` on the
    console, and in a run's log); a warning from outside churnlab also says its kind and where
    it came from."""
    text = " ".join(str(message).split())
    if not Path(filename).resolve().is_relative_to(Path(__file__).resolve().parent):
        text += f" ({category.__name__}, {Path(filename).name}:{lineno})"
    log.warning("%s", text)


@contextlib.contextmanager
def _warnings_shown():
    """Python warnings raised inside (loading settings and mapping, validating, running) are
    printed as they come, one ``warning: ...`` line each, instead of Python's two-line text."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def _settings(config: Optional[Path], mapping: Optional[str]):
    """The run's settings, or exit 1 with the reason (an unknown key, a mapping that is not shipped)."""
    from churnlab.settings import load_settings

    try:
        with _warnings_shown():
            return load_settings(config, mapping=mapping)
    except (FileNotFoundError, ValueError) as err:  # pydantic's ValidationError is a ValueError
        _fail(str(err))


def _source(data: Optional[str], settings) -> str:
    """--data, else the database URL the settings point to (the CLI is where the environment is read)."""
    from churnlab.data.sql import DataSourceError, resolve_source

    url = settings.sql.url.get_secret_value() if settings.sql.url is not None else None
    try:
        return resolve_source(data, url, settings.sql.url_env, dict(os.environ))
    except DataSourceError as err:
        _fail(str(err))


def _check_date(value: Optional[str]) -> Optional[str]:
    """Option callback: refuse anything but an ISO date before the command runs (exit code 2)."""
    if value is not None:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}")
    return value


class _Failed(typer.Exit):
    """Exit 1 after an error was printed; carries the message for ``validate --format json``."""

    def __init__(self, message: str) -> None:
        super().__init__(1)
        self.message = message


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise _Failed(message)


def _print_version(value: bool) -> None:
    if value:
        import churnlab  # the package's own version: the code that is running

        out.print(f"churnlab {churnlab.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print churnlab's version and exit."),
) -> None:
    """churnlab: customer churn management for small and mid-sized businesses."""


@app.command("demo-data")
def demo_data(
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the demo tables into; the ground truth goes to <out>-truth."),
    customers: int = typer.Option(5000, "--customers", min=1, help="Number of customer accounts."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same bytes."),
    start: str = typer.Option("2023-07-01", "--start", callback=_check_date, help="First day of the simulated period (YYYY-MM-DD)."),
    end: str = typer.Option("2026-06-30", "--end", callback=_check_date, help="Last day of the data (YYYY-MM-DD); later churn is only in the truth."),
) -> None:
    """Simulate a realistic SMB B2B SaaS customer base (every contract table) plus its ground truth."""
    if date.fromisoformat(end) <= date.fromisoformat(start):
        raise typer.BadParameter(f"must be after --start {start}, got {end}", param_hint="--end")
    from churnlab.demo.simulation import generate_demo_data

    with Progress(
        TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task("simulate", total=None)

        def _tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = generate_demo_data(out_dir, customers=customers, seed=seed, start=start, end=end, progress=_tick)
    table = Table(title="demo data")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    out.print(f"tables: {summary.out}  ground truth: {summary.truth}  ({summary.seconds:.1f} s)")


@app.command("validate")
def validate(
    data: Optional[str] = typer.Option(None, "--data", help=DATA_HELP),
    as_of: Optional[str] = typer.Option(None, "--as-of", callback=_check_date, help="Only rows on or before this date (YYYY-MM-DD) count."),
    config: Optional[Path] = typer.Option(None, "--config", help="Settings YAML (see churnlab/settings.py)."),
    mapping: Optional[str] = typer.Option(None, "--mapping", help=MAPPING_HELP),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder to write data_quality.csv into (every quarantined row, as a run writes it)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any row is quarantined (the default is to report them and exit 0)."),
    fmt: str = typer.Option("text", "--format", help="text (tables for people) or json (one summary object on stdout, nothing else)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Check SOURCE against the data contract and report every problem found."""
    from churnlab.data.sql import redact

    _configure_logging(verbose, quiet)
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"expected text or json, got {fmt!r}", param_hint="--format")
    as_json = fmt == "json"
    shown = redact(data) if data else None
    try:
        settings = _settings(config, mapping)
        data = _source(data, settings)
        shown = redact(data)
        with tempfile.TemporaryDirectory(prefix="churnlab-validate-") as scratch:
            _validate(data, shown, as_of, settings, out_dir, strict, as_json, scratch, quiet)
    except _Failed as failed:
        if as_json:  # stdout still holds one JSON document, saying what went wrong
            typer.echo(json.dumps({"source": shown, "as_of": as_of, "ok": False, "error": failed.message}, indent=2))
        raise


def _validate(data: str, shown: str, as_of: Optional[str], settings, out_dir: Optional[Path], strict: bool,
              as_json: bool, scratch: str, quiet: bool = False) -> None:
    """The body of ``validate``, inside its scratch folder; an error goes through :func:`_fail`."""
    from churnlab.data import open_source
    from churnlab.data.mapping import MappingError
    from churnlab.data.contract import DataContractError
    from churnlab.data.sql import DataSourceError, redact_text

    try:
        status = contextlib.nullcontext() if quiet else console.status("validating")
        with status, _warnings_shown():
            # tables too large for memory are checked chunk by chunk (as `churnlab run` does),
            # their checked rows parked in a scratch folder removed afterwards
            dataset = open_source(data, _parse_date(as_of), scratch, settings=settings)
    except (DataContractError, MappingError, FileNotFoundError, DataSourceError, ValueError) as err:
        _fail(redact_text(str(err), data))
    written = None
    if out_dir is not None:
        from churnlab.report.outputs import write_data_quality

        out_dir.mkdir(parents=True, exist_ok=True)
        written = write_data_quality(dataset, out_dir)
    # while the scratch folder exists: a table checked in chunks is read from it
    quarantined = int(len(dataset.quarantine))
    if as_json:
        summary = _validation_summary(dataset, shown, as_of, written, ok=not (strict and quarantined))
        typer.echo(json.dumps(summary, indent=2))
    else:
        _show_dataset(dataset, shown, written, final=not (strict and quarantined))
    if strict and quarantined:
        # not _fail: the summary above is the JSON document (with "ok": false)
        console.print(f"[bold red]error:[/] {quarantined:,} row(s) quarantined (--strict)"
                      + (f": listed in {written}" if written else ": --out DIR writes them to DIR/data_quality.csv"),
                      highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _validation_summary(dataset, shown: str, as_of: Optional[str], written: Optional[Path], ok: bool) -> dict:
    """What ``validate --format json`` prints: tables and their rows, where every input row went,
    the quarantined rows counted by table and by rule, missing optional values and warnings."""
    summary = dataset.summary()
    by_table = summary.groupby("table")["count"].sum() if len(summary) else {}
    return {
        "source": shown,
        "as_of": as_of,
        "ok": ok,
        "tables": {name: int(dataset.rows(name)) for name in dataset.tables},
        "accounting": [{k: (v if k == "table" else int(v)) for k, v in rec.items()}
                       for rec in dataset.accounting.to_dict(orient="records")],
        "quarantined": {
            "total": int(len(dataset.quarantine)),
            "by_table": {str(t): int(n) for t, n in dict(by_table).items()},
            "by_rule": [{"table": r.table, "rule": r.rule, "count": int(r.count)} for r in summary.itertuples(index=False)],
        },
        "missing": [{"table": r.table, "column": r.column, "count": int(r.count)} for r in dataset.missing.itertuples(index=False)],
        "warnings": list(dataset.warnings),
        "data_quality": str(written) if written else None,
    }


def _show_dataset(dataset, shown: str, written: Optional[Path] = None, final: bool = True) -> None:
    """The tables, quarantined rows and missing optional values of a validated dataset; ``final``
    ends with the ok line (not when ``--strict`` fails)."""
    rows = Table(title=f"tables in {shown}")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name in dataset.tables:
        rows.add_row(name, f"{dataset.rows(name):,}")
    out.print(rows)
    summary = dataset.summary()
    if len(summary):
        where = f"listed in {written}" if written else "--out DIR lists them in DIR/data_quality.csv"
        t = Table(title=f"quarantined rows (kept out of every computation; {where})")
        for col in ("table", "rule", "count"):
            t.add_column(col, justify="right" if col == "count" else "left")
        for rec in summary.itertuples(index=False):
            t.add_row(rec.table, rec.rule, f"{rec.count:,}")
        out.print(t)
    else:
        out.print("no quarantined rows" + (f" ({written} has the header only)" if written else ""), highlight=False)
    if len(dataset.accounting):
        t = Table(title="where every input row went (not yet customers: signed up after the as-of date)")
        for col in dataset.accounting.columns:
            t.add_column(col.replace("_", " "), justify="left" if col == "table" else "right")
        for rec in dataset.accounting.itertuples(index=False):
            t.add_row(rec[0], *(f"{n:,}" for n in rec[1:]))
        out.print(t)
    if len(dataset.missing):
        t = Table(title="missing optional values")
        for col in ("table", "column", "count"):
            t.add_column(col, justify="right" if col == "count" else "left")
        for rec in dataset.missing.itertuples(index=False):
            t.add_row(rec.table, rec.column, f"{rec.count:,}")
        out.print(t)
    for warning in dataset.warnings:
        out.print(f"[yellow]warning[/]: {warning}", highlight=False)
    if final:
        out.print(f"[green]ok[/]: {shown} follows the data contract" + (" (rows above quarantined)" if len(summary) else ""))


@app.command("run")
def run(
    data: Optional[str] = typer.Option(None, "--data", help=DATA_HELP),
    as_of: Optional[str] = typer.Option(None, "--as-of", callback=_check_date, help="Snapshot date YYYY-MM-DD (default: today)."),
    since: Optional[str] = typer.Option(None, "--since", callback=_check_date,
                                        help="Catch up: run every missing weekly as-of date from SINCE up to today "
                                             "(or --until), in order."),
    until: Optional[str] = typer.Option(None, "--until", callback=_check_date,
                                        help="With --since: the last as-of date to run (default: today)."),
    reports: Path = typer.Option(Path("reports"), "--out", help="Reports folder; the run writes REPORTS/<as-of>/."),
    config: Optional[Path] = typer.Option(None, "--config", help="Settings YAML (see churnlab/settings.py)."),
    mapping: Optional[str] = typer.Option(None, "--mapping", help=MAPPING_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Run the scheduled pipeline for one as-of date (or catch up weekly) and write REPORTS/<as-of>/."""
    from churnlab.data.sql import redact_text
    from churnlab.report.run import RunFailed, RunInterrupted, catch_up, run_pipeline

    if as_of and since:
        raise typer.BadParameter("give either --as-of or --since, not both", param_hint="--since")
    if until and not since:
        raise typer.BadParameter("--until goes with --since (a catch-up)", param_hint="--until")
    _configure_logging(verbose, quiet)
    settings = _settings(config, mapping)
    data = _source(data, settings)
    try:
        with _warnings_shown():
            if since:
                # the wall clock decides only how far a catch-up goes
                done = catch_up(data, since=date.fromisoformat(since),
                                until=date.fromisoformat(until) if until else date.today(), reports=reports,
                                settings=settings)
                out.print(f"[green]{len(done)} report(s) written[/]" + "".join(f"\n  {p}" for p in done))
                return
            when = _parse_date(as_of) or date.today()
            result = run_pipeline(data, as_of=when, reports=reports, settings=settings)
    except RunInterrupted as err:  # killed: the shell's convention, 128 + the signal's number
        console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(128 + err.signum)
    except (RunFailed, ValueError) as err:
        _fail(redact_text(str(err), data))
    out.print(f"[green]report written[/]: {result}")


def _parse_date(value: Optional[str]) -> Optional[date]:
    return None if value is None else date.fromisoformat(value)


def main() -> None:
    """Entry point of the installed `churnlab` command."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
