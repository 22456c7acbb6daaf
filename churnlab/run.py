"""One scheduled run: validate the data, execute the notebooks, write ``REPORTS/<as-of>/``.

The report folder appears whole or not at all: every file is written into a staging folder next
to it and moved into place in one rename at the end. A run that fails keeps its partial work under
``REPORTS/.failed/<as-of>-<time>/``, leaves earlier reports untouched and raises
:class:`RunFailed` naming the step (and, for a notebook, the cell) that failed.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

import yaml

from churnlab.io import Dataset, load_data
from churnlab.report import write_scores_csv
from churnlab.schema import DataContractError
from churnlab.settings import Settings
from churnlab.sql import DataSourceError, is_database_url, without_password

#: The notebooks a run executes, in order (file names in ``notebooks/``).
NOTEBOOKS: tuple[str, ...] = ("01_data_health.ipynb", "02_features.ipynb", "03_models.ipynb")

#: Packages whose versions the manifest records.
_VERSIONED = ("churnlab", "pandas", "numpy", "pyarrow", "duckdb", "pandera", "scikit-learn",
              "lifelines", "papermill", "nbconvert")


class RunFailed(RuntimeError):
    """A run step failed; the message names the step and the cause."""


def default_notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the source tree this package was installed from."""
    return Path(__file__).resolve().parents[1] / "notebooks"


@dataclass
class _Steps:
    """Wall time of each step, in the order they ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, fn: Callable[[], object], say: Callable[[str], None]) -> object:
        say(name)
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)


def run_pipeline(
    data: str | Path,
    as_of: date,
    reports: str | Path = "reports",
    settings: Settings | None = None,
    notebooks_dir: str | Path | None = None,
    console=None,
) -> Path:
    """Run every step for ``as_of`` and return the finished ``REPORTS/<as-of>/`` folder.

    Parameters
    ----------
    data : a folder of contract tables (Parquet/CSV), a DuckDB file or a database URL (its
        password, if any, reaches the notebooks' kernel as ``PGPASSWORD``, never a file).
    as_of : the snapshot date; nothing after it is read.
    reports : the reports root; the run writes ``reports/<as-of>/`` only.
    settings : run settings (defaults when ``None``).
    notebooks_dir : where the numbered notebooks live (default: the source tree's ``notebooks/``).
    console : a ``rich`` console for progress, or ``None`` for silence.
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
    final = reports / stamp
    staging = reports / f".staging-{stamp}"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "notebooks").mkdir(parents=True)
    (staging / "html").mkdir()
    steps = _Steps()

    def say(step: str) -> None:
        if console is not None:
            console.print(f"[bold]{stamp}[/] {step}", highlight=False)

    current = "validate"
    try:
        dataset: Dataset = steps.timed(
            "validate",
            lambda: load_data(data_path, as_of=as_of, on_row_error=settings.validation.on_row_error),
            say,
        )
        _write_data_quality(dataset, staging / "data_quality.csv")
        # the notebooks read the run's settings from the copy kept with the report
        config = staging / "settings.yaml"
        config.write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
        params = {"data": notebook_data, "as_of": stamp, "config": str(config), "out": str(staging)}
        with _kernel_password(password):
            for name in NOTEBOOKS:
                current = f"notebook {name}"
                steps.timed(current, lambda name=name: _execute(notebooks_dir / name, staging, params), say)
        current = "scores"
        steps.timed("scores", lambda: write_scores_csv(staging), say)
        shutil.rmtree(staging / "work", ignore_errors=True)
        current = "render"
        steps.timed("render", lambda: _render_html(staging), say)
        current = "index"
        _write_index(staging, dataset, as_of)
        _write_manifest(staging, dataset, as_of, settings, steps, status="ok")
    except Exception as err:  # noqa: BLE001 - every failure is reported the same way below
        failed = _keep_failed(staging, reports, stamp)
        reason = _describe(err)
        raise RunFailed(f"step '{current}' failed: {reason}\npartial run kept in {failed}") from err
    _publish(staging, final)
    return final


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


def _execute(notebook: Path, staging: Path, params: dict) -> None:
    import papermill as pm

    if not notebook.exists():
        raise FileNotFoundError(f"notebook {notebook} not found")
    pm.execute_notebook(
        str(notebook), str(staging / "notebooks" / notebook.name), parameters=params,
        kernel_name="python3", cwd=str(notebook.parent), progress_bar=False, log_output=False,
    )


def _render_html(staging: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    for path in sorted((staging / "notebooks").glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        (staging / "html" / f"{path.stem}.html").write_text(body, encoding="utf-8")


def _write_data_quality(dataset: Dataset, path: Path) -> None:
    dataset.quarantine.to_csv(path, index=False, lineterminator="\n")


def _write_index(staging: Path, dataset: Dataset, as_of: date) -> None:
    from html import escape

    customers = dataset.tables["customers"]
    active = int(customers["churn_date"].isna().sum())
    quarantined = len(dataset.quarantine)
    pages = sorted(p.name for p in (staging / "html").glob("*.html"))
    links = "\n".join(f'<li><a href="html/{escape(p)}">{escape(p[:-5])}</a> '
                      f'(<a href="notebooks/{escape(p[:-5])}.ipynb">notebook</a>)</li>' for p in pages)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>churnlab report {as_of}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5}}
td,th{{padding:.2rem .8rem;text-align:right}} th{{text-align:left}}</style></head>
<body><h1>churnlab report, as of {as_of}</h1>
<table>
<tr><th>customers known at the as-of date</th><td>{len(customers):,}</td></tr>
<tr><th>active customers</th><td>{active:,}</td></tr>
<tr><th>quarantined input rows</th><td>{quarantined:,}</td></tr>
</table>
<h2>Notebooks</h2><ul>
{links}
</ul>
<h2>Files</h2><ul>
<li><a href="scores.csv">scores.csv</a>: one row per active customer: churn probability, expected lifetime, reasons</li>
<li><a href="model_metrics.json">model_metrics.json</a>: backtest figures of every model fitted in this run</li>
<li><a href="data_quality.csv">data_quality.csv</a>: every quarantined input row with table, rule and reason</li>
<li><a href="settings.yaml">settings.yaml</a>: the settings of this run</li>
<li><a href="manifest.json">manifest.json</a>: settings, input fingerprint, versions, step timings</li>
</ul></body></html>
"""
    (staging / "index.html").write_text(html, encoding="utf-8")


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _write_manifest(staging: Path, dataset: Dataset, as_of: date, settings: Settings,
                    steps: _Steps, status: str) -> None:
    manifest = {
        "as_of": as_of.isoformat(),
        "status": status,
        "data": dataset.source,
        "input_fingerprint": dataset.fingerprint,
        "settings": settings.model_dump(mode="json"),
        "versions": _versions(),
        "steps_seconds": steps.seconds,
        "rows": {name: int(len(frame)) for name, frame in dataset.tables.items()},
        "quarantined_rows": int(len(dataset.quarantine)),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


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


def _keep_failed(staging: Path, reports: Path, stamp: str) -> Path:
    # The failed folder's name carries the wall-clock time so repeated failures never collide.
    target = reports / ".failed" / f"{stamp}-{datetime.now():%H%M%S}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if staging.exists():
        staging.rename(target)
    else:
        target.mkdir()
    return target


def _describe(err: BaseException) -> str:
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()  # type: ignore[assignment]
    if isinstance(err, PapermillExecutionError):
        first_line = (err.source or "").strip().splitlines()[:1]
        return (f"cell {err.cell_index} ({first_line[0] if first_line else ''!s}) raised "
                f"{err.ename}: {err.evalue}")
    if isinstance(err, DataContractError):
        return f"the data breaks the contract:\n{err}"
    if isinstance(err, (DataSourceError, FileNotFoundError)):
        return str(err)
    return f"{type(err).__name__}: {err}"
