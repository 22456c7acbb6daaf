"""Validation against the data contract: converting values, the pandera schemas and running them.

``raw_schema`` checks a table as read (required columns present, values parseable) and
``table_schema`` the typed table (the rules of ``churnlab.data.contract``, each check named after
its rule). ``validate_tables`` runs both on every table, raises the structural problems as one
``DataContractError`` and quarantines the rows breaking a row-level rule; ``check_table``,
``convert_table``, ``quarantine_rows`` and ``with_final_dtypes`` are its steps, which
``churnlab.data.chunked`` runs chunk by chunk on tables too large for memory. The messages are
worded by ``churnlab.data.messages``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

try:  # pandera >= 0.24 moved the pandas API here; older versions export it at the top level
    import pandera.pandas as pa
except ImportError:  # pragma: no cover
    import pandera as pa
from pandera.errors import SchemaErrorReason, SchemaErrors

from churnlab.data.contract import (
    CONTRACT, ROW_RULES, SCORE_RANGES, TABLES, ColumnSpec, DataContractError, ValidationResult, Violation,
    empty_quarantine, is_orphan_table, is_structural, text_dtype,
)
from churnlab.data.messages import (
    input_records, missing_column_violation, missing_table_violation, no_rows_violation, orphan_violation, quarantine_frame,
    violation_at,
)

__all__ = [
    "raw_schema", "table_schema", "validate_tables", "check_table", "CheckFailure", "convert_table",
    "with_final_dtypes", "quarantine_rows", "missing_values", "unknown_customers", "utc_offsets",
    "is_str_dtype", "text_dtype",
]

# ---------------------------------------------------------------------------------------------
# Parsing (vectorized; the same functions back the checks and the conversion)
# ---------------------------------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def is_str_dtype(dtype) -> bool:
    """pandas 3's ``str`` dtype (``future.infer_string`` on pandas 2): text with NaN for missing,
    which churnlab treats as the object columns of Python strings it otherwise reads. (The older
    ``string`` dtype, missing as ``pd.NA``, is handled as before.)"""
    return isinstance(dtype, pd.StringDtype) and getattr(dtype, "na_value", pd.NA) is not pd.NA


def _is_text(dtype) -> bool:
    return dtype == object or is_str_dtype(dtype)


def _blank_to_na(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = s.astype(object)
        return s.mask(s.isin(("",)))
    return s


def _to_time(s: pd.Series) -> pd.Series:
    """Parse to naive-UTC datetime64[ns]; unparseable values become NaT."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        # epoch numbers are not ISO dates; refuse rather than guess the unit
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    s = _blank_to_na(s)
    out = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
    return out.dt.tz_localize(None).astype("datetime64[ns]")


_OFFSET = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*[+-](?!00:?00$)\d{2}:?\d{2}$"  # not +00:00


def utc_offsets(table: str, raw: pd.DataFrame) -> list[tuple[str, int, str]]:
    """The date and timestamp columns of ``raw`` (a table as read) whose values carry a UTC
    offset other than zero (``2024-03-01T10:00:00+02:00``, or a timezone-aware column in a zone
    other than UTC): (column, how many values, the first such value), in contract order. Such
    values are converted to UTC, as the data contract says; the count goes to the dataset's
    warnings."""
    out = []
    for col in CONTRACT[table].columns:
        if col.kind not in ("date", "timestamp") or col.name not in raw:
            continue
        s = raw[col.name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            if str(s.dtype.tz) in ("UTC", "utc", "Etc/UTC") or not s.notna().any():
                continue
            offset = s.notna() & (s.dt.tz_localize(None) != s.dt.tz_convert("UTC").dt.tz_localize(None))
        elif _is_text(s.dtype):
            # as Python strings: the pyarrow str dtype's regex engine has no look-ahead
            offset = s.astype(object).fillna("").astype(str).astype(object).str.contains(_OFFSET, regex=True)
        else:
            continue
        if offset.any():
            out.append((col.name, int(offset.sum()), str(s[offset].iloc[0])))
    return out


def _to_date(s: pd.Series) -> pd.Series:
    return _to_time(s).dt.normalize()


def _to_number(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.to_numeric(s, errors="coerce").astype("float64")
    s = _blank_to_na(s)
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _to_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    text = _blank_to_na(s).astype(object)
    lowered = text.where(text.isna(), text.astype(str).str.strip().str.lower())
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[lowered.isin(_TRUE)] = True
    out[lowered.isin(_FALSE)] = False
    return out


def _to_text(s: pd.Series) -> pd.Series:
    """Strings as Python ``str`` in an object column; integral floats lose their ``.0``."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if (whole % 1 == 0).all():
            s = s.astype("Int64")
    if s.dtype != object and not is_str_dtype(s.dtype):
        s = s.astype(object)
        return s.where(s.isna(), s.astype(str)).where(s.notna(), np.nan)
    s = _blank_to_na(s)
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        s = s.where(s.isna(), s.astype(str))
    return s


_WHOLE_TEXT = r"^[+-]?\d+\.0*$"


def _to_id(s: pd.Series) -> pd.Series:
    """Ids as text, compared as the same type in every table: a number becomes its digits and a
    whole number written as a float (``12.0``, or the text ``"12.0"`` a float column leaves in a
    CSV file) loses its fraction, value by value, so customer 12 is ``"12"`` whether a table holds
    it as an integer, a float or text. Other text is kept as it is (``"0012"`` stays ``"0012"``)."""
    mixed = s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty")
    if pd.api.types.is_float_dtype(s.dtype) or mixed:
        s = s.astype(object)
        floats = s.map(lambda v: isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer())
        if floats.any():
            s = s.mask(floats, s[floats].map(lambda v: str(int(v))))
    s = _to_text(s)
    if s.dtype == object:
        text = s.notna()
        whole = text & s.where(text, "").astype(str).str.match(_WHOLE_TEXT)
        if whole.any():
            s = s.mask(whole, s[whole].str.replace(r"\.0*$", "", regex=True))
    return s


_CONVERT = {"date": _to_date, "timestamp": _to_time, "float": _to_number, "int": _to_number,
            "bool": _to_bool, "text": _to_text}


def _parses(convert):
    def check(s: pd.Series) -> pd.Series:
        return convert(s).notna() | _blank_to_na(s).isna()
    return check


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------

def _check(fn, rule: str, column: str | None, ignore_na: bool = True) -> pa.Check:
    # name = the rule, title = the column it judges; n_failure_cases keeps pandera's own
    # messages small on big tables (the full mask is read from check_output)
    return pa.Check(fn, name=rule, title=column, ignore_na=ignore_na, n_failure_cases=5)


def raw_schema(table: str) -> pa.DataFrameSchema:
    """Structural checks on the input as read: required columns present, values parseable.

    Failing checks are named ``missing_column`` (pandera's column_in_dataframe),
    ``unparseable_date`` or ``wrong_type``.
    """
    spec = CONTRACT[table]
    columns = {}
    for col in spec.columns:
        checks = []
        if col.kind in ("date", "timestamp"):
            checks.append(_check(_parses(_to_time), "unparseable_date", col.name))
        elif col.kind != "text":
            checks.append(_check(_parses(_CONVERT[col.kind]), "wrong_type", col.name))
        columns[col.name] = pa.Column(checks=checks, nullable=True, required=col.required)
    return pa.DataFrameSchema(columns, name=table, strict=False)


def _isin(allowed):
    values = list(allowed)
    return lambda s: s.isin(values)


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64")), index=s.index)


def _in_range(low, high, whole):
    def check(s: pd.Series) -> pd.Series:
        ok = pd.Series(True, index=s.index)
        if low is not None:
            ok &= s >= low
        if high is not None:
            ok &= s <= high
        if whole:
            ok &= (s % 1) == 0
        return ok | ~_finite(s)  # an infinite value breaks not_finite, not this rule
    return check


def _not_before(later: str, earlier: str):
    def check(df: pd.DataFrame) -> pd.Series:
        return ~(df[later] < df[earlier])  # a null on either side passes
    return check


def _score_in_range(df: pd.DataFrame) -> pd.Series:
    low = df["kind"].map({k: r[0] for k, r in SCORE_RANGES.items()})
    high = df["kind"].map({k: r[1] for k, r in SCORE_RANGES.items()})
    # an unknown kind is reported as not_in_set, not here
    return df["score"].isna() | low.isna() | ~_finite(df["score"]) | df["score"].between(low, high)


def _not_duplicated(df: pd.DataFrame) -> pd.Series:
    return ~df.duplicated(keep="first")


def table_schema(table: str, customer_ids=None, across_rows: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of a typed contract table (after ``raw_schema`` passed).

    Each check is named after its rule and titled with the column it judges.
    ``customer_ids``: the known customers; when given, non-customers tables check
    ``unknown_customer`` against them. ``across_rows=False`` leaves out the checks that compare
    rows with each other (``duplicate_id``, ``duplicate_row``): a table validated in chunks
    (``churnlab.data.chunked``) runs them once over the whole table instead.
    """
    spec = CONTRACT[table]
    columns = {}
    for col in spec.columns:
        checks = []
        if not col.nullable:
            checks.append(_check(lambda s: s.notna(), "missing_value", col.name, ignore_na=False))
        if col.name == "customer_id" and table != "customers" and customer_ids is not None:
            checks.append(_check(_isin(customer_ids), "unknown_customer", col.name))
        if col.name == spec.id_column and across_rows:
            checks.append(_check(lambda s: ~s.duplicated(keep=False), "duplicate_id", col.name))
        if col.allowed is not None:
            checks.append(_check(_isin(col.allowed), "not_in_set", col.name))
        if col.kind in ("float", "int"):
            checks.append(_check(_finite, "not_finite", col.name))
        if col.low is not None or col.high is not None or col.kind == "int":
            checks.append(_check(_in_range(col.low, col.high, col.kind == "int"),
                                 "out_of_range", col.name))
        if col.plausible is not None:
            checks.append(_check(_in_range(*col.plausible, False), "implausible", col.name))
        columns[col.name] = pa.Column(checks=checks, nullable=True, required=True)
    frame_checks = []
    if spec.id_column is None and across_rows:
        frame_checks.append(_check(_not_duplicated, "duplicate_row", None, ignore_na=False))
    for later, earlier, rule in spec.orderings:
        frame_checks.append(_check(_not_before(later, earlier), rule, later, ignore_na=False))
    if table == "surveys":
        frame_checks.append(_check(_score_in_range, "out_of_range", "score", ignore_na=False))
    return pa.DataFrameSchema(columns, checks=frame_checks, name=table, strict=False)


# ---------------------------------------------------------------------------------------------
# Running the schemas
# ---------------------------------------------------------------------------------------------

@dataclass
class CheckFailure:
    """One failing check of a pandera schema: the rule (the check's name), the column it judges
    (None for a check of whole rows) and which rows fail it."""

    table: str
    rule: str
    column: str | None
    mask: pd.Series  # True where the row fails, indexed by input row number


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[CheckFailure]:
    """Validate lazily and return every failing check with its full row mask."""
    try:
        schema.validate(frame, lazy=True, inplace=True)
        return []
    except SchemaErrors as errors:
        failures = []
        for err in errors.schema_errors:
            if err.reason_code == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
                mask = pd.Series(True, index=frame.index)
                failures.append(CheckFailure(schema.name, "missing_column", str(err.failure_cases), mask))
                continue
            if not isinstance(err.check, pa.Check) or err.check_output is None:
                raise RuntimeError(f"{schema.name}: validation check failed to run: {err}") from errors
            output = err.check_output
            if isinstance(output, pd.DataFrame):
                output = output.all(axis=1)
            mask = ~output.reindex(frame.index, fill_value=True).fillna(True).astype(bool)
            column = err.check.title or err.column_name
            failures.append(CheckFailure(schema.name, err.check.name, column, mask))
        return failures


# ---------------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------------

def convert_table(table: str, raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` typed by the contract's column kinds, index kept: contract columns in order
    (absent optional ones added empty, or with their default), then the extra columns (on
    customers, an extra column of numbers only becomes numeric). Unparseable values become null."""
    spec = CONTRACT[table]
    out = {}
    for col in spec.columns:
        if col.name in raw.columns:
            convert = _to_id if col.name in ("customer_id", spec.id_column) else _CONVERT[col.kind]
            out[col.name] = convert(raw[col.name])
        else:
            out[col.name] = _empty(col, raw.index)
    for name in raw.columns:
        if name in out:
            continue
        extra = raw[name]
        if table == "customers" and _is_text(extra.dtype):
            numbers = _to_number(extra)
            if numbers.notna().sum() == _blank_to_na(extra).notna().sum() and numbers.notna().any():
                extra = numbers
        if (text_dtype() != object and extra.dtype == object
                and pd.api.types.infer_dtype(extra, skipna=True) in ("string", "empty")):
            extra = extra.astype(text_dtype())  # text from a database as from a file: str with pandas 3
        out[name] = extra
    return pd.DataFrame(out, index=raw.index)


def _empty(col: ColumnSpec, index: pd.Index) -> pd.Series:
    dtype = {"date": "datetime64[ns]", "timestamp": "datetime64[ns]", "float": "float64",
             "int": "float64", "bool": "boolean", "text": object}[col.kind]
    value = col.default if col.default is not None else (np.nan if dtype == object else None)
    s = pd.Series(value, index=index, dtype=dtype)
    return s


def with_final_dtypes(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Final dtypes for a validated frame: whole-number columns become Int64 (they stay float64
    while checked, so a fractional value can be caught), text columns the dtype pandas gives text
    (``text_dtype``: as a table read back from Parquet has them), and the index is reset."""
    frame = frame.reset_index(drop=True)
    text = text_dtype()
    for col in CONTRACT[table].columns:
        if col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
        elif col.kind == "text" and text != object:
            frame[col.name] = frame[col.name].astype(text)
    return frame


def missing_values(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Null counts of contract columns where null means unknown (table, column, count > 0)."""
    records = []
    for table, frame in tables.items():
        for col in CONTRACT[table].columns:
            if col.meaningful_null or col.name not in frame:
                continue
            n = int(frame[col.name].isna().sum())
            if n:
                records.append({"table": table, "column": col.name, "count": n})
    out = pd.DataFrame.from_records(records, columns=["table", "column", "count"])
    out["count"] = out["count"].astype("int64")
    return out.sort_values(["table", "column"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def validate_tables(raw: dict[str, pd.DataFrame],
                    on_row_error: Literal["quarantine", "reject"] = "quarantine") -> ValidationResult:
    """Check raw tables against the contract and return typed, clean frames.

    ``raw`` maps table names to frames as read (text or typed columns); names outside the
    contract are ignored. Structural problems raise one ``DataContractError`` listing all of
    them. Row-level problems are quarantined (one row per input row, under the first rule
    of ``ROW_RULES`` it breaks) or, with ``on_row_error="reject"``, raised as a
    ``DataContractError``.

    >>> result = validate_tables({"customers": pd.DataFrame(
    ...     {"customer_id": ["C-1"], "signup_date": ["2024-01-05"]})})
    >>> result.tables["customers"]["signup_date"].dtype
    dtype('<M8[ns]')
    """
    if on_row_error not in ("quarantine", "reject"):
        raise ValueError(f"on_row_error must be 'quarantine' or 'reject', got {on_row_error!r}")
    present = [t for t in TABLES if t in raw]
    frames = {t: raw[t].reset_index(drop=True) for t in present}
    structural: list[Violation] = []
    if "customers" not in frames:
        structural.append(missing_table_violation(sorted(map(str, raw))))
    elif frames["customers"].empty:
        structural.append(no_rows_violation("customers", frames["customers"]))

    typed: dict[str, pd.DataFrame] = {}
    row_failures: dict[str, list[CheckFailure]] = {}
    customer_ids = None
    for table in present:  # customers first: the other tables check their customer_id against it
        checked, problems, failures = check_table(table, frames[table], customer_ids)
        structural += problems
        if checked is None:
            continue
        typed[table], row_failures[table] = checked, failures
        if table == "customers":
            customer_ids = checked["customer_id"].dropna().unique()
        elif customer_ids is not None:
            unknown, with_customer, shown = unknown_customers(checked, failures)
            if is_orphan_table(unknown, with_customer):
                structural.append(orphan_violation(table, unknown, with_customer, shown, customer_ids))

    quarantine, assigned = quarantine_rows(frames, typed, row_failures)
    row_violations = []
    if on_row_error == "reject":
        keys = quarantine[["table", "rule", "column"]].drop_duplicates().itertuples(index=False)
        for table, rule, column in keys:
            column = column if isinstance(column, str) else None
            same = (quarantine["table"] == table) & (quarantine["rule"] == rule) & (
                quarantine["column"] == column if column else quarantine["column"].isna())
            rows = pd.Index(quarantine.loc[same, "row"].to_numpy())
            row_violations.append(violation_at(frames[table], table, rule, column, rows))
    if structural or row_violations:
        order = {t: i for i, t in enumerate(TABLES)}
        raise DataContractError(sorted(structural, key=lambda v: order[v.table]) + row_violations)

    tables = {t: with_final_dtypes(t, frame.drop(index=assigned.get(t, []))) for t, frame in typed.items()}
    return ValidationResult(tables=tables, quarantine=quarantine, missing=missing_values(tables))


def check_table(table: str, frame: pd.DataFrame, customer_ids=None,
                across_rows: bool = True) -> tuple[pd.DataFrame | None, list[Violation], list[CheckFailure]]:
    """Both schemas on one raw table whose index numbers its input rows.

    Returns the typed frame (None when a required column is missing), the structural
    violations and the row-level failures (``CheckFailure``: rule, column and row mask), for
    ``validate_tables`` and for the chunks of ``churnlab.data.chunked``.
    """
    structural: list[Violation] = []
    failures = _run(raw_schema(table), frame)
    for f in failures:
        if f.rule == "missing_column":
            structural.append(missing_column_violation(frame, table, f.column))
        else:
            structural.append(violation_at(frame, table, f.rule, f.column, frame.index[f.mask.to_numpy()]))
    if any(f.rule == "missing_column" for f in failures):
        return None, structural, []
    typed = convert_table(table, frame)
    unparseable = {f.column: f.mask for f in failures}
    row_failures: list[CheckFailure] = []
    for f in _run(table_schema(table, customer_ids, across_rows), typed):
        if f.rule == "missing_value" and f.column in unparseable:
            # already reported as unparseable: do not report the same value twice
            f.mask = f.mask & ~unparseable[f.column]
            if not f.mask.any():
                continue
        if is_structural(table, f.rule):
            structural.append(violation_at(frame, table, f.rule, f.column, typed.index[f.mask.to_numpy()]))
        else:
            row_failures.append(f)
    return typed, structural, row_failures


def unknown_customers(typed: pd.DataFrame, failures: list[CheckFailure]) -> tuple[int, int, list]:
    """Of a typed non-customers table (or chunk) and its row failures: how many rows name a
    customer not in customers, how many name one at all, and up to three of the unknown ids
    (for ``mostly_unknown_customers``, see ``churnlab.data.contract.is_orphan_table``)."""
    masks = [f.mask for f in failures if f.rule == "unknown_customer"]
    ids = typed["customer_id"]
    if not masks:
        return 0, int(ids.notna().sum()), []
    unknown = masks[0]
    return int(unknown.sum()), int(ids.notna().sum()), list(pd.unique(ids[unknown].to_numpy()))[:3]


def quarantine_rows(frames: dict[str, pd.DataFrame], typed: dict[str, pd.DataFrame],
                    row_failures: dict[str, list[CheckFailure]]) -> tuple[pd.DataFrame, dict[str, pd.Index]]:
    """Quarantine each failing row once, under the first rule (then column) that it breaks.

    ``frames``: the tables as read, ``typed``: as ``check_table`` typed them, ``row_failures``:
    its row-level failures, each by table name (frames indexed by input row number). Returns the
    quarantine (``QUARANTINE_COLUMNS``, sorted by table, rule, row) and, by table, the labels of
    the rows it took, which the caller drops from the typed table.
    """
    order = {rule: i for i, rule in enumerate(ROW_RULES)}
    parts, assigned = [], {}
    for table in typed:
        failures = row_failures.get(table, [])
        columns = [c.name for c in CONTRACT[table].columns]
        failures = sorted(failures, key=lambda f: (order[f.rule],
                                                   columns.index(f.column) if f.column in columns else -1))
        taken = pd.Series(False, index=typed[table].index)
        for f in failures:
            new = f.mask & ~taken
            if not new.any():
                continue
            taken |= new
            rows = typed[table].index[new.to_numpy()]
            records = input_records(frames[table], rows)
            parts.append(quarantine_frame(table, f.rule, f.column, rows.to_numpy(dtype="int64"),
                                          typed[table].loc[rows, "customer_id"].to_numpy(dtype=object), records))
        assigned[table] = typed[table].index[taken.to_numpy()]
    if not parts:
        return empty_quarantine(), assigned
    quarantine = pd.concat(parts, ignore_index=True)
    quarantine = quarantine.sort_values(["table", "rule", "row"], kind="stable").reset_index(drop=True)
    return quarantine, assigned
