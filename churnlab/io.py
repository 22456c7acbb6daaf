"""Reading a data source and returning a validated, point-in-time dataset.

A source is a folder of ``<table>.parquet`` / ``<table>.csv`` files, a DuckDB file
(``.duckdb`` / ``.db``) or a database URL (``churnlab.sql``) whose tables carry the contract
names (see ``docs/data-contract.md``).
``load_data`` reads it, validates it with ``churnlab.schema`` and, given an as-of date,
keeps only what was known on that date.

>>> ds = load_data("data/demo", as_of="2024-06-30")          # doctest: +SKIP
>>> ds["customers"].head()                                     # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from churnlab.sql import is_database_url, read_database, redact
from churnlab.schema import (
    TABLES, DataContractError, Violation, missing_values, quarantine_summary, validate_tables,
)

__all__ = ["Dataset", "read_tables", "load_data", "dataset_from_frames", "fingerprint"]

DUCKDB_SUFFIXES = (".duckdb", ".db")

#: The column that dates each row: rows dated after the as-of date are dropped.
ROW_TIME: dict[str, str] = {
    "customers": "signup_date",
    "subscriptions": "start_date",
    "usage_events": "ts",
    "support_tickets": "opened_at",
    "surveys": "responded_at",
    "invoices": "issued_at",
    "touchpoints": "ts",
    "advocacy": "ts",
    "interventions": "ts",
}

#: Columns recording something that happens later in a row's life: set back to null when
#: after the as-of date, together with the columns only known from that moment on.
LATER_EVENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {"churn_date": ("churn_reason",)},
    "subscriptions": {"end_date": ()},
    "support_tickets": {"closed_at": ("csat", "reopened")},
    "invoices": {"paid_at": ()},
}


@dataclass(frozen=True)
class Dataset:
    """Validated tables of one source, as known on ``as_of`` (all of it when ``as_of`` is None).

    ``tables``: typed frames by contract name (only the tables present).
    ``quarantine``/``missing``: as in ``churnlab.schema.ValidationResult``.
    ``source``: where the data came from; ``fingerprint``: sha256 of the input files.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    missing: pd.DataFrame
    source: str
    fingerprint: str
    as_of: pd.Timestamp | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            have = ", ".join(self.tables) or "none"
            raise KeyError(f"{self.source} has no {name!r} table (tables: {have})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def table(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the source does not have it."""
        return self.tables.get(name)

    def summary(self) -> pd.DataFrame:
        """Quarantined rows counted by table and rule (columns table, rule, count)."""
        return quarantine_summary(self.quarantine)


def _check_source(source) -> Path:
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"data source {str(source)!r} does not exist: give a folder of <table>.parquet or "
            f"<table>.csv files, a DuckDB file ({', '.join(DUCKDB_SUFFIXES)}) or a database URL "
            f"such as postgresql://user@host:5432/dbname")
    if path.is_file() and path.suffix.lower() not in DUCKDB_SUFFIXES:
        raise ValueError(f"data source {str(source)!r} is a file but not a DuckDB file "
                         f"({', '.join(DUCKDB_SUFFIXES)}); give its folder instead")
    return path


def _contract_files(folder: Path) -> dict[str, Path]:
    """Contract table name -> file; parquet wins when a table has both."""
    found = {}
    for name in TABLES:
        for suffix in (".parquet", ".csv"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def read_tables(source, as_of=None) -> dict[str, pd.DataFrame]:
    """Read the contract tables of ``source`` as they are (CSV columns as text).

    Files and tables with other names are ignored. Raises ``FileNotFoundError`` when the
    source does not exist and ``DataContractError`` when it has no customers table.
    A database URL is read by ``churnlab.sql.read_database``, which reads only the rows up to
    ``as_of`` (files are read whole; ``as_of`` does not apply to them).
    """
    if is_database_url(source):
        return read_database(source, as_of=as_of, row_time=ROW_TIME)
    path = _check_source(source)
    if path.is_dir():
        tables = {}
        for name, file in _contract_files(path).items():
            if file.suffix == ".parquet":
                tables[name] = pd.read_parquet(file)
            else:
                tables[name] = pd.read_csv(file, dtype=str, keep_default_na=True)
        found = sorted(p.name for p in path.iterdir() if p.is_file())
    else:
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            names = sorted(row[0] for row in con.execute("SHOW TABLES").fetchall())
            tables = {name: con.execute(f'SELECT * FROM "{name}"').df()
                      for name in TABLES if name in names}
        found = names
    if "customers" not in tables:
        text = (f"customers: the required customers table is missing from {source} (missing_table); "
                f"found: {', '.join(found) or 'nothing'}")
        raise DataContractError([Violation("customers", None, "missing_table", 0, [], text)])
    return tables


def fingerprint(source) -> str:
    """sha256 (hex) of the contract files' names and bytes, in name order (or the DuckDB file)."""
    path = _check_source(source)
    files = [path] if path.is_file() else sorted(_contract_files(path).values(), key=lambda p: p.name)
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _as_timestamp(as_of) -> pd.Timestamp | None:
    if as_of is None:
        return None
    stamp = pd.Timestamp(as_of)  # str, date, datetime or Timestamp
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()


def point_in_time(tables: dict[str, pd.DataFrame], as_of) -> dict[str, pd.DataFrame]:
    """The tables as known at the end of the ``as_of`` day (UTC).

    Rows dated on a later day are dropped (customers by signup_date, tickets by opened_at, ...;
    see ``ROW_TIME``); later events inside a kept row (churn_date, end_date, closed_at,
    paid_at) are set back to null together with what is only known from then on
    (churn_reason; a ticket's csat and reopened). An invoice paid after the as-of date is
    unpaid on it: its status becomes ``late`` when due on or before the as-of date, else null.
    Rows of customers not yet signed up are dropped from every table.
    """
    as_of = _as_timestamp(as_of)
    end = as_of + pd.Timedelta(days=1)  # the whole as-of day counts
    out = {}
    for name, frame in tables.items():
        frame = frame.loc[~(frame[ROW_TIME[name]] >= end)].copy()  # rows with no time stay
        for column, known_later in LATER_EVENTS.get(name, {}).items():
            later = frame[column] >= end
            if name == "invoices" and "status" in frame:
                due = frame["due_at"] < end
                frame["status"] = frame["status"].mask(later, None)
                frame.loc[later & due, "status"] = "late"
            frame[column] = frame[column].mask(later)
            for col in known_later:
                frame[col] = frame[col].mask(later)
        out[name] = frame
    customers = set(out["customers"]["customer_id"])
    for name, frame in out.items():
        if name != "customers":
            out[name] = frame.loc[frame["customer_id"].isin(customers)]
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}


def load_data(source, as_of=None,
              on_row_error: Literal["quarantine", "reject"] = "quarantine") -> Dataset:
    """Read ``source``, validate it against the data contract and cut it at ``as_of``.

    ``as_of``: a date (``str``, ``date`` or ``Timestamp``); None keeps everything. Rows dated
    after it never reach the tables (see ``point_in_time``); ``missing`` counts the kept rows.
    The quarantine lists every rejected input row, whatever its date: it describes the input.
    ``on_row_error``: ``"quarantine"`` sets row-level problems aside, ``"reject"`` raises.
    Raises ``DataContractError`` (every structural problem at once) or ``FileNotFoundError``.
    """
    stamp = _as_timestamp(as_of)
    raw = read_tables(source, as_of=stamp)
    result = validate_tables(raw, on_row_error=on_row_error)
    tables = result.tables if stamp is None else point_in_time(result.tables, stamp)
    if is_database_url(source):  # a database has no files to hash: hash what was read
        name, digest = redact(source), _frames_fingerprint(raw)
    else:
        name, digest = str(source), fingerprint(source)
    return Dataset(tables=tables, quarantine=result.quarantine, missing=missing_values(tables),
                   source=name, fingerprint=digest, as_of=stamp)


def dataset_from_frames(raw: dict[str, pd.DataFrame], as_of=None,
                        on_row_error: Literal["quarantine", "reject"] = "quarantine") -> Dataset:
    """Validate in-memory frames (contract table name -> DataFrame) into a ``Dataset``.

    The same checks and point-in-time cut as ``load_data``; ``source`` is ``"in-memory"`` and
    the fingerprint hashes the frames' contents.
    """
    result = validate_tables(raw, on_row_error=on_row_error)
    stamp = _as_timestamp(as_of)
    tables = result.tables if stamp is None else point_in_time(result.tables, stamp)
    return Dataset(tables=tables, quarantine=result.quarantine, missing=missing_values(tables),
                   source="in-memory", fingerprint=_frames_fingerprint(raw), as_of=stamp)


def _frames_fingerprint(raw: dict[str, pd.DataFrame]) -> str:
    """sha256 (hex) of each table's name and pandas' row hashes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(raw):
        digest.update(name.encode() + b"\0")
        digest.update(pd.util.hash_pandas_object(raw[name], index=False).to_numpy().tobytes())
    return digest.hexdigest()
