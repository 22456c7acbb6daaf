"""A validated dataset kept on disk: one Parquet file per table, read back lazily.

``save_dataset`` writes a :class:`~churnlab.data.loading.Dataset`; ``read_dataset`` reads it back, each
table when first used (:class:`SavedTables`), so a table of tens of millions of rows stays on
disk until somebody asks for it as a frame; DuckDB reads it from its file meanwhile
(``Dataset.file``). ``churnlab.report.handoff`` keeps a run's validated copy this way and
``churnlab.data.chunked`` writes its large tables straight into the layout.
Files are written to a temporary name and renamed, so a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from churnlab.data.loading import Dataset, empty_accounting
from churnlab.data.contract import TABLES

__all__ = ["save_dataset", "read_dataset", "SavedTables", "write_parquet", "write_key", "read_key"]


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_key(path: Path, key: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(key, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_key(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- the dataset -----------------------------------------------------------------------------
def save_dataset(dataset: Dataset, folder: str | Path, written: Sequence[str] = ()) -> None:
    """Write a :class:`~churnlab.data.loading.Dataset` to ``folder``: one Parquet file per table, the
    quarantine, missing counts and row accounting (``_accounting.parquet``), and ``dataset.json``
    (source, fingerprint, as-of date, tables, warnings),
    written last so that a folder with ``dataset.json`` is complete. ``written``: tables already
    in the folder as ``<table>.parquet`` (``churnlab.data.chunked`` writes them chunk by chunk)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in dataset.tables.items():
        if name not in written:
            write_parquet(frame, folder / f"{name}.parquet")
    write_parquet(dataset.quarantine, folder / "_quarantine.parquet")
    write_parquet(dataset.missing, folder / "_missing.parquet")
    write_parquet(dataset.accounting, folder / "_accounting.parquet")
    write_key(folder / "dataset.json", {
        "warnings": list(dataset.warnings),
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
        meta = read_key(self._folder / "dataset.json")
        if meta is None or meta["fingerprint"] != self._fingerprint:
            raise RuntimeError(f"the saved data in {self._folder} was replaced since it was opened: "
                               "open it again (churnlab.report.handoff.open_data)")
        return self._folder / f"{name}.parquet"

    def rows(self, name: str) -> int:
        """The table's row count, from its file's footer (the table is not read)."""
        if name in self._frames:
            return len(self._frames[name])
        return pq.ParquetFile(self.file(name)).metadata.num_rows

    def __contains__(self, name: object) -> bool:
        # Mapping's own test reads the table to see whether it is there
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_dataset(folder: str | Path, lazy: bool = False) -> Dataset:
    """The :class:`~churnlab.data.loading.Dataset` :func:`save_dataset` wrote, as it was (not validated
    again); ``lazy``: each table is read when first used (:class:`SavedTables`)."""
    folder = Path(folder)
    meta = read_key(folder / "dataset.json")
    if meta is None:
        raise FileNotFoundError(f"{folder} holds no saved dataset (no readable dataset.json)")
    tables = SavedTables(folder, meta["tables"], meta["fingerprint"])
    if not lazy:
        tables = {name: tables[name] for name in meta["tables"]}
    accounting = folder / "_accounting.parquet"  # absent from a folder saved before it was kept
    return Dataset(tables=tables, quarantine=pd.read_parquet(folder / "_quarantine.parquet"),
                   missing=pd.read_parquet(folder / "_missing.parquet"), source=meta["source"],
                   fingerprint=meta["fingerprint"],
                   as_of=None if meta["as_of"] is None else pd.Timestamp(meta["as_of"]),
                   accounting=pd.read_parquet(accounting) if accounting.is_file() else empty_accounting(),
                   warnings=list(meta.get("warnings", [])))
