"""The data contract as code: one pandera schema per table, the rule list and validation.

Every table of ``docs/data-contract.md`` is described once, in ``CONTRACT``; the pandera
schemas (``raw_schema``, ``table_schema``) are built from that description, and
``validate_tables`` runs them and sorts what fails into two classes:

Structural problems (raised together as one ``DataContractError``; fix them at the source)
    ``missing_table``   the customers table is absent
    ``missing_column``  a required column is absent from a table that is present
    ``unparseable_date`` a date or timestamp that is not ISO (``YYYY-MM-DD[THH:MM:SS[+TZ]]``)
    ``wrong_type``      a value that cannot become the column's type (text in ``mrr``)
    ``duplicate_id``    two rows share a customer_id, subscription_id, ticket_id or invoice_id
    and every rule broken in ``customers`` (the backbone every other table hangs on):
    ``missing_value`` (customer_id, signup_date), ``churn_before_signup``, ``not_in_set``
    (preferred_channel), ``out_of_range`` (company_size: a whole number >= 0).

Row-level problems (quarantined, or raised with ``on_row_error="reject"``), in ``ROW_RULES``
order. A row breaking several rules is quarantined once, under the first rule of that
order (and, within a rule, the first failing column in contract order), so counts are stable:
    ``missing_value``        a required value is null (customer_id, the row's time, ...)
    ``unknown_customer``     customer_id is not in customers
    ``duplicate_row``        exact copy of an earlier row (tables without an id column);
                             the first occurrence is kept
    ``end_before_start``     subscriptions.end_date < start_date
    ``closed_before_opened`` support_tickets.closed_at < opened_at
    ``not_in_set``           billing_period, severity, kind, status, department,
                             direction, outcome outside their allowed values
    ``out_of_range``         mrr, amount, cost >= 0; seats, reach whole numbers >= 0;
                             sentiment in [-1, 1]; rating, csat in 1..5;
                             surveys.score by kind (nps 0..10, csat 1..5, ces 1..7)

Decisions the contract leaves open (see ``CONTRACT`` for the full list):
    * Required columns are those whose absence would silently change meaning: the ids,
      customer_id, each table's time column, null-means-something columns (end_date,
      closed_at, paid_at) and the fields a row is about (event_type, kind, score,
      department, amount, mrr, action, outcome). Optional columns that are absent are added
      empty, so later code can rely on every contract column being there;
      ``usage_events.quantity`` is added as 1.0.
    * Empty strings count as null. Enum values are matched exactly (case-sensitive).
    * Timestamps become naive UTC ``datetime64[ns]``; dates the same, normalized to midnight.
      Ids and text become Python strings (object columns); whole-number columns become
      ``Int64``, flags ``boolean``, other numbers ``float64``.
    * Extra columns are kept; on customers, an extra column whose every value is a number
      becomes numeric (CSV input arrives as text).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

try:  # pandera >= 0.24 moved the pandas API here; older versions export it at the top level
    import pandera.pandas as pa
except ImportError:  # pragma: no cover
    import pandera as pa
from pandera.errors import SchemaErrorReason, SchemaErrors

__all__ = [
    "TABLES", "CONTRACT", "ROW_RULES", "STRUCTURAL_RULES", "Violation", "DataContractError",
    "ValidationResult", "raw_schema", "table_schema", "validate_tables", "missing_values",
    "is_structural",
]

# ---------------------------------------------------------------------------------------------
# The contract, declared once
# ---------------------------------------------------------------------------------------------

Kind = Literal["text", "date", "timestamp", "float", "int", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column.

    ``required``: the column must be present (else ``missing_column``).
    ``nullable``: a null value is allowed (else ``missing_value``).
    ``meaningful_null``: a null says something (``churn_date`` null = active), so it is not
    counted as a missing value in ``ValidationResult.missing``.
    """

    name: str
    kind: Kind = "text"
    required: bool = False
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    default: Any = None
    meaningful_null: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One contract table: columns in contract order, its id column, its time column(s)."""

    name: str
    columns: tuple[ColumnSpec, ...]
    id_column: str | None = None
    #: (later, earlier, rule): ``later < earlier`` breaks ``rule``
    orderings: tuple[tuple[str, str, str], ...] = ()

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, kind: Kind = "text", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, **kw)


def _req(name: str, kind: Kind = "text", **kw: Any) -> ColumnSpec:
    """A required column whose values must not be null (unless ``nullable`` is given)."""
    kw.setdefault("nullable", False)
    return ColumnSpec(name, kind, required=True, **kw)


_CUSTOMER = _req("customer_id")
_SENTIMENT = _c("sentiment", "float", low=-1, high=1)

CONTRACT: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("customers", (
        _req("customer_id"),
        _req("signup_date", "date"),
        _c("churn_date", "date", meaningful_null=True),
        _c("name"),
        _c("industry"),
        _c("region"),
        _c("company_size", "int", low=0),
        _c("preferred_channel", allowed=("email", "phone", "meeting", "chat", "in_app")),
        _c("owner"),
        _c("churn_reason", meaningful_null=True),
    ), id_column="customer_id", orderings=(("churn_date", "signup_date", "churn_before_signup"),)),
    TableSpec("subscriptions", (
        _req("subscription_id"),
        _CUSTOMER,
        _c("plan"),
        _req("start_date", "date"),
        _req("end_date", "date", nullable=True, meaningful_null=True),
        _c("renewal_date", "date"),
        _c("billing_period", allowed=("monthly", "annual")),
        _req("mrr", "float", low=0),
        _c("seats", "int", low=0),
    ), id_column="subscription_id", orderings=(("end_date", "start_date", "end_before_start"),)),
    TableSpec("usage_events", (
        _CUSTOMER,
        _req("ts", "timestamp"),
        _req("event_type"),
        _c("quantity", "float", default=1.0),
        _c("user_id"),
    )),
    TableSpec("support_tickets", (
        _req("ticket_id"),
        _CUSTOMER,
        _req("opened_at", "timestamp"),
        _req("closed_at", "timestamp", nullable=True, meaningful_null=True),
        _c("severity", allowed=("low", "medium", "high", "critical")),
        _c("category"),
        _c("reopened", "bool"),
        _c("csat", "float", low=1, high=5),
    ), id_column="ticket_id", orderings=(("closed_at", "opened_at", "closed_before_opened"),)),
    TableSpec("surveys", (
        _CUSTOMER,
        _req("responded_at", "timestamp"),
        _req("kind", allowed=("nps", "csat", "ces")),
        _req("score", "float"),
        _c("comment"),
    )),
    TableSpec("invoices", (
        _req("invoice_id"),
        _CUSTOMER,
        _req("issued_at", "timestamp"),
        _c("due_at", "timestamp"),
        _req("paid_at", "timestamp", nullable=True, meaningful_null=True),
        _req("amount", "float", low=0),
        _c("status", allowed=("paid", "late", "failed", "void")),
    ), id_column="invoice_id"),
    TableSpec("touchpoints", (
        _CUSTOMER,
        _req("ts", "timestamp"),
        _req("department", allowed=("sales", "marketing", "finance", "rnd", "support", "success")),
        _c("channel"),
        _c("direction", allowed=("inbound", "outbound")),
        _SENTIMENT,
        _c("note"),
    )),
    TableSpec("advocacy", (
        _CUSTOMER,
        _req("ts", "timestamp"),
        _req("kind", allowed=("review", "referral", "social_mention", "case_study")),
        _c("rating", "float", low=1, high=5),
        _c("reach", "int", low=0),
        _SENTIMENT,
    )),
    TableSpec("interventions", (
        _CUSTOMER,
        _req("ts", "timestamp"),
        _c("campaign"),
        _req("action"),
        _c("channel"),
        _c("cost", "float", low=0),
        _req("outcome", allowed=("accepted", "declined", "no_response")),
    )),
)}

#: Contract tables, customers first.
TABLES: tuple[str, ...] = tuple(CONTRACT)

#: Survey score range by kind.
SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

#: Rules that always stop validation, in any table.
STRUCTURAL_RULES: tuple[str, ...] = (
    "missing_table", "missing_column", "unparseable_date", "wrong_type", "duplicate_id",
)
#: Row-level rules, in the order that decides which one a row is quarantined under.
ROW_RULES: tuple[str, ...] = (
    "missing_value", "unknown_customer", "duplicate_row", "end_before_start",
    "closed_before_opened", "not_in_set", "out_of_range",
)


def is_structural(table: str, rule: str) -> bool:
    """True when breaking ``rule`` in ``table`` stops validation (every rule in customers)."""
    return rule in STRUCTURAL_RULES or table == "customers"


# ---------------------------------------------------------------------------------------------
# Results and errors
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Violation:
    """One broken rule: where, how many rows, a few example rows and a readable message.

    ``examples`` are up to five input rows as dicts, each with its 0-based input ``row``
    number and the values as given. ``count`` is the number of rows concerned (for a
    missing column: the table's rows; for a missing table: 0).
    """

    table: str
    column: str | None
    rule: str
    count: int
    examples: list[dict] = field(default_factory=list)
    message: str = ""

    def __str__(self) -> str:
        return self.message


class DataContractError(Exception):
    """The input breaks the data contract; ``violations`` lists every problem found."""

    def __init__(self, violations: list[Violation]):
        self.violations = list(violations)
        super().__init__(self._report())

    def _report(self) -> str:
        n = len(self.violations)
        head = f"the data breaks the data contract ({n} problem{'s' if n != 1 else ''}):"
        return "\n".join([head] + [f"  - {v.message}" for v in self.violations])


QUARANTINE_COLUMNS = ["table", "rule", "column", "reason", "row", "customer_id", "record"]


@dataclass(frozen=True)
class ValidationResult:
    """Validated tables plus what was set aside.

    ``tables``: typed frames (contract columns first, in contract order), quarantined rows
    removed, index reset. ``quarantine``: one row per quarantined input row with columns
    table, rule, column, reason, row (0-based input row), customer_id, record (the input row
    as compact JSON, keys sorted), sorted by table, rule, row. ``missing``: null counts of
    columns where null means unknown (table, column, count; count > 0 only).
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    missing: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Quarantined rows counted by table and rule (columns table, rule, count)."""
        return quarantine_summary(self.quarantine)


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Count quarantined rows by table and rule (columns table, rule, count)."""
    if quarantine.empty:
        return pd.DataFrame({"table": pd.Series(dtype=object), "rule": pd.Series(dtype=object),
                             "count": pd.Series(dtype="int64")})
    return quarantine.groupby(["table", "rule"], sort=True).size().rename("count").reset_index()


# ---------------------------------------------------------------------------------------------
# Parsing (vectorized; the same functions back the checks and the conversion)
# ---------------------------------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


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
    if s.dtype != object:
        s = s.astype(object)
        return s.where(s.isna(), s.astype(str)).where(s.notna(), np.nan)
    s = _blank_to_na(s)
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        s = s.where(s.isna(), s.astype(str))
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


def _in_range(low, high, whole):
    def check(s: pd.Series) -> pd.Series:
        ok = pd.Series(True, index=s.index)
        if low is not None:
            ok &= s >= low
        if high is not None:
            ok &= s <= high
        if whole:
            ok &= (s % 1) == 0
        return ok
    return check


def _not_before(later: str, earlier: str):
    def check(df: pd.DataFrame) -> pd.Series:
        return ~(df[later] < df[earlier])  # a null on either side passes
    return check


def _score_in_range(df: pd.DataFrame) -> pd.Series:
    low = df["kind"].map({k: r[0] for k, r in SCORE_RANGES.items()})
    high = df["kind"].map({k: r[1] for k, r in SCORE_RANGES.items()})
    # an unknown kind is reported as not_in_set, not here
    return df["score"].isna() | low.isna() | df["score"].between(low, high)


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
        if col.low is not None or col.high is not None or col.kind == "int":
            checks.append(_check(_in_range(col.low, col.high, col.kind == "int"),
                                 "out_of_range", col.name))
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
class _Failure:
    table: str
    rule: str
    column: str | None
    mask: pd.Series  # True where the row fails, indexed by input row number


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[_Failure]:
    """Validate lazily and return every failing check with its full row mask."""
    try:
        schema.validate(frame, lazy=True, inplace=True)
        return []
    except SchemaErrors as errors:
        failures = []
        for err in errors.schema_errors:
            if err.reason_code == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
                mask = pd.Series(True, index=frame.index)
                failures.append(_Failure(schema.name, "missing_column", str(err.failure_cases), mask))
                continue
            if not isinstance(err.check, pa.Check) or err.check_output is None:
                raise RuntimeError(f"{schema.name}: validation check failed to run: {err}") from errors
            output = err.check_output
            if isinstance(output, pd.DataFrame):
                output = output.all(axis=1)
            mask = ~output.reindex(frame.index, fill_value=True).fillna(True).astype(bool)
            column = err.check.title or err.column_name
            failures.append(_Failure(schema.name, err.check.name, column, mask))
        return failures


def _jsonable(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _records(raw: pd.DataFrame, rows) -> list[dict]:
    """The given input rows as dicts of JSON-friendly values."""
    sub = raw.loc[list(rows)]
    return [{k: _jsonable(v) for k, v in rec.items()} for rec in sub.to_dict("records")]


def _phrase(table: str, rule: str, column: str | None) -> str:
    """What the failing rows do, as a plural verb phrase."""
    spec = CONTRACT[table]
    col = spec.column(column) if column and any(c.name == column for c in spec.columns) else None
    if rule == "unparseable_date":
        return f"have {_a(column)} that is not an ISO date or timestamp"
    if rule == "wrong_type":
        expected = {"float": "a number", "int": "a whole number", "bool": "true or false"}
        return f"have {_a(column)} that is not {expected.get(col.kind, col.kind) if col else 'valid'}"
    if rule == "duplicate_id":
        return f"share their {column} with another row"
    if rule == "missing_value":
        return f"have no {column}"
    if rule == "unknown_customer":
        return "reference a customer_id not in customers"
    if rule == "duplicate_row":
        return "repeat an earlier row exactly"
    if rule in ("churn_before_signup", "end_before_start", "closed_before_opened"):
        later, earlier = next((l, e) for l, e, r in spec.orderings if r == rule)
        return f"have {later} before {earlier}"
    if rule == "not_in_set":
        return f"have {_a(column)} not in {{{', '.join(col.allowed)}}}"
    if rule == "out_of_range":
        if table == "surveys" and column == "score":
            ranges = ", ".join(f"{k} {lo}..{hi}" for k, (lo, hi) in SCORE_RANGES.items())
            return f"have a score outside the range of their kind ({ranges})"
        return f"have {_a(column)} {_range_text(col)}"
    return f"break {rule}"


_SINGULAR = {"have": "has", "are": "is", "share": "shares", "reference": "references",
             "break": "breaks", "their": "its", "repeat": "repeats"}


def _agree(phrase: str, count: int) -> str:
    """'rows have ...' or, for one row, 'row has ...'."""
    if count != 1:
        return "rows " + phrase
    return "row " + " ".join(_SINGULAR.get(w, w) for w in phrase.split(" "))


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _range_text(col: ColumnSpec) -> str:
    """'outside 1..5', 'below 0', 'that is not a whole number >= 0'."""
    if col.kind == "int":
        return f"that is not a whole number >= {_num(col.low)}"
    if col.low is not None and col.high is not None:
        return f"outside {_num(col.low)}..{_num(col.high)}"
    if col.low is not None:
        return f"below {_num(col.low)}"
    return f"above {_num(col.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _reason(table: str, rule: str, column: str | None, record: dict) -> str:
    """Why one row is quarantined, with its offending value(s)."""
    spec = CONTRACT[table]
    if rule == "duplicate_row":
        return "exact duplicate of an earlier row"
    if rule in ("churn_before_signup", "end_before_start", "closed_before_opened"):
        later, earlier = next((l, e) for l, e, r in spec.orderings if r == rule)
        return f"{later} {record.get(later)} is before {earlier} {record.get(earlier)}"
    if rule == "missing_value":
        return f"{column} is empty"
    if rule == "unknown_customer":
        return f"customer_id {record.get('customer_id')} is not in customers"
    value = record.get(column)
    if rule == "not_in_set":
        return f"{column} {value!r} is not one of {', '.join(spec.column(column).allowed)}"
    if rule == "out_of_range":
        if table == "surveys" and column == "score":
            lo, hi = SCORE_RANGES[record.get("kind")]
            return f"score {value} is outside {lo}..{hi} for kind {record.get('kind')}"
        return f"{column} {value} is {_range_text(spec.column(column)).removeprefix('that is ')}"
    return f"{column} {value!r} breaks {rule}"


def _violation(raw: pd.DataFrame, table: str, rule: str, column: str | None,
               rows: pd.Index) -> Violation:
    examples = [{"row": int(r), **rec} for r, rec in zip(rows[:5], _records(raw, rows[:5]))]
    return violation_of(table, rule, column, len(rows), examples)


def violation_of(table: str, rule: str, column: str | None, count: int, examples: list[dict]) -> Violation:
    """The :class:`Violation` of ``count`` rows breaking ``rule``, shown by ``examples`` (up to
    five input rows as dicts with their ``row`` number, in row order)."""
    where = f"{table}.{column}" if column else table
    text = f"{where}: {count:,} {_agree(_phrase(table, rule, column), count)} ({rule})"
    shown_col = "customer_id" if rule == "duplicate_row" else column
    if rule == "missing_value":
        shown = []
    elif rule in ("churn_before_signup", "end_before_start", "closed_before_opened"):
        key = CONTRACT[table].id_column or "customer_id"
        shown = [f"{e.get(key)} ({column} {e.get(column)})" for e in examples]
    else:
        shown = list(dict.fromkeys(str(e.get(shown_col)) for e in examples if shown_col in e))
    if shown:
        text += ", e.g. " + ", ".join(shown[:3])
    if count > 5 or not shown:
        listed = ", ".join(str(e["row"]) for e in examples)
        text += f"; input row{'s' if count != 1 else ''} {listed}{' ...' if count > 5 else ''}"
    return Violation(table, column, rule, count, examples, text)


def merge_violations(violations: list[Violation]) -> list[Violation]:
    """One violation per (table, column, rule): counts added, the first five examples by row.

    A table validated in chunks finds the same problem in several chunks; the report names it
    once. Order: first appearance. Missing columns and tables are kept as they are.
    """
    merged: dict[tuple, list[Violation]] = {}
    for v in violations:
        merged.setdefault((v.table, v.column, v.rule), []).append(v)
    out = []
    for (table, column, rule), same in merged.items():
        if len(same) == 1 or rule in ("missing_column", "missing_table"):
            out.append(same[0])
            continue
        examples = sorted((e for v in same for e in v.examples), key=lambda e: e["row"])[:5]
        out.append(violation_of(table, rule, column, sum(v.count for v in same), examples))
    return out


def _missing_column(raw: pd.DataFrame, table: str, column: str) -> Violation:
    have = ", ".join(map(str, raw.columns)) or "none"
    text = f"{table}.{column}: required column is missing (missing_column); the table has columns: {have}"
    return Violation(table, column, "missing_column", len(raw), [], text)


def _missing_table(found: list[str]) -> Violation:
    text = ("customers: the required customers table is missing (missing_table); "
            f"tables found: {', '.join(found) or 'none'}")
    return Violation("customers", None, "missing_table", 0, [], text)


# ---------------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------------

def _convert(table: str, raw: pd.DataFrame) -> pd.DataFrame:
    """Typed frame: contract columns in order (absent optional ones added), then extras."""
    spec = CONTRACT[table]
    out = {}
    for col in spec.columns:
        if col.name in raw.columns:
            out[col.name] = _CONVERT[col.kind](raw[col.name])
        else:
            out[col.name] = _empty(col, raw.index)
    for name in raw.columns:
        if name in out:
            continue
        extra = raw[name]
        if table == "customers" and extra.dtype == object:
            numbers = _to_number(extra)
            if numbers.notna().sum() == _blank_to_na(extra).notna().sum() and numbers.notna().any():
                extra = numbers
        out[name] = extra
    return pd.DataFrame(out, index=raw.index)


def _empty(col: ColumnSpec, index: pd.Index) -> pd.Series:
    dtype = {"date": "datetime64[ns]", "timestamp": "datetime64[ns]", "float": "float64",
             "int": "float64", "bool": "boolean", "text": object}[col.kind]
    value = col.default if col.default is not None else (np.nan if dtype == object else None)
    s = pd.Series(value, index=index, dtype=dtype)
    return s


def _finish(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Final dtypes for a validated frame: whole-number columns become Int64."""
    frame = frame.reset_index(drop=True)
    for col in CONTRACT[table].columns:
        if col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
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
        structural.append(_missing_table(sorted(map(str, raw))))

    typed: dict[str, pd.DataFrame] = {}
    row_failures: dict[str, list[_Failure]] = {}
    customer_ids = None
    for table in present:  # customers first: the other tables check their customer_id against it
        checked, problems, failures = check_table(table, frames[table], customer_ids)
        structural += problems
        if checked is None:
            continue
        typed[table], row_failures[table] = checked, failures
        if table == "customers":
            customer_ids = checked["customer_id"].dropna().unique()

    quarantine, assigned = _assign(frames, typed, row_failures)
    row_violations = []
    if on_row_error == "reject":
        keys = quarantine[["table", "rule", "column"]].drop_duplicates().itertuples(index=False)
        for table, rule, column in keys:
            column = column if isinstance(column, str) else None
            same = (quarantine["table"] == table) & (quarantine["rule"] == rule) & (
                quarantine["column"] == column if column else quarantine["column"].isna())
            rows = pd.Index(quarantine.loc[same, "row"].to_numpy())
            row_violations.append(_violation(frames[table], table, rule, column, rows))
    if structural or row_violations:
        order = {t: i for i, t in enumerate(TABLES)}
        raise DataContractError(sorted(structural, key=lambda v: order[v.table]) + row_violations)

    tables = {t: _finish(t, frame.drop(index=assigned.get(t, []))) for t, frame in typed.items()}
    return ValidationResult(tables=tables, quarantine=quarantine, missing=missing_values(tables))


def check_table(table: str, frame: pd.DataFrame, customer_ids=None,
                across_rows: bool = True) -> tuple[pd.DataFrame | None, list[Violation], list[_Failure]]:
    """Both schemas on one raw table whose index numbers its input rows.

    Returns the typed frame (None when a required column is missing), the structural
    violations and the row-level failures (``_Failure``: rule, column and row mask), for
    ``validate_tables`` and for the chunks of ``churnlab.data.chunked``.
    """
    structural: list[Violation] = []
    failures = _run(raw_schema(table), frame)
    for f in failures:
        if f.rule == "missing_column":
            structural.append(_missing_column(frame, table, f.column))
        else:
            structural.append(_violation(frame, table, f.rule, f.column, frame.index[f.mask.to_numpy()]))
    if any(f.rule == "missing_column" for f in failures):
        return None, structural, []
    typed = _convert(table, frame)
    unparseable = {f.column: f.mask for f in failures}
    row_failures: list[_Failure] = []
    for f in _run(table_schema(table, customer_ids, across_rows), typed):
        if f.rule == "missing_value" and f.column in unparseable:
            # already reported as unparseable: do not report the same value twice
            f.mask = f.mask & ~unparseable[f.column]
            if not f.mask.any():
                continue
        if is_structural(table, f.rule):
            structural.append(_violation(frame, table, f.rule, f.column, typed.index[f.mask.to_numpy()]))
        else:
            row_failures.append(f)
    return typed, structural, row_failures


def _assign(frames, typed, row_failures) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Quarantine each failing row once, under the first rule (then column) that it breaks."""
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
            records = _records(frames[table], rows)
            parts.append(pd.DataFrame({
                "table": table,
                "rule": f.rule,
                "column": f.column,
                "reason": [_reason(table, f.rule, f.column, r) for r in records],
                "row": rows.to_numpy(dtype="int64"),
                "customer_id": typed[table].loc[rows, "customer_id"].to_numpy(dtype=object),
                "record": [json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                           for r in records],
            }))
        assigned[table] = typed[table].index[taken.to_numpy()]
    if not parts:
        empty = {c: pd.Series(dtype="int64" if c == "row" else object) for c in QUARANTINE_COLUMNS}
        return pd.DataFrame(empty), assigned
    quarantine = pd.concat(parts, ignore_index=True)[QUARANTINE_COLUMNS]
    quarantine = quarantine.sort_values(["table", "rule", "row"], kind="stable").reset_index(drop=True)
    return quarantine, assigned
