"""Validating tables too large for memory, chunk by chunk, into Parquet.

The event log of a million customers (95 M usage rows) takes more than 20 GB as pandas frames,
so ``load_data`` cannot hold it (the kernel stopped a 1,000,000-customer run at 24 GB while it
validated). :func:`load_data_chunked` validates the same source into a folder instead: every
table with more than ``chunk_rows`` rows is read in chunks of that many rows and never held
whole; the others go through :func:`churnlab.data.loading.load_data` as before. The result is a folder
in the layout of :func:`churnlab.data.saved.save_dataset`, read back lazily, so a table is only
loaded when someone asks for it as a frame: the feature engine and the data-health summaries
read the Parquet files through DuckDB (``Dataset.file``).

A chunked table gets exactly the checks, quarantine and point-in-time cut of the in-memory path
(a test compares the two on the same data), in three steps:

1. each chunk, whose index numbers its input rows, runs both pandera schemas of
   :func:`churnlab.data.validation.check_table` except the checks that compare rows with each other;
   its row-level problems are quarantined, each typed row is hashed (pandas' row hash: of the
   id column, or of the whole row), and the rest, cut at the as-of date
   (:func:`churnlab.data.loading.cut_table`), is appended to one Parquet file;
2. the cross-row checks: the rows whose hash another row shares are read again, typed and
   compared exactly, so an id shared by several rows (``duplicate_id``) or a row repeating an
   earlier one (``duplicate_row``) is found across chunks, and a hash collision is never taken
   for a duplicate. A duplicate row takes precedence over the rules after ``duplicate_row`` in
   ``ROW_RULES``, as in memory;
3. the kept rows are streamed into ``<table>.parquet`` without the duplicates.

Structural problems of every chunk are gathered and reported once per rule
(:func:`churnlab.data.messages.merge_violations`); the records of duplicate rows are read back from the
input by row number. One difference to the in-memory path: the chunked tables are validated only
once the others (customers first) pass, since their ``customer_id`` is checked against the
validated customers, so a structural problem there is reported after the others are fixed.

:func:`open_source` is the one way in that decides between the two paths: given a folder to
write to, the tables too large for memory are validated here, else everything is loaded in memory.
``churnlab validate`` and a run (``churnlab.report.handoff.open_data``) both open a source with it.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from churnlab.data.column_types import NUMERIC_SHARE
from churnlab.data.contract import (
    CONTRACT, QUARANTINE_COLUMNS, ROW_RULES, TABLES, DataContractError, Violation, empty_quarantine, is_orphan_table,
)
from churnlab.data.loading import (
    ACCOUNTING_COLUMNS, ROW_TIME, Dataset, as_of_date, contract_files, cut_table, load_data, newest_row,
    offset_warnings, point_in_time, quiet_duckdb, row_accounting, source_path, stale_warning,
)
from churnlab.data.messages import (
    input_records, merge_violations, orphan_violation, quarantine_frame, quarantine_reason, violation_at,
)
from churnlab.data.saved import read_dataset, save_dataset
from churnlab.data.sql import is_database_url
from churnlab.data.validation import (
    check_table, convert_table, missing_values, quarantine_rows, unknown_customers, utc_offsets, with_final_dtypes,
)
from churnlab.settings import Settings

__all__ = ["DEFAULT_CHUNK_ROWS", "open_source", "large_tables", "tables_to_chunk", "validate_in_chunks",
           "load_data_chunked", "read_chunks"]

#: Tables with more rows than this are validated in chunks of this many rows (about 1 GB of
#: pandas frames for the event log, a few times that while a chunk is checked).
DEFAULT_CHUNK_ROWS = 4_000_000

_ROW = "_row"


def read_chunks(file: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of one Parquet or CSV file as frames of at most ``chunk_rows`` rows, indexed by
    their 0-based input row number (CSV columns as text, as ``load_data`` reads them)."""
    offset = 0
    if file.suffix.lower() == ".parquet":
        batches = (b.to_pandas() for b in pq.ParquetFile(file).iter_batches(batch_size=chunk_rows))
    else:
        batches = pd.read_csv(file, dtype=str, keep_default_na=True, chunksize=chunk_rows)
    for frame in batches:
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        yield frame


def _rows_in(file: Path) -> int:
    """Rows of a Parquet file (from its footer) or of a CSV file (lines counted, header aside)."""
    if file.suffix.lower() == ".parquet":
        return pq.ParquetFile(file).metadata.num_rows
    with open(file, "rb") as fh:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1, 0)


def large_tables(source, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> dict[str, Path]:
    """The contract tables of a folder source with more than ``chunk_rows`` rows (never
    customers), by name; empty for any other kind of source."""
    path = source_path(source)
    if not path.is_dir():
        return {}
    return {name: file for name, file in contract_files(path).items()
            if name != "customers" and _rows_in(file) > chunk_rows}


def tables_to_chunk(source, chunk_rows: int = DEFAULT_CHUNK_ROWS, mapping=None) -> dict[str, Path]:
    """:func:`large_tables` where chunked validation can read them: a folder of contract files
    read without a mapping (a database or a mapped export is validated whole)."""
    if mapping is not None or is_database_url(source):
        return {}
    return large_tables(source, chunk_rows)


def _arrow_type(kind: str) -> pa.DataType:
    return {"text": pa.string(), "date": pa.timestamp("ns"), "timestamp": pa.timestamp("ns"),
            "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}[kind]


def _schema(table: str, frame: pd.DataFrame) -> pa.Schema:
    """The Arrow schema of a typed chunk: contract columns by their kind (so a chunk whose text
    column is all empty keeps the type), extra columns as pandas gives them (text when empty)."""
    kinds = {c.name: c.kind for c in CONTRACT[table].columns}
    pandas_meta = pa.Schema.from_pandas(frame, preserve_index=False).metadata  # nullable dtypes read back
    fields = []
    for name in frame.columns:
        if name in kinds:
            fields.append(pa.field(name, _arrow_type(kinds[name])))
        elif name == _ROW:
            fields.append(pa.field(name, pa.int64()))
        else:
            inferred = pa.Schema.from_pandas(frame[[name]], preserve_index=False).field(name).type
            fields.append(pa.field(name, pa.string() if pa.types.is_null(inferred) else inferred))
    return pa.schema(fields, metadata=pandas_meta)


class _Writer:
    """Appends frames to one Parquet file, the schema fixed by the first frame."""

    def __init__(self, path: Path, table: str):
        self.path, self.table, self._writer = path, table, None

    def write(self, frame: pd.DataFrame) -> None:
        if self._writer is None:
            self.schema = _schema(self.table, frame)
            self._writer = pq.ParquetWriter(self.path, self.schema)
        self._writer.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


@dataclass(frozen=True)
class ChunkedTable:
    """What validating one table in chunks left: its quarantined rows (``QUARANTINE_COLUMNS``),
    the missing values of the kept rows (table, column, count) and the number of rows kept;
    its row of ``Dataset.accounting`` (a dict of ``ACCOUNTING_COLUMNS``), its values with a UTC
    offset (column, count, first value) and the time of its newest kept row."""

    quarantine: pd.DataFrame
    missing: pd.DataFrame
    rows: int
    accounting: dict
    offsets: list
    newest: pd.Timestamp | None


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _candidates(hashes: np.ndarray) -> np.ndarray:
    """Row numbers (positions) whose hash another row shares, in order."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = ordered[1:] == ordered[:-1]
    shared = np.zeros(len(hashes), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    return np.sort(order[shared]).astype("int64")


def _cross_row_failures(table: str, file: Path, hashes: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows breaking ``duplicate_id`` (every row of a shared id) or ``duplicate_row``
    (every row repeating an earlier one): the rows whose hash another row shares are read
    again and compared exactly, typed as in validation. Returns them as read, and their numbers."""
    spec = CONTRACT[table]
    candidates = _candidates(hashes)
    if not len(candidates):
        return pd.DataFrame(), candidates
    raw = _raw_rows(file, candidates)
    typed = convert_table(table, raw)
    if spec.id_column:
        ids = typed[spec.id_column]
        failing = ids.notna() & ids.duplicated(keep=False)
    else:
        failing = typed.duplicated(keep="first")
    return raw.loc[failing.to_numpy()], typed.index[failing.to_numpy()].to_numpy(dtype="int64")


def _raw_rows(file: Path, rows: np.ndarray) -> pd.DataFrame:
    """Input rows of ``file`` by their 0-based number (sorted), read as ``read_chunks`` reads
    them, indexed by row number."""
    if file.suffix.lower() == ".parquet":
        parts, offset = [], 0
        for batch in pq.ParquetFile(file).iter_batches(batch_size=1 << 20):
            lo, hi = np.searchsorted(rows, [offset, offset + batch.num_rows])
            if hi > lo:
                parts.append(batch.take(pa.array(rows[lo:hi] - offset)))
            offset += batch.num_rows
        frame = pa.Table.from_batches(parts).to_pandas()
    else:
        wanted = set(int(r) for r in rows)
        frame = pd.read_csv(file, dtype=str, keep_default_na=True, skiprows=lambda i: i > 0 and i - 1 not in wanted)
    frame.index = pd.Index(rows)
    return frame


def _with_duplicates(table: str, quarantine: pd.DataFrame, duplicates: np.ndarray,
                     raw_rows: pd.DataFrame) -> pd.DataFrame:
    """The chunks' quarantine with the duplicate rows added under ``duplicate_row``, which
    takes precedence over the rules after it in ``ROW_RULES`` (a row breaking one of the
    rules before it keeps that one)."""
    before = set(ROW_RULES[:ROW_RULES.index("duplicate_row")])
    keep_rule = quarantine["rule"].isin(before) & quarantine["row"].isin(duplicates)
    moved = quarantine["row"].isin(duplicates) & ~keep_rule
    out = quarantine.copy()
    out.loc[moved, "rule"] = "duplicate_row"
    out.loc[moved, "column"] = None
    out.loc[moved, "reason"] = quarantine_reason(table, "duplicate_row", None, {})
    new = np.setdiff1d(duplicates, quarantine["row"].to_numpy(dtype="int64"))
    if len(new):
        records = input_records(raw_rows, new)
        out = pd.concat([out, quarantine_frame(table, "duplicate_row", None, new,
                                               [r.get("customer_id") for r in records], records)],
                        ignore_index=True)
    out["row"] = out["row"].astype("int64")
    return out[QUARANTINE_COLUMNS].sort_values(["rule", "row"], kind="stable").reset_index(drop=True)


def _copy_without(src: Path, dest: Path, drop_rows: np.ndarray) -> int:
    """Stream ``src`` into ``dest`` (written under a temporary name, then renamed) without the
    rows numbered in ``drop_rows`` and without the row-number column; returns the rows written."""
    reader = pq.ParquetFile(src)
    schema = reader.schema_arrow.remove(reader.schema_arrow.get_field_index(_ROW))
    meta = json.loads(schema.metadata[b"pandas"])
    meta["columns"] = [c for c in meta["columns"] if c["name"] != _ROW]
    schema = schema.with_metadata({**schema.metadata, b"pandas": json.dumps(meta).encode()})
    tmp = dest.with_name(dest.name + ".tmp")
    drop = pa.array(drop_rows, type=pa.int64())
    written = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        for batch in reader.iter_batches(batch_size=1 << 20):
            if len(drop):
                batch = batch.filter(pc.invert(pc.is_in(batch.column(_ROW), value_set=drop)))
            batch = batch.drop_columns([_ROW])
            writer.write_batch(batch)
            written += batch.num_rows
    os.replace(tmp, dest)
    return written


def _missing(con, table: str, file: Path) -> pd.DataFrame:
    """Missing values of the kept rows, as ``churnlab.data.validation.missing_values`` counts them."""
    columns = [c for c in CONTRACT[table].columns if not c.meaningful_null]
    present = set(pq.ParquetFile(file).schema_arrow.names)
    columns = [c.name for c in columns if c.name in present]
    if not columns:
        return missing_values({})
    counts = con.execute("SELECT " + ", ".join(f"count(*) - count({_quote(c)})" for c in columns)
                         + f" FROM read_parquet('{_sql(file)}')").fetchone()
    records = [{"table": table, "column": c, "count": int(n)} for c, n in zip(columns, counts) if n]
    out = pd.DataFrame.from_records(records, columns=["table", "column", "count"])
    out["count"] = out["count"].astype("int64")
    return out


def validate_in_chunks(table: str, file: Path, customers: pd.DataFrame, as_of, dest: Path,
                       chunk_rows: int = DEFAULT_CHUNK_ROWS,
                       on_row_error: str = "quarantine") -> tuple[ChunkedTable | None, list[Violation]]:
    """Validate one non-customers table ``file`` chunk by chunk into ``dest`` (Parquet).

    ``customers``: the validated customers table, not cut (every ``customer_id`` is checked
    against it); ``as_of``: the cut (None keeps every row). Returns the result and no
    violations, or None and every problem found (structural ones, and with
    ``on_row_error="reject"`` the row-level ones), which the caller raises.
    """
    spec = CONTRACT[table]
    customer_ids = customers["customer_id"].dropna().unique()
    stamp = as_of_date(as_of)
    known = (point_in_time({"customers": customers}, stamp)["customers"]["customer_id"]
             if stamp is not None else customers["customer_id"])
    known = pd.Index(known.dropna().unique())
    if stamp is not None and len(known) == len(customer_ids):
        known = None  # every customer had signed up by the as-of date: nothing to filter
    scratch = dest.parent / f".{table}.chunks"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    kept_file = scratch / "kept.parquet"
    kept = _Writer(kept_file, table)
    problems: list[Violation] = []  # structural
    rejected: list[Violation] = []  # row-level, with on_row_error="reject"
    parts: list[pd.DataFrame] = []
    hashes: list[np.ndarray] = []  # of each row's id, or of the whole typed row
    orphans, naming, orphan_ids = 0, 0, []  # rows naming an unknown customer, rows naming one, examples
    input_rows, after, not_yet = 0, 0, 0  # rows read, cut as dated after the as-of date, as not yet customers'
    offsets: dict[str, list] = {}  # column -> [count, first value]
    end = None if stamp is None else stamp + pd.Timedelta(days=1)
    try:
        for chunk in read_chunks(file, chunk_rows):
            input_rows += len(chunk)
            for column, count, example in utc_offsets(table, chunk):
                offsets.setdefault(column, [0, example])[0] += count
            typed, structural, failures = check_table(table, chunk, customer_ids, across_rows=False)
            problems += structural
            if typed is None:
                break  # a missing column is missing from every chunk
            unknown, with_customer, shown = unknown_customers(typed, failures)
            orphans, naming = orphans + unknown, naming + with_customer
            orphan_ids = list(dict.fromkeys(orphan_ids + shown))[:3]
            if problems:
                continue  # nothing will be kept: go on only to find every structural problem
            quarantine, assigned = quarantine_rows({table: chunk}, {table: typed}, {table: failures})
            if on_row_error == "reject":
                rejected += _row_violations(table, chunk, quarantine)
            parts.append(quarantine)
            hashes.append(pd.util.hash_pandas_object(typed[[spec.id_column]] if spec.id_column else typed,
                                                     index=False).to_numpy())
            clean = typed.drop(index=assigned.get(table, []))
            clean = clean.assign(**{_ROW: clean.index.to_numpy()})
            if stamp is not None:
                later = int((clean[ROW_TIME[table]] >= end).sum())
                before = len(clean)
                clean = cut_table(table, clean, stamp, known)
                after, not_yet = after + later, not_yet + before - later - len(clean)
            kept.write(with_final_dtypes(table, clean))
        kept.close()
        if is_orphan_table(orphans, naming):
            problems.append(orphan_violation(table, orphans, naming, orphan_ids, customer_ids))
        if problems and not hashes:
            return None, merge_violations(problems)
        quarantine = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
        raw, failing = _cross_row_failures(table, file, np.concatenate(hashes) if hashes else np.array([], "uint64"))
        duplicates = np.array([], dtype="int64")
        if len(failing) and spec.id_column:
            problems.append(violation_at(raw, table, "duplicate_id", spec.id_column, failing))
        elif len(failing):
            duplicates = failing
            if stamp is not None:  # a duplicate cut from the kept rows was counted as cut: it is quarantined
                new = np.setdiff1d(duplicates, quarantine["row"].to_numpy(dtype="int64"))
                typed_new = convert_table(table, raw.loc[new])
                later = typed_new[ROW_TIME[table]] >= end
                unknown = ~typed_new["customer_id"].isin(known) if known is not None else pd.Series(False, index=later.index)
                after, not_yet = after - int(later.sum()), not_yet - int((~later & unknown).sum())
            quarantine = _with_duplicates(table, quarantine, duplicates, raw)
            if on_row_error == "reject":
                rejected.append(violation_at(raw, table, "duplicate_row", None, duplicates))
        if problems or rejected:
            return None, merge_violations(problems + rejected)
        rows = _copy_without(kept_file, dest, duplicates) if kept_file.exists() else _empty_table(table, dest)
        with quiet_duckdb() as con:
            missing = _missing(con, table, dest)
            newest = con.execute(f"SELECT max({_quote(ROW_TIME[table])}) FROM read_parquet('{_sql(dest)}')").fetchone()[0]
        accounting = {"table": table, "input_rows": input_rows, "kept": rows, "quarantined": len(quarantine),
                      "not_yet_customers": not_yet, "after_as_of": after}
        return ChunkedTable(quarantine=quarantine, missing=missing, rows=rows, accounting=accounting,
                            offsets=[(c, n, e) for c, (n, e) in offsets.items()],
                            newest=None if newest is None else pd.Timestamp(newest)), []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _empty_table(table: str, dest: Path) -> int:
    """An empty file has no chunks: write the table with its contract columns and no rows."""
    frame = with_final_dtypes(table, pd.DataFrame({c.name: pd.Series(dtype=object) for c in CONTRACT[table].columns}))
    pq.write_table(pa.Table.from_pandas(frame, schema=_schema(table, frame), preserve_index=False), dest)
    return 0


def _row_violations(table: str, chunk: pd.DataFrame, quarantine: pd.DataFrame) -> list[Violation]:
    """The quarantine of one chunk as violations, for ``on_row_error="reject"``."""
    out = []
    for (rule, column), rows in quarantine.groupby(["rule", quarantine["column"].fillna("")], sort=False):
        out.append(violation_at(chunk, table, rule, column or None, rows["row"].to_numpy()))
    return out


def load_data_chunked(source, as_of, folder: str | Path, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                      on_row_error: str = "quarantine", numeric_share: float = NUMERIC_SHARE) -> Dataset:
    """:func:`churnlab.data.loading.load_data` of a folder source into ``folder``, the tables with more
    than ``chunk_rows`` rows validated in chunks and never held whole in memory.

    Writes the layout of :func:`churnlab.data.saved.save_dataset` and returns it read back lazily:
    a table becomes a pandas frame only when asked for (``dataset["usage_events"]``), and
    ``Dataset.file`` / ``Dataset.rows`` give its file and row count without reading it.
    Raises ``DataContractError`` as ``load_data`` does (the chunked tables are checked once the
    others pass).
    """
    folder = Path(folder)
    big = large_tables(source, chunk_rows)
    whole = load_data(source, as_of=None, on_row_error=on_row_error, exclude=set(big), numeric_share=numeric_share)
    stamp = as_of_date(as_of)
    tables = point_in_time(whole.tables, stamp) if stamp is not None else whole.tables
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.json").unlink(missing_ok=True)
    quarantine, missing, problems = [whole.quarantine], [missing_values(tables)], []
    input_rows = dict(zip(whole.accounting["table"], whole.accounting["input_rows"]))
    accounting = {r["table"]: r for r in row_accounting(input_rows, whole.tables, tables, whole.quarantine,
                                                        stamp).to_dict("records")}
    offsets = list(whole.warnings)  # as_of None: only the offsets of the tables read whole
    newest = [newest_row(t, f) for t, f in tables.items() if t != "customers"]
    for name, file in big.items():
        result, found = validate_in_chunks(name, file, whole["customers"], stamp, folder / f"{name}.parquet",
                                           chunk_rows, on_row_error)
        problems += found
        if result is not None:
            quarantine.append(result.quarantine)
            missing.append(result.missing)
            accounting[name] = result.accounting
            offsets += offset_warnings([(name, *o) for o in result.offsets])
            newest.append(result.newest)
    if problems:
        raise DataContractError(problems)
    order = {t: i for i, t in enumerate(TABLES)}
    offsets.sort(key=lambda w: order.get(w.split(".", 1)[0], len(order)))  # by table, as in memory
    accounting = pd.DataFrame.from_records([accounting[t] for t in TABLES if t in accounting], columns=ACCOUNTING_COLUMNS)
    accounting = accounting.astype({c: "int64" for c in ACCOUNTING_COLUMNS[1:]})
    quarantine = pd.concat([q for q in quarantine if len(q)] or quarantine[:1], ignore_index=True)
    quarantine = quarantine.sort_values(["table", "rule", "row"], kind="stable").reset_index(drop=True)
    missing = pd.concat([m for m in missing if len(m)] or missing[:1], ignore_index=True)
    missing = missing.sort_values(["table", "column"], kind="stable").reset_index(drop=True)
    save_dataset(Dataset(tables=tables, quarantine=quarantine, missing=missing, source=whole.source,
                         fingerprint=whole.fingerprint, as_of=stamp, accounting=accounting,
                         warnings=offsets + stale_warning(newest, stamp)), folder, written=list(big))
    return read_dataset(folder, lazy=True)


def open_source(data, as_of, folder: str | Path | None = None, *, settings: Settings | None = None) -> Dataset:
    """The dataset of source ``data``, validated and cut at ``as_of``, as the ``settings`` ask
    (``validation.on_row_error``, ``validation.chunk_rows`` and ``mapping``; defaults without them).

    Without ``folder`` the whole source is validated in memory (:func:`churnlab.data.loading.load_data`).
    With ``folder``, a folder source whose tables have more than ``validation.chunk_rows`` rows
    (:func:`tables_to_chunk`) is validated chunk by chunk into ``folder`` (:func:`load_data_chunked`)
    and returned read back lazily from there (``Dataset.file`` names each table's file); any other
    source is validated in memory and ``folder`` left untouched. Raises as ``load_data`` does.
    """
    settings = settings or Settings()
    checks = settings.validation
    if folder is not None and tables_to_chunk(data, checks.chunk_rows, settings.mapping):
        return load_data_chunked(data, as_of, folder, chunk_rows=checks.chunk_rows, on_row_error=checks.on_row_error,
                                 numeric_share=checks.numeric_share)
    # a mapped export (with its encoding, separator, decimal mark or sheet) is read whole: never chunked
    return load_data(data, as_of=as_of, on_row_error=checks.on_row_error, mapping=settings.mapping,
                     numeric_share=checks.numeric_share)
