"""The data contract as code: its tables and columns, its rules and what breaking them gives.

Every table of ``docs/data-contract.md`` is described once, in ``CONTRACT``; the pandera
schemas of ``churnlab.data.validation`` (``raw_schema``, ``table_schema``) are built from that
description, ``validate_tables`` there runs them and sorts what fails into two classes (worded by
``churnlab.data.messages``):

Structural problems (raised together as one ``DataContractError``; fix them at the source)
    ``missing_table``   the customers table is absent
    ``missing_column``  a required column is absent from a table that is present
    ``unparseable_date`` a date or timestamp that is not ISO (``YYYY-MM-DD[THH:MM:SS[+TZ]]``)
    ``wrong_type``      a value that cannot become the column's type (text in ``mrr``)
    ``duplicate_id``    two rows share a customer_id, subscription_id, ticket_id or invoice_id
    ``mostly_unknown_customers`` more than ``ORPHAN_SHARE`` of a table's rows (of at least
                        ``ORPHAN_MIN_ROWS`` rows with a customer_id) name a customer not in
                        customers: the ids of the two tables most likely do not match (``"0012"``
                        against ``12``), so quarantining the rows would be confidently wrong
    and every rule broken in ``customers`` (the backbone every other table hangs on):
    ``missing_value`` (customer_id, signup_date), ``churn_before_signup``, ``not_in_set``
    (preferred_channel), ``out_of_range`` (company_size: a whole number >= 0), ``not_finite`` and
    ``implausible`` (company_size).
    ``no_rows``         the customers table has no rows (a header-only file)

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
    ``not_finite``           a number that is infinite (``inf``, ``-inf``) in any number column
    ``out_of_range``         mrr, amount, cost >= 0; seats, reach whole numbers >= 0;
                             sentiment in [-1, 1]; rating, csat in 1..5;
                             surveys.score by kind (nps 0..10, csat 1..5, ces 1..7)
    ``implausible``          a number beyond the generous bound ``ColumnSpec.plausible`` of a
                             column the contract leaves open above (quantity, mrr, seats, amount,
                             cost, reach, company_size): garbage such as ``1e308``, not business
                             judgement (see ``PLAUSIBLE``)

Decisions the contract leaves open (see ``CONTRACT`` for the full list):
    * Required columns are those whose absence would silently change meaning: the ids,
      customer_id, each table's time column, null-means-something columns (end_date,
      closed_at, paid_at) and the fields a row is about (event_type, kind, score,
      department, amount, mrr, action, outcome). Optional columns that are absent are added
      empty, so later code can rely on every contract column being there;
      ``usage_events.quantity`` is added as 1.0.
    * Empty strings count as null. Enum values are matched exactly (case-sensitive).
    * Timestamps become naive UTC ``datetime64[ns]``; dates the same, normalized to midnight.
      Ids (customer_id and each table's id column) are compared as text in every table: a
      number becomes its digits and a whole number written as a float (``12.0``, ``"12.0"``)
      loses its fraction, so customer 12 is ``"12"`` however a table stores it.
      Ids and text become Python strings (object columns); whole-number columns become
      ``Int64``, flags ``boolean``, other numbers ``float64``.
    * Extra columns are kept; on customers, an extra column whose every value is a number
      becomes numeric (CSV input arrives as text).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

__all__ = [
    "TABLES", "CONTRACT", "ROW_RULES", "STRUCTURAL_RULES", "ORDERING_RULES", "SCORE_RANGES", "ColumnSpec",
    "TableSpec", "Violation", "DataContractError", "QUARANTINE_COLUMNS", "ValidationResult", "empty_quarantine",
    "quarantine_summary", "is_structural", "PLAUSIBLE", "ORPHAN_SHARE", "ORPHAN_MIN_ROWS", "is_orphan_table",
    "text_dtype", "with_text_dtype",
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
    ``plausible``: (low, high) bounds of a number column beyond which a value is garbage
    (``implausible``), for the columns whose contract range is open (see ``PLAUSIBLE``).
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
    plausible: tuple[float, float] | None = None


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

    def ordering(self, rule: str) -> tuple[str, str]:
        """``(later, earlier)``: the two columns an ordering rule of this table compares."""
        return next((later, earlier) for later, earlier, r in self.orderings if r == rule)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, kind: Kind = "text", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, **kw)


def _req(name: str, kind: Kind = "text", **kw: Any) -> ColumnSpec:
    """A required column whose values must not be null (unless ``nullable`` is given)."""
    kw.setdefault("nullable", False)
    return ColumnSpec(name, kind, required=True, **kw)


#: Generous plausible bounds of the number columns whose contract range is open, to catch garbage
#: (``1e308``, a timestamp or a card number pasted into a number), not to judge the business:
#: 100 million employees or seats, a billion per subscription's MRR, a usage event's quantity or
#: an intervention's cost, ten billion per invoice or audience reached.
PLAUSIBLE: dict[tuple[str, str], tuple[float, float]] = {
    ("customers", "company_size"): (0, 1e8),
    ("subscriptions", "mrr"): (0, 1e9),
    ("subscriptions", "seats"): (0, 1e8),
    ("usage_events", "quantity"): (-1e9, 1e9),
    ("invoices", "amount"): (0, 1e10),
    ("advocacy", "reach"): (0, 1e10),
    ("interventions", "cost"): (0, 1e9),
}

_CUSTOMER = _req("customer_id")
_SENTIMENT = _c("sentiment", "float", low=-1, high=1)

def _plausible(spec: TableSpec) -> TableSpec:
    """``spec`` with the ``PLAUSIBLE`` bounds of its columns set."""
    columns = tuple(replace(c, plausible=PLAUSIBLE.get((spec.name, c.name))) for c in spec.columns)
    return replace(spec, columns=columns)


CONTRACT: dict[str, TableSpec] = {t.name: _plausible(t) for t in (
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
        _req("outcome", allowed=("accepted", "declined", "no_response", "held_out")),
    )),
)}

#: Contract tables, customers first.
TABLES: tuple[str, ...] = tuple(CONTRACT)

#: Survey score range by kind.
SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

#: Rules that always stop validation, in any table.
STRUCTURAL_RULES: tuple[str, ...] = (
    "missing_table", "missing_column", "unparseable_date", "wrong_type", "duplicate_id",
    "mostly_unknown_customers", "no_rows",
)
#: Row-level rules, in the order that decides which one a row is quarantined under.
ROW_RULES: tuple[str, ...] = (
    "missing_value", "unknown_customer", "duplicate_row", "end_before_start",
    "closed_before_opened", "not_in_set", "not_finite", "out_of_range", "implausible",
)
#: Rules broken by a row whose later event comes before its earlier one (``TableSpec.orderings``).
ORDERING_RULES: tuple[str, ...] = ("churn_before_signup", "end_before_start", "closed_before_opened")


#: A table whose rows name unknown customers more often than this share (of the rows that name
#: one) stops validation (``mostly_unknown_customers``): the ids do not match, the rows are not dirt.
ORPHAN_SHARE = 0.5
#: ... once it has at least this many rows naming a customer: a handful of stray rows in a tiny
#: table are quarantined like any others.
ORPHAN_MIN_ROWS = 10


def is_orphan_table(unknown: int, with_customer: int) -> bool:
    """True when ``unknown`` of the ``with_customer`` rows naming a customer make the table's ids
    look unrelated to customers' (see ``ORPHAN_SHARE``, ``ORPHAN_MIN_ROWS``)."""
    return with_customer >= ORPHAN_MIN_ROWS and unknown > ORPHAN_SHARE * with_customer


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


#: The columns of a quarantine, in order (see ``ValidationResult``).
QUARANTINE_COLUMNS = ["table", "rule", "column", "reason", "row", "customer_id", "record"]


def text_dtype():
    """The dtype pandas gives text: object, or ``str`` with pandas 3 (``future.infer_string``)."""
    try:
        infer = pd.get_option("future.infer_string")
    except KeyError:  # pragma: no cover - an option pandas may drop once str is the only way
        infer = True
    # the dtype pandas itself infers for text: StringDtype(na_value=nan) from pandas 2.3,
    # "string[pyarrow_numpy]" in 2.2 (the declared minimum)
    return pd.Series(["text"]).dtype if infer else object


def with_text_dtype(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``frame`` with its text ``columns`` in ``text_dtype`` (unchanged while that is object):
    frames built from Python values get one dtype per column whatever their values, so that
    concatenating them (an all-empty ``column`` next to a filled one) does not depend on them."""
    text = text_dtype()
    if text == object:
        return frame
    return frame.astype({c: text for c in columns})


def empty_quarantine() -> pd.DataFrame:
    """A quarantine with no rows: ``QUARANTINE_COLUMNS``, ``row`` as int64, the others text."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else text_dtype()) for c in QUARANTINE_COLUMNS})


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
