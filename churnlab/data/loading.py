"""Reading a data source and returning a validated, point-in-time dataset.

A source is a folder of ``<table>.parquet`` / ``<table>.csv`` files, a single such file (a
one-table source named by its stem), a DuckDB file (``.duckdb`` / ``.db``) or a database URL
(``churnlab.data.sql``) whose tables carry the contract names (see ``docs/data-contract.md``) or,
given a mapping (:class:`~churnlab.settings.MappingSettings`, applied by ``churnlab.data.mapping``),
names and columns of its own (files only, for now). ``load_data`` reads it, validates it with
``churnlab.data.validation`` and, given an as-of date, keeps only what was known on that date.

>>> ds = load_data("data/demo", as_of="2024-06-30")          # doctest: +SKIP
>>> ds["customers"].head()                                     # doctest: +SKIP
"""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Literal

import numpy as np
import pandas as pd

from churnlab.data.column_types import NUMERIC_SHARE
from churnlab.data.mapping import MappedTables, MappingError, apply_mapping, resolve_sources, type_extra_columns
from churnlab.data.contract import CONTRACT, TABLES, DataContractError, Violation, empty_quarantine, quarantine_summary
from churnlab.data.validation import missing_values, utc_offsets, validate_tables
from churnlab.settings import MappingSettings
from churnlab.data.sql import is_database_url, read_database, redact

__all__ = [
    "Dataset", "read_tables", "load_data", "dataset_from_frames", "fingerprint", "point_in_time", "cut_table",
    "as_of_date", "source_path", "contract_files", "quiet_duckdb", "ACCOUNTING_COLUMNS", "STALE_DAYS",
    "empty_accounting", "row_accounting", "offset_warnings", "stale_warning", "newest_row",
]

DUCKDB_SUFFIXES = (".duckdb", ".db")
FILE_SUFFIXES = (".parquet", ".csv")
#: delimited text read as CSV is (a .tsv separated by tabs); given as --data, or in a folder read with a mapping
TEXT_SUFFIXES = (".txt", ".tsv")
#: Read with a mapping only (it names the sheet and says what the columns are).
WORKBOOK_SUFFIXES = (".xlsx",)

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


#: The columns of ``Dataset.accounting``: per table, where every input row went.
ACCOUNTING_COLUMNS = ["table", "input_rows", "kept", "quarantined", "not_yet_customers", "after_as_of"]

#: An as-of date more than this many days after the newest dated row of the tables other than
#: customers gets a warning: the export may be stale.
STALE_DAYS = 60


def empty_accounting() -> pd.DataFrame:
    """An accounting (``ACCOUNTING_COLUMNS``) with no rows: table as object, the counts int64."""
    return pd.DataFrame({c: pd.Series(dtype=object if c == "table" else "int64") for c in ACCOUNTING_COLUMNS})


@dataclass(frozen=True)
class Dataset:
    """Validated tables of one source, as known on ``as_of`` (all of it when ``as_of`` is None).

    ``tables``: typed frames by contract name (only the tables present).
    ``quarantine``/``missing``: as in ``churnlab.data.contract.ValidationResult``; with a mapping,
    the quarantine also holds the rows the mapping set aside and ``row`` numbers the source
    table's data rows, and ``missing`` also counts empty cells of the extra customer columns.
    ``source``: where the data came from; ``fingerprint``: sha256 of the input files.
    ``accounting``: where every input row went, one row per table read (``ACCOUNTING_COLUMNS``):
    ``input_rows`` = ``kept`` (in ``tables``) + ``quarantined`` (in ``quarantine``) +
    ``not_yet_customers`` (rows of customers who signed up after the as-of date, and on
    customers those customers themselves) + ``after_as_of`` (rows dated after the as-of date,
    cut by the point-in-time view). A database source is read only up to the as-of date (and a
    day), so its later rows are neither read nor counted.
    ``warnings``: what the user must see although nothing broke the contract (timestamps with a
    UTC offset converted to UTC, an as-of date far after the newest data), one sentence each.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    missing: pd.DataFrame
    source: str
    fingerprint: str
    as_of: pd.Timestamp | None = None
    accounting: pd.DataFrame = field(default_factory=empty_accounting)
    warnings: list[str] = field(default_factory=list)
    #: who counts as active (``models.churn``, ``models.inactivity_days`` of the run's settings):
    #: the feature engine applies it when not told otherwise (None: contract; days None: from the data)
    churn: str | None = None
    inactivity_days: int | None = None
    #: a purchase log's buy-till-you-die horizons from the run's settings: ``horizon_days`` (expected
    #: purchases), ``value_months`` and ``annual_discount_rate`` (expected spend); empty: 90 days,
    #: 12 months, 10% a year
    btyd: dict = field(default_factory=dict)

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

    def file(self, name: str) -> Path | None:
        """The Parquet file the table is read from when it lives on disk (a dataset kept by
        ``churnlab.report.handoff`` or validated by ``churnlab.data.chunked``), else None. Large tables are
        best read from it with DuckDB (``churnlab.features.engine.connect`` does) than as one frame."""
        locate = getattr(self.tables, "file", None)
        return locate(name) if locate is not None and name in self.tables else None

    def rows(self, name: str) -> int:
        """The table's row count, without reading a table that lives on disk."""
        count = getattr(self.tables, "rows", None)
        return count(name) if count is not None else len(self.tables[name])

    def summary(self) -> pd.DataFrame:
        """Quarantined rows counted by table and rule (columns table, rule, count)."""
        return quarantine_summary(self.quarantine)


def quiet_duckdb():
    """An in-memory DuckDB connection that prints no progress bar (it would land in notebooks
    and logs)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        # inside Jupyter DuckDB refuses the setting without ipywidgets; the bar is off there already
        pass
    return con


def source_path(source) -> Path:
    """The path of a file source (a folder, a ``.parquet`` / ``.csv`` table or a DuckDB file).

    Raises ``FileNotFoundError`` when it does not exist and ``ValueError`` when it is a file
    of another kind, each saying what a source can be.
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"data source {str(source)!r} does not exist: give a folder of <table>.parquet or "
            f"<table>.csv files, one such file, a DuckDB file ({', '.join(DUCKDB_SUFFIXES)}) or a "
            f"database URL such as postgresql://user@host:5432/dbname")
    if path.is_file() and path.suffix.lower() in WORKBOOK_SUFFIXES:
        return path
    if path.is_file() and path.suffix.lower() not in DUCKDB_SUFFIXES + FILE_SUFFIXES + TEXT_SUFFIXES:
        raise ValueError(f"data source {str(source)!r} is neither a DuckDB file "
                         f"({', '.join(DUCKDB_SUFFIXES)}) nor a .parquet, .csv, .txt, .tsv or .xlsx table")
    return path


def _source_files(path: Path, workbooks: bool = False) -> dict[str, Path]:
    """Table name -> file of a folder or single-file source; parquet wins over csv, csv over
    xlsx (``workbooks``: read with a mapping only)."""
    if path.is_file():
        return {path.stem: path}
    suffixes = FILE_SUFFIXES + ((*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES) if workbooks else ())
    rank = {s: i for i, s in enumerate((".parquet", ".csv", *TEXT_SUFFIXES, *WORKBOOK_SUFFIXES))}
    found: dict[str, Path] = {}
    for file in sorted(path.iterdir()):
        suffix = file.suffix.lower()
        if file.is_file() and suffix in suffixes and not file.name.startswith("~$"):  # ~$: Excel's lock file
            if file.stem not in found or rank[suffix] < rank[found[file.stem].suffix.lower()]:
                found[file.stem] = file
    return found


def _read_file(file: Path, options: dict | None = None, entries: str = "") -> pd.DataFrame:
    """One source file as a frame (CSV and xlsx cells as text). ``options`` are a mapping's
    ``encoding``, ``separator`` and ``sheet`` for it; ``entries`` names the mapping entries that
    set them, for messages."""
    options = options or {}
    suffix = file.suffix.lower()
    text = {"encoding", "separator", "column_names"}
    allowed = {".csv": text, ".txt": text, ".tsv": text, ".xlsx": {"sheet"}}.get(suffix, set())
    wrong = sorted(set(options) - allowed)
    if wrong:
        kind = {".parquet": "a Parquet file", ".xlsx": "an .xlsx workbook"}.get(suffix, "a CSV file")
        fits = {"encoding": "CSV files", "separator": "CSV files", "column_names": "CSV files",
                "sheet": ".xlsx workbooks"}
        raise MappingError(f"mapping {entries}{wrong[0]}: {file.name} is {kind}, and {wrong[0]} applies to "
                           f"{fits[wrong[0]]} only; remove it")
    if suffix == ".parquet":
        return pd.read_parquet(file)
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(file, options.get("sheet"), entries)
    encoding = options.get("encoding") or "utf-8"
    separator = options.get("separator") or ("\t" if suffix == ".tsv" else ",")
    names = options.get("column_names")
    try:
        # without a header row the mapping names the columns and the first line is data
        frame = pd.read_csv(file, dtype=str, keep_default_na=True, encoding=encoding,
                            sep=r"\s+" if separator == "whitespace" else separator,
                            **({"header": None, "names": list(names)} if names else {}))
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{file.name} is not {encoding} text (it holds the byte {exc.object[exc.start]:#04x}, which {encoding} "
            "does not allow there); "
            f"set its encoding in the mapping, {entries or 'tables.<table>.'}encoding: latin-1 (or cp1252, "
            "utf-16, ...)") from None
    if names and not isinstance(frame.index, pd.RangeIndex):  # pandas made the surplus columns an index
        raise MappingError(f"{file.name}: its lines hold more columns than the {len(names)} of "
                           f"{entries or 'tables.<table>.'}column_names ({', '.join(map(str, names))}); name them all")
    if "separator" not in options and len(frame.columns) == 1 and ";" in str(frame.columns[0]):
        raise MappingError(f"{file.name} reads as one column {str(frame.columns[0])[:60]!r}: it looks separated by "
                           f"';'; set {entries or 'tables.<table>.'}separator: ';' in the mapping")
    if "separator" not in options and len(frame.columns) == 1 and " " in str(frame.columns[0]).strip():
        raise MappingError(f"{file.name} reads as one column {str(frame.columns[0])[:60]!r}: its columns look "
                           f"lined up by blanks; set {entries or 'tables.<table>.'}separator: whitespace in the mapping")
    return frame


def _read_workbook(file: Path, sheet, entries: str) -> pd.DataFrame:
    """One sheet of an .xlsx workbook (openpyxl), every cell as text as a CSV's are; dates and
    date-times as ISO text. An unknown sheet is an error naming the sheets there are."""
    import openpyxl

    with open(file, "rb") as fh:
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            names = book.sheetnames
        finally:
            book.close()
    if sheet is None:
        sheet = 0
    if (isinstance(sheet, int) and not 0 <= sheet < len(names)) or (isinstance(sheet, str) and sheet not in names):
        raise MappingError(f"mapping {entries}sheet: {file.name} has no sheet {sheet!r}; its sheets are: "
                           f"{', '.join(names)} (by name, or by 0-based position)")
    frame = pd.read_excel(file, sheet_name=sheet, engine="openpyxl", dtype=object)
    return frame.apply(_cells_as_text)


def _cells_as_text(column: pd.Series) -> pd.Series:
    """An Excel column's cells as the text a CSV export would hold: whole numbers without ".0",
    dates as ISO text, blanks missing."""
    def text(value):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, (datetime.date, np.datetime64)):  # datetime and pandas' Timestamp too
            stamp = pd.Timestamp(value)
            return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()
        return value.isoformat() if isinstance(value, datetime.time) else str(value)

    return column.map(text).astype(object)


def _read_options(mapping: MappingSettings | None, names: list[str]) -> dict[str, tuple[dict, str]]:
    """Source table -> (the read options of the mapping entries that read it, those entries'
    prefix for messages). Two entries reading one file must agree."""
    if mapping is None:
        return {}
    sources = resolve_sources(mapping, names)
    out: dict[str, tuple[dict, str]] = {}
    for table, tm in mapping.tables.items():
        if table not in sources:  # built from another table's events
            continue
        name, options = sources[table], tm.read_options()
        if name in out and out[name][0] != options:
            raise MappingError(f"mapping tables.{table} and {out[name][1].rstrip('.')} both read {name!r} but say "
                               f"differently how (encoding, separator, sheet): {options} and {out[name][0]}; "
                               "give both the same")
        out.setdefault(name, (options, f"tables.{table}."))
    return out


def _read_source(path: Path, mapping: MappingSettings | None,
                 exclude: frozenset[str] = frozenset()) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The tables a load needs, by their source names, and every table name the source has.

    Without a mapping these are the contract tables; with one, the tables the mapping names plus
    the contract tables it leaves alone, read as its ``encoding``, ``separator`` and ``sheet`` say.
    """
    if path.suffix.lower() in DUCKDB_SUFFIXES and path.is_file():
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            names = sorted(row[0] for row in con.execute("SHOW TABLES").fetchall())
            for name, (options, entries) in _read_options(mapping, names).items():
                if options:
                    raise MappingError(f"mapping {entries}{min(options)}: {name} is a table of the DuckDB "
                                       f"file {path.name}, not a CSV file or workbook; remove it")
            wanted = _wanted(names, mapping)
            return {name: con.execute(f'SELECT * FROM "{name}"').df() for name in wanted}, names
    if path.is_file() and path.suffix.lower() in WORKBOOK_SUFFIXES and mapping is None:
        raise ValueError(f"data source {str(path)!r} is an .xlsx workbook: give a mapping (--mapping) that names "
                         "its sheet and columns; see the README, 'Your own data: mappings'")
    files = _source_files(path, workbooks=mapping is not None)
    names = sorted(files)
    options = _read_options(mapping, names)
    return ({name: _read_file(files[name], *options.get(name, ({}, "")))
             for name in _wanted(names, mapping) if name not in exclude},
            [files[n].name for n in names])


def _wanted(names: list[str], mapping: MappingSettings | None) -> list[str]:
    wanted = [t for t in TABLES if t in names]
    if mapping is not None:
        wanted += [n for n in resolve_sources(mapping, names).values() if n not in wanted]
    return wanted


def contract_files(folder: Path) -> dict[str, Path]:
    """The contract tables of a folder source: table name -> file, in contract order; parquet
    wins when a table has both. Files of other names are left out."""
    found = {}
    for name in TABLES:
        for suffix in (".parquet", ".csv"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def _mapped(source, mapping: MappingSettings | None, as_of, exclude: frozenset[str] = frozenset(),
            numeric_share: float = NUMERIC_SHARE) -> tuple[MappedTables, list[str]]:
    if is_database_url(source):
        if mapping is not None:
            raise ValueError("a mapping applies to files and DuckDB files; a database URL must carry the "
                             "contract's table and column names (a view per table does it)")
        # only the rows up to the as-of date are read, pushed down to the database
        raw = read_database(source, as_of=as_of, row_time=ROW_TIME)
        found = sorted(raw)
    else:
        raw, found = _read_source(source_path(source), mapping, exclude)
    if mapping is None:
        # extra customers columns are typed as a mapping types them: a stray '?' in a column of
        # numbers sets its row aside rather than turning the column into text
        typed = {name: type_extra_columns(name, raw[name], numeric_share) for name in TABLES if name in raw}
        tables = {name: frame for name, (frame, _, _) in typed.items()}
        parts = [q for _, _, q in typed.values() if len(q)]
        mapped = MappedTables(tables, pd.concat(parts, ignore_index=True) if parts else empty_quarantine(),
                              {name: rows for name, (_, rows, _) in typed.items()}, {t: t for t in tables})
    else:
        mapped = apply_mapping(raw, mapping, as_of=as_of_date(as_of), numeric_share=numeric_share)
    if "customers" not in mapped.tables:
        shown = redact(source) if is_database_url(source) else source
        text = (f"customers: the required customers table is missing from {shown} (missing_table); "
                f"found: {', '.join(found) or 'nothing'}")
        if mapping is None:
            text += ("; a source with its own table and column names needs a mapping (--mapping, or "
                     "mapping: in the settings; see the README, 'Your own data: mappings')")
        raise DataContractError([Violation("customers", None, "missing_table", 0, [], text)])
    return mapped, found


def read_tables(source, mapping: MappingSettings | None = None, as_of=None) -> dict[str, pd.DataFrame]:
    """Read the contract tables of ``source`` as they are (CSV columns as text).

    Files and tables with other names are ignored. With a ``mapping`` the source's own tables
    are mapped onto contract tables (see ``churnlab.data.mapping``; ``as_of`` is needed for tenure and
    churn flags); the rows it sets aside are in ``load_data``'s quarantine, not here. A database
    URL is read by ``churnlab.data.sql.read_database``, only the rows up to ``as_of`` (files are read
    whole).
    Raises ``FileNotFoundError`` when the source does not exist, ``MappingError`` when the
    mapping does not fit it and ``DataContractError`` when it has no customers table.
    """
    return _mapped(source, mapping, as_of)[0].tables


def fingerprint(source, mapping: MappingSettings | None = None) -> str:
    """sha256 (hex) of the contract files' names and bytes, in name order (or the DuckDB or
    single file); with a mapping, of the files it reads."""
    path = source_path(source)
    if path.is_file():
        files = [path]
    elif mapping is None:
        files = sorted(contract_files(path).values(), key=lambda p: p.name)
    else:
        available = _source_files(path, workbooks=True)
        names = set(_wanted(sorted(available), mapping))
        files = sorted((f for n, f in available.items() if n in names), key=lambda p: p.name)
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def as_of_date(as_of) -> pd.Timestamp | None:
    """``as_of`` (``str``, ``date``, ``datetime`` or ``Timestamp``) as the naive-UTC midnight of
    its day, as datasets carry it; None stays None."""
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
    end = as_of_date(as_of) + pd.Timedelta(days=1)  # the whole as-of day counts
    out = {name: _known_rows(name, frame, end) for name, frame in tables.items()}
    customers = set(out["customers"]["customer_id"])
    for name, frame in out.items():
        if name != "customers":
            out[name] = frame.loc[frame["customer_id"].isin(customers)]
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}


def cut_table(name: str, frame: pd.DataFrame, as_of, customer_ids=None) -> pd.DataFrame:
    """One non-customers table (or a chunk of it) as ``point_in_time`` cuts it, given the ids
    of the customers signed up by ``as_of`` (None: every customer the rows name had signed up;
    ``churnlab.data.chunked`` cuts chunk by chunk)."""
    frame = _known_rows(name, frame, as_of_date(as_of) + pd.Timedelta(days=1))
    if customer_ids is not None:
        frame = frame.loc[frame["customer_id"].isin(customer_ids)]
    return frame.reset_index(drop=True)


def _known_rows(name: str, frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The rows of one table dated before ``end``, later events inside them set back to null."""
    after = frame[ROW_TIME[name]] >= end  # rows with no time stay
    # a copy only when something changes (a chunk of a large table often has nothing to cut)
    frame = frame.loc[~after].copy() if after.any() else frame.copy(deep=False)
    for column, known_later in LATER_EVENTS.get(name, {}).items():
        later = frame[column] >= end
        if not later.any():
            continue
        if name == "invoices" and "status" in frame:
            due = frame["due_at"] < end
            frame["status"] = frame["status"].mask(later, None)
            frame.loc[later & due, "status"] = "late"
        frame[column] = frame[column].mask(later)
        for col in known_later:
            # None, not NaN, in text columns: as a missing value read from any file is
            frame[col] = frame[col].mask(later, None) if frame[col].dtype == object else frame[col].mask(later)
    return frame


def row_accounting(input_rows: dict[str, int], validated: dict[str, pd.DataFrame],
                   tables: dict[str, pd.DataFrame], quarantine: pd.DataFrame, as_of) -> pd.DataFrame:
    """``Dataset.accounting`` of tables read in memory: ``input_rows`` by table (as read),
    ``validated`` (quarantined rows removed, not yet cut), ``tables`` (cut at ``as_of`` by
    :func:`point_in_time`, or ``validated`` when ``as_of`` is None) and the ``quarantine``."""
    quarantined = quarantine["table"].value_counts()
    end = None if as_of is None else as_of_date(as_of) + pd.Timedelta(days=1)
    records = []
    for name in [t for t in TABLES if t in input_rows]:
        kept = len(tables[name]) if name in tables else 0
        cut = (len(validated[name]) if name in validated else 0) - kept
        after = 0 if end is None or name not in validated else int((validated[name][ROW_TIME[name]] >= end).sum())
        if name == "customers":  # a customer signed up after the as-of date is not yet one
            after = 0
        records.append({"table": name, "input_rows": int(input_rows[name]), "kept": kept,
                        "quarantined": int(quarantined.get(name, 0)), "not_yet_customers": cut - after,
                        "after_as_of": after})
    return pd.DataFrame.from_records(records, columns=ACCOUNTING_COLUMNS).astype(
        {c: "int64" for c in ACCOUNTING_COLUMNS[1:]}) if records else empty_accounting()


def offset_warnings(offsets: list[tuple[str, str, int, str]]) -> list[str]:
    """The warnings of timestamps converted to UTC: ``offsets`` as (table, column, count, example)."""
    return [f"{table}.{column}: {count:,} value{'s' if count != 1 else ''} with a UTC offset (e.g. {example}) "
            f"{'were' if count != 1 else 'was'} converted to UTC, as the data contract says"
            for table, column, count, example in offsets]


def newest_row(name: str, frame: pd.DataFrame) -> pd.Timestamp | None:
    """The latest row time (``ROW_TIME``) of one table, None when it has none."""
    newest = frame[ROW_TIME[name]].max() if len(frame) else pd.NaT
    return None if pd.isna(newest) else pd.Timestamp(newest)


def stale_warning(newest: list[pd.Timestamp | None], as_of) -> list[str]:
    """A warning when ``as_of`` is more than ``STALE_DAYS`` after the latest of ``newest`` (the
    newest row of each table other than customers); no warning without such rows or as-of date."""
    dates = [d for d in newest if d is not None]
    if as_of is None or not dates:
        return []
    latest = max(dates).normalize()
    days = (as_of_date(as_of) - latest).days
    if days <= STALE_DAYS:
        return []
    return [f"the newest data is from {latest:%Y-%m-%d}, {days} days before the as-of date "
            f"{as_of_date(as_of):%Y-%m-%d}: is the export current?"]


def load_data(source, as_of=None,
              on_row_error: Literal["quarantine", "reject"] = "quarantine",
              mapping: MappingSettings | None = None, exclude: Collection[str] = (),
              numeric_share: float = NUMERIC_SHARE) -> Dataset:
    """Read ``source``, validate it against the data contract and cut it at ``as_of``.

    ``as_of``: a date (``str``, ``date`` or ``Timestamp``); None keeps everything. Rows dated
    after it never reach the tables (see ``point_in_time``); ``missing`` counts the kept rows.
    The quarantine lists every rejected input row, whatever its date: it describes the input.
    ``on_row_error``: ``"quarantine"`` sets row-level problems aside, ``"reject"`` raises.
    ``mapping``: how the source's own tables and columns become contract tables (the settings'
    ``mapping``; see ``churnlab.data.mapping``); its dirty cells join the quarantine.
    ``exclude``: tables of a folder source left unread (``churnlab.data.chunked`` validates them in
    chunks); the fingerprint still covers their files.
    ``numeric_share``: an extra customers column whose filled cells are numbers in at least this
    share is read as numbers and the rows of its other cells quarantined (``not_a_number``); the
    settings' ``validation.numeric_share`` (see ``churnlab.data.column_types``).
    Raises ``DataContractError`` (every structural problem at once), ``MappingError`` or
    ``FileNotFoundError``.
    """
    stamp = as_of_date(as_of)
    if exclude and (mapping is not None or is_database_url(source) or not source_path(source).is_dir()):
        raise ValueError("exclude applies to a folder of contract tables read without a mapping")
    mapped, _ = _mapped(source, mapping, stamp, frozenset(exclude), numeric_share)
    if on_row_error == "reject" and len(mapped.quarantine):
        raise DataContractError(_mapping_violations(mapped.quarantine))
    result = validate_tables(mapped.tables, on_row_error=on_row_error)
    tables = result.tables if stamp is None else point_in_time(result.tables, stamp)
    renumber = mapping is not None or len(mapped.quarantine)
    quarantine = _source_rows(result.quarantine, mapped) if renumber else result.quarantine
    set_aside = mapped.quarantine["table"].value_counts()
    input_rows = {t: len(f) + int(set_aside.get(t, 0)) for t, f in mapped.tables.items() if t in CONTRACT}
    accounting = row_accounting(input_rows, result.tables, tables, quarantine, stamp)
    warnings = _warnings(mapped.tables, tables, stamp)
    missing = missing_values(tables)
    if mapping is not None:
        missing = _with_extra_missing(missing, tables, mapping)
    if is_database_url(source):  # a database has no files to hash: hash what was read
        name, digest = redact(source), _frames_fingerprint(mapped.tables)
    else:
        name, digest = str(source), fingerprint(source, mapping)
    return Dataset(tables=tables, quarantine=quarantine, missing=missing,
                   source=name, fingerprint=digest, as_of=stamp, accounting=accounting, warnings=warnings)


def _warnings(raw: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], as_of) -> list[str]:
    """Offsets converted to UTC (in the input ``raw``), then a stale export (in the kept ``tables``)."""
    offsets = [(t, *found) for t in TABLES if t in raw for found in utc_offsets(t, raw[t])]
    newest = [newest_row(t, f) for t, f in tables.items() if t != "customers"]
    return offset_warnings(offsets) + stale_warning(newest, as_of)


def _source_rows(quarantine: pd.DataFrame, mapped: MappedTables) -> pd.DataFrame:
    """Validation's quarantine with ``row`` pointing at the source row, joined to the mapping's."""
    quarantine = quarantine.copy()
    for table, rows in mapped.rows.items():
        at = quarantine["table"] == table
        quarantine.loc[at, "row"] = rows[quarantine.loc[at, "row"].to_numpy(dtype="int64")]
    both = pd.concat([mapped.quarantine, quarantine], ignore_index=True) if len(mapped.quarantine) else quarantine
    both["row"] = both["row"].astype("int64")
    return both.sort_values(["table", "rule", "row"], kind="stable").reset_index(drop=True)


def _with_extra_missing(missing: pd.DataFrame, tables: dict[str, pd.DataFrame],
                        mapping: MappingSettings) -> pd.DataFrame:
    """Add the empty cells of extra customer columns a mapping brought in (TotalCharges blanks)."""
    if "customers" not in mapping.tables:
        return missing
    frame = tables["customers"]
    contract = {c.name for c in CONTRACT["customers"].columns}
    extra = [{"table": "customers", "column": c, "count": int(frame[c].isna().sum())}
             for c in frame.columns if c not in contract and frame[c].isna().any()]
    if not extra:
        return missing
    out = pd.concat([missing, pd.DataFrame.from_records(extra)], ignore_index=True)
    out["count"] = out["count"].astype("int64")
    return out.sort_values(["table", "column"], kind="stable").reset_index(drop=True)


def _mapping_violations(quarantine: pd.DataFrame) -> list[Violation]:
    """The mapping's quarantine as violations, for ``on_row_error="reject"``."""
    out = []
    for (table, rule, column), rows in quarantine.groupby(["table", "rule", "column"], sort=True):
        n = len(rows)
        listed = ", ".join(str(r) for r in rows["row"].head(5)) + (" ..." if n > 5 else "")
        text = (f"{table}.{column}: {n:,} source row{'s' if n != 1 else ''} set aside by the mapping "
                f"({rule}), e.g. {rows['reason'].iloc[0]}; source row{'s' if n != 1 else ''} {listed}")
        out.append(Violation(table, column, rule, n, [], text))
    return out


def dataset_from_frames(raw: dict[str, pd.DataFrame], as_of=None,
                        on_row_error: Literal["quarantine", "reject"] = "quarantine") -> Dataset:
    """Validate in-memory frames (contract table name -> DataFrame) into a ``Dataset``.

    The same checks and point-in-time cut as ``load_data``; ``source`` is ``"in-memory"`` and
    the fingerprint hashes the frames' contents.
    """
    result = validate_tables(raw, on_row_error=on_row_error)
    stamp = as_of_date(as_of)
    tables = result.tables if stamp is None else point_in_time(result.tables, stamp)
    contract = {t: f for t, f in raw.items() if t in CONTRACT}
    accounting = row_accounting({t: len(f) for t, f in contract.items()}, result.tables, tables,
                                result.quarantine, stamp)
    return Dataset(tables=tables, quarantine=result.quarantine, missing=missing_values(tables),
                   source="in-memory", fingerprint=_frames_fingerprint(raw), as_of=stamp,
                   accounting=accounting, warnings=_warnings(contract, tables, stamp))


def _frames_fingerprint(raw: dict[str, pd.DataFrame]) -> str:
    """sha256 (hex) of each table's name and pandas' row hashes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(raw):
        digest.update(name.encode() + b"\0")
        digest.update(pd.util.hash_pandas_object(raw[name], index=False).to_numpy().tobytes())
    return digest.hexdigest()
