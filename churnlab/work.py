"""What the notebooks of one run share, so that each step is computed once.

A run executes five notebooks, each in its own kernel. Without sharing, each would read and
validate the whole source again (about 26 s at 100,000 customers, most of a minute at a million)
and rebuild the same features. The notebooks therefore ask this module instead of calling
:func:`churnlab.load_data`, :func:`churnlab.build_features` and
:func:`churnlab.build_training_set` directly:

* :func:`open_data` — the validated, point-in-time dataset;
* :func:`features_at` — the features at a date;
* :func:`training_set` — the training set of the models.

Given a run folder ``out``, the first call computes the result and keeps it under
``<out>/work/shared/`` (Parquet, and a ``.key.json`` saying what it was made from); later calls
with the same key read it back. The key holds everything the result depends on — the source, its
fingerprint (sha256 of the input files, recomputed on every call, so changed data is never served
from the copy), the as-of date and the settings that matter — so a stale copy is never used.
A database source has no files to hash: its copy is keyed by the URL (without its password) and the as-of date,
which also gives every notebook of a run the same rows even when the database moves on meanwhile.
Without ``out`` (a notebook run by hand with ``out=None``) nothing is kept and every call computes.

Results are written to a temporary name and renamed, so a reader never sees half a file.
``churnlab run`` removes ``work/`` from the report folder when the run has succeeded.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from churnlab.features import build_features, build_training_set
from churnlab.io import Dataset, fingerprint, load_data
from churnlab.schema import TABLES
from churnlab.settings import Settings
from churnlab.sql import is_database_url, without_password

__all__ = ["open_data", "features_at", "training_set", "save_dataset", "read_dataset", "SavedTables"]

_SHARED = ("work", "shared")


def _folder(out: str | Path) -> Path:
    path = Path(out).joinpath(*_SHARED)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _write_key(path: Path, key: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(key, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_key(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- the dataset -----------------------------------------------------------------------------
def save_dataset(dataset: Dataset, folder: str | Path, written: Sequence[str] = ()) -> None:
    """Write a :class:`~churnlab.io.Dataset` to ``folder``: one Parquet file per table, the
    quarantine and missing counts, and ``dataset.json`` (source, fingerprint, as-of date, tables),
    written last so that a folder with ``dataset.json`` is complete. ``written``: tables already
    in the folder as ``<table>.parquet`` (``churnlab.chunked`` writes them chunk by chunk)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in dataset.tables.items():
        if name not in written:
            _write_parquet(frame, folder / f"{name}.parquet")
    _write_parquet(dataset.quarantine, folder / "_quarantine.parquet")
    _write_parquet(dataset.missing, folder / "_missing.parquet")
    _write_key(folder / "dataset.json", {
        "source": dataset.source, "fingerprint": dataset.fingerprint,
        "as_of": None if dataset.as_of is None else dataset.as_of.isoformat(),
        "tables": [t for t in TABLES if t in dataset.tables or t in written] if written else list(dataset.tables)})


class SavedTables(Mapping):
    """The tables of a saved dataset, each read from its Parquet file when first used.

    A notebook that finds its features and training set already made never reads the event
    log (about 4 s at 100,000 customers). A table read after the copy was replaced (another
    run of the notebooks with the same ``out`` and other data) is refused rather than mixed in.
    """

    def __init__(self, folder: Path, names: list[str], fingerprint: str):
        self._folder, self._names, self._fingerprint = folder, list(names), fingerprint
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = pd.read_parquet(self.file(name))
        return self._frames[name]

    def file(self, name: str) -> Path:
        """The table's Parquet file, to read it with DuckDB instead of as one frame."""
        if name not in self._names:
            raise KeyError(name)
        meta = _read_key(self._folder / "dataset.json")
        if meta is None or meta["fingerprint"] != self._fingerprint:
            raise RuntimeError(f"the saved data in {self._folder} was replaced since it was opened: "
                               "open it again (churnlab.work.open_data)")
        return self._folder / f"{name}.parquet"

    def rows(self, name: str) -> int:
        """The table's row count, from its file's footer (the table is not read)."""
        if name in self._frames:
            return len(self._frames[name])
        return pq.ParquetFile(self.file(name)).metadata.num_rows

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_dataset(folder: str | Path, lazy: bool = False) -> Dataset:
    """The :class:`~churnlab.io.Dataset` :func:`save_dataset` wrote, as it was (not validated
    again); ``lazy``: each table is read when first used (:class:`SavedTables`)."""
    folder = Path(folder)
    meta = _read_key(folder / "dataset.json")
    if meta is None:
        raise FileNotFoundError(f"{folder} holds no saved dataset (no readable dataset.json)")
    tables = SavedTables(folder, meta["tables"], meta["fingerprint"])
    if not lazy:
        tables = {name: tables[name] for name in meta["tables"]}
    return Dataset(tables=tables, quarantine=pd.read_parquet(folder / "_quarantine.parquet"),
                   missing=pd.read_parquet(folder / "_missing.parquet"), source=meta["source"],
                   fingerprint=meta["fingerprint"],
                   as_of=None if meta["as_of"] is None else pd.Timestamp(meta["as_of"]))


def _source_key(data, as_of, settings: Settings) -> dict:
    database = is_database_url(data)
    return {
        "source": without_password(str(data))[0] if database else str(data),
        "fingerprint": None if database else fingerprint(data, settings.mapping),
        "as_of": pd.Timestamp(as_of).normalize().isoformat(),
        "on_row_error": settings.validation.on_row_error,
        "mapping": None if settings.mapping is None else settings.mapping.model_dump(mode="json"),
    }


def open_data(data, as_of, settings: Settings | None = None, out: str | Path | None = None) -> Dataset:
    """The dataset as :func:`churnlab.load_data` gives it (validated, cut at ``as_of``), read and
    validated once per run: with ``out``, the first call keeps a copy under ``<out>/work/shared/``
    and later calls with the same source, fingerprint, as-of date and validation/mapping settings
    read that copy back, each table when first used (:class:`SavedTables`). With ``out``, a
    folder's tables of more than ``validation.chunk_rows`` rows are validated chunk by chunk
    (:func:`churnlab.chunked.load_data_chunked`) and stay on disk until asked for as frames."""
    settings = settings or Settings()
    if out is None:
        return load_data(data, as_of=as_of, on_row_error=settings.validation.on_row_error,
                         mapping=settings.mapping)
    folder = _folder(out) / "dataset"
    key = _source_key(data, as_of, settings)
    if _read_key(folder / "source.key.json") == key and (folder / "dataset.json").is_file():
        return read_dataset(folder, lazy=True)
    (folder / "source.key.json").unlink(missing_ok=True)
    from churnlab.chunked import large_tables, load_data_chunked  # it builds on this module

    if settings.mapping is None and not is_database_url(data) and large_tables(data, settings.validation.chunk_rows):
        # tables too large for memory are validated chunk by chunk straight into the folder
        dataset = load_data_chunked(data, as_of, folder, chunk_rows=settings.validation.chunk_rows,
                                    on_row_error=settings.validation.on_row_error)
    else:
        dataset = load_data(data, as_of=as_of, on_row_error=settings.validation.on_row_error,
                            mapping=settings.mapping)
        (folder / "dataset.json").unlink(missing_ok=True)
        save_dataset(dataset, folder)
    _write_key(folder / "source.key.json", key)
    return dataset


# -- features and training sets ------------------------------------------------------------
def _cached(out: str | Path | None, name: str, key: dict, build) -> pd.DataFrame:
    if out is None:
        return build()
    folder = _folder(out)
    data, key_file = folder / f"{name}.parquet", folder / f"{name}.key.json"
    if _read_key(key_file) == key and data.is_file():
        return pd.read_parquet(data)
    key_file.unlink(missing_ok=True)
    frame = build()
    _write_parquet(frame, data)
    _write_key(key_file, key)
    return frame


def _dataset_key(dataset: Dataset) -> dict:
    return {"source": dataset.source, "fingerprint": dataset.fingerprint,
            "as_of": None if dataset.as_of is None else dataset.as_of.isoformat()}


def features_at(dataset: Dataset, date, out: str | Path | None = None) -> pd.DataFrame:
    """:func:`churnlab.build_features` of ``dataset`` at ``date``, kept under ``out`` when given."""
    day = pd.Timestamp(date).normalize()
    key = {**_dataset_key(dataset), "date": day.isoformat()}
    return _cached(out, f"features-{day.date().isoformat()}", key, lambda: build_features(dataset, day))


def training_set(dataset: Dataset, as_of, settings: Settings | None = None,
                 out: str | Path | None = None) -> pd.DataFrame:
    """:func:`churnlab.build_training_set` of ``dataset`` with the run's settings (horizon,
    snapshots, churn definition), kept under ``out`` when given."""
    settings = settings or Settings()
    ms = settings.models
    day = pd.Timestamp(as_of).normalize()
    key = {**_dataset_key(dataset), "as_of_date": day.isoformat(), "horizon_days": settings.horizon_days,
           "snapshots": ms.snapshots, "churn": ms.churn, "inactivity_days": ms.inactivity_days}
    return _cached(out, f"training-{day.date().isoformat()}", key, lambda: build_training_set(
        dataset, day, horizon_days=settings.horizon_days, snapshots=ms.snapshots, churn=ms.churn,
        inactivity_days=ms.inactivity_days))
