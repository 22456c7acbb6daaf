"""How broken rules read: the messages of violations and the reasons of quarantined rows.

A :class:`~churnlab.data.contract.Violation` names where a rule is broken, how many rows break it
and a few of them (``violation_of``, ``violation_at``); a quarantined row carries the reason it
was set aside, with its offending values (``quarantine_reason``), and its input row as compact
JSON (``quarantine_frame``). Both wordings of a rule are written in one place (``_wording``), so
a violation and the rows it quarantines always say the same thing.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from churnlab.data.contract import (
    CONTRACT, ORDERING_RULES, QUARANTINE_COLUMNS, SCORE_RANGES, ColumnSpec, Violation, with_text_dtype,
)

__all__ = [
    "input_records", "quarantine_reason", "quarantine_frame", "violation_of", "violation_at",
    "merge_violations", "missing_column_violation", "missing_table_violation", "orphan_violation",
    "no_rows_violation",
]


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


def input_records(raw: pd.DataFrame, rows) -> list[dict]:
    """The input rows of ``raw`` labelled ``rows`` (its index numbers the input rows), as dicts
    of JSON-friendly values: what a quarantined row's ``record`` and a violation's examples show."""
    sub = raw.loc[list(rows)]
    return [{k: _jsonable(v) for k, v in rec.items()} for rec in sub.to_dict("records")]


def _wording(table: str, rule: str, column: str | None, record: dict | None = None) -> str:
    """How breaking ``rule`` reads. Without ``record``: what the failing rows do, as a plural
    verb phrase (for a violation); with the row's ``record``: why that one row is quarantined,
    with its offending value(s)."""
    spec = CONTRACT[table]
    col = spec.column(column) if column and any(c.name == column for c in spec.columns) else None
    row = record is not None
    value = record.get(column) if row else None
    if rule == "unparseable_date":
        return f"have {_a(column)} that is not an ISO date or timestamp"
    if rule == "wrong_type":
        expected = {"float": "a number", "int": "a whole number", "bool": "true or false"}
        return f"have {_a(column)} that is not {expected.get(col.kind, col.kind) if col else 'valid'}"
    if rule == "duplicate_id":
        return f"share their {column} with another row"
    if rule == "missing_value":
        return f"{column} is empty" if row else f"have no {column}"
    if rule == "unknown_customer":
        return (f"customer_id {record.get('customer_id')} is not in customers" if row
                else "reference a customer_id not in customers")
    if rule == "duplicate_row":
        return "exact duplicate of an earlier row" if row else "repeat an earlier row exactly"
    if rule in ORDERING_RULES:
        later, earlier = spec.ordering(rule)
        return (f"{later} {record.get(later)} is before {earlier} {record.get(earlier)}" if row
                else f"have {later} before {earlier}")
    if rule == "not_in_set":
        return (f"{column} {value!r} is not one of {', '.join(spec.column(column).allowed)}" if row
                else f"have {_a(column)} not in {{{', '.join(col.allowed)}}}")
    if rule == "not_finite":
        return f"{column} {value} is not a finite number" if row else f"have {_a(column)} that is not a finite number"
    if rule == "implausible":
        lo, hi = (col or spec.column(column)).plausible
        bounds = f"the plausible range {lo:,.0f}..{hi:,.0f}"
        return f"{column} {value} is outside {bounds}" if row else f"have {_a(column)} outside {bounds}"
    if rule == "out_of_range":
        if table == "surveys" and column == "score":
            if row:
                lo, hi = SCORE_RANGES[record.get("kind")]
                return f"score {value} is outside {lo}..{hi} for kind {record.get('kind')}"
            ranges = ", ".join(f"{k} {lo}..{hi}" for k, (lo, hi) in SCORE_RANGES.items())
            return f"have a score outside the range of their kind ({ranges})"
        if row:
            return f"{column} {value} is {_range_text(spec.column(column)).removeprefix('that is ')}"
        return f"have {_a(column)} {_range_text(col)}"
    return f"{column} {value!r} breaks {rule}" if row else f"break {rule}"


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


def quarantine_reason(table: str, rule: str, column: str | None, record: dict) -> str:
    """Why one row (``record``, as :func:`input_records` gives it) is quarantined under ``rule``,
    with its offending value(s): the quarantine's ``reason``."""
    return _wording(table, rule, column, record)


def quarantine_frame(table: str, rule: str, column: str | None, rows, customer_ids,
                     records: list[dict]) -> pd.DataFrame:
    """The quarantine rows (``QUARANTINE_COLUMNS``) of the input ``rows`` of ``table`` set aside
    under ``rule``: their ``customer_ids`` and ``records`` (:func:`input_records`) in the same
    order; each row's reason and its record as compact JSON, keys sorted."""
    frame = pd.DataFrame({
        "table": table,
        "rule": rule,
        "column": column,
        "reason": [quarantine_reason(table, rule, column, r) for r in records],
        "row": rows,
        "customer_id": customer_ids,
        "record": [json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for r in records],
    })
    return with_text_dtype(frame, [c for c in QUARANTINE_COLUMNS if c != "row"])[QUARANTINE_COLUMNS]


def violation_at(raw: pd.DataFrame, table: str, rule: str, column: str | None, rows) -> Violation:
    """The :class:`Violation` of the input ``rows`` of ``raw`` (a frame indexed by input row
    number) breaking ``rule``, the first five shown as examples."""
    shown = rows[:5]
    examples = [{"row": int(r), **rec} for r, rec in zip(shown, input_records(raw, shown))]
    return violation_of(table, rule, column, len(rows), examples)


def violation_of(table: str, rule: str, column: str | None, count: int, examples: list[dict]) -> Violation:
    """The :class:`Violation` of ``count`` rows breaking ``rule``, shown by ``examples`` (up to
    five input rows as dicts with their ``row`` number, in row order)."""
    where = f"{table}.{column}" if column else table
    text = f"{where}: {count:,} {_agree(_wording(table, rule, column), count)} ({rule})"
    shown_col = "customer_id" if rule == "duplicate_row" else column
    if rule == "missing_value":
        shown = []
    elif rule in ORDERING_RULES:
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


def missing_column_violation(raw: pd.DataFrame, table: str, column: str) -> Violation:
    """``missing_column``: the required ``column`` is absent from ``raw`` (its columns listed)."""
    have = ", ".join(map(str, raw.columns)) or "none"
    text = f"{table}.{column}: required column is missing (missing_column); the table has columns: {have}"
    return Violation(table, column, "missing_column", len(raw), [], text)


def missing_table_violation(found: list[str]) -> Violation:
    """``missing_table``: the customers table is absent (the tables ``found`` listed)."""
    text = ("customers: the required customers table is missing (missing_table); "
            f"tables found: {', '.join(found) or 'none'}")
    return Violation("customers", None, "missing_table", 0, [], text)


def orphan_violation(table: str, unknown: int, with_customer: int, unknown_ids, customer_ids) -> Violation:
    """``mostly_unknown_customers``: ``unknown`` of the ``with_customer`` rows of ``table`` name a
    customer_id not in customers; a few of those ids (``unknown_ids``) are shown beside a few of
    customers' (``customer_ids``), so a mismatch of type or format ("0012" against "12") shows."""
    share = unknown / with_customer if with_customer else 0.0
    theirs = ", ".join(repr(str(v)) for v in list(unknown_ids)[:3])
    ours = ", ".join(repr(str(v)) for v in list(customer_ids)[:3]) or "none"
    text = (f"{table}.customer_id: {unknown:,} of {with_customer:,} rows ({share:.0%}) reference a customer_id "
            f"not in customers (mostly_unknown_customers): {table} has e.g. {theirs}, customers has e.g. {ours}; "
            f"the ids of the two tables do not seem to match (check their type and format, e.g. leading "
            f"zeros or prefixes)")
    return Violation(table, "customer_id", "mostly_unknown_customers", unknown, [], text)


def no_rows_violation(table: str, raw: pd.DataFrame) -> Violation:
    """``no_rows``: ``table`` (customers) has columns but no rows, e.g. a header-only file."""
    have = ", ".join(map(str, raw.columns)) or "none"
    text = f"{table}: {table} has no rows (no_rows): the file has only its header ({have}); export the data again"
    return Violation(table, None, "no_rows", 0, [], text)
