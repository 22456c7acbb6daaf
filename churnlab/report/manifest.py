"""The report's ``manifest.json``: what a run read, with which settings and versions, and how long
each step took.

Enough to tell two runs apart and to reproduce one: the as-of date, the status, the previous run
that ``changes.csv`` compares with, the data source and its fingerprint, the full settings, the
installed versions of the packages that shape the results, the wall time of every step, the row
count of every input table and the number of quarantined rows, and what the run assumed (the
churn definition, what a churn flag meant, which tables and columns fed which features:
:func:`churnlab.features.assumptions.run_assumptions`).
"""
from __future__ import annotations

import json
import platform
from datetime import date
from importlib import metadata
from pathlib import Path

from churnlab.data.loading import Dataset
from churnlab.features.assumptions import run_assumptions
from churnlab.settings import Settings

__all__ = ["write_manifest", "installed_versions", "VERSIONED"]

#: Packages whose versions the manifest records (besides Python's).
VERSIONED: tuple[str, ...] = ("churnlab", "pandas", "numpy", "pyarrow", "duckdb", "pandera", "scikit-learn",
                              "lifelines", "papermill", "nbconvert")


def installed_versions() -> dict[str, str]:
    """The Python version and the installed version of each of :data:`VERSIONED`
    (``"not installed"`` for a missing one)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_manifest(folder: str | Path, dataset: Dataset, as_of: date, settings: Settings, *,
                   steps_seconds: dict[str, float], status: str, rows: dict[str, int],
                   previous: str | None = None) -> Path:
    """Write ``<folder>/manifest.json`` and return its path.

    Parameters
    ----------
    folder : the run's report folder.
    dataset : the validated input (its source, fingerprint, quarantined rows, where every input
        row went and its data warnings are recorded).
    as_of : the run's snapshot date.
    settings : the run's settings, recorded in full.
    steps_seconds : wall time of each step, in the order they ran.
    status : the run's status (``"ok"``).
    rows : the row count of each input table (kept before the run let go of the tables).
    previous : the as-of date of the run ``changes.csv`` compares with, if any.
    """
    manifest = {
        "as_of": as_of.isoformat(),
        "status": status,
        "previous_run": previous,
        "data": dataset.source,
        "input_fingerprint": dataset.fingerprint,
        "settings": settings.model_dump(mode="json"),
        "versions": installed_versions(),
        "steps_seconds": steps_seconds,
        "rows": rows,
        "quarantined_rows": int(len(dataset.quarantine)),
        "input_accounting": dataset.accounting.to_dict(orient="records"),
        "data_warnings": list(dataset.warnings),
        "assumptions": run_assumptions(settings, [*rows, *dataset.tables], dataset.table("customers"), as_of),
    }
    path = Path(folder) / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path
