"""Mappings: a source's own tables and columns read onto the data contract.

Analysts start from a CRM export or a flat one-row-per-customer table, not from the contract.
A :class:`~churnlab.settings.MappingSettings` (the ``mapping`` section of the settings, or a
mapping YAML such as the shipped ``churnlab/mappings/telco.yaml``) says, per contract table,
which source table feeds it and how its columns become contract columns. :func:`apply_mapping`
turns the source tables as read into contract tables that ``churnlab.data.validation.validate_tables``
then checks like any other input; ``churnlab.data.loading.load_data`` does both when given a mapping.

Dirty cells never crash a load: a blank cell is a missing value; a cell that cannot be what the
mapping says it is (text in a ``numeric`` column, a date not in its format, a churn flag with an
unlisted value, a tenure that is not a whole number of months) sets its row aside into the
quarantine with table, rule, column and reason — a stray description row under a CSV header is
caught this way. A mapping that names a column the source does not have, or leaves a table
without a column the contract requires, raises :class:`MappingError` before anything is read
further.

>>> from churnlab.settings import load_mapping                        # doctest: +SKIP
>>> mapped = apply_mapping({"telco": frame}, load_mapping("telco"), as_of="2026-06-30")  # doctest: +SKIP
>>> mapped.tables["customers"], mapped.quarantine                      # doctest: +SKIP
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab.data.column_types import NUMERIC_SHARE, as_text_cells, count_cells, read_numbers, reads_as_numbers
from churnlab.data.contract import CONTRACT, QUARANTINE_COLUMNS, empty_quarantine
from churnlab.data.expressions import ExpressionContext, ExpressionError, evaluate, parse_expression
from churnlab.settings import MappingSettings, TableMapping

__all__ = ["MappingError", "MappedTables", "apply_mapping", "resolve_sources", "months_before", "customers_from_events",
           "churn_month_date", "type_extra_columns"]


class MappingError(ValueError):
    """The mapping does not fit the source (a column or table it names is not there) or leaves a
    contract table without a required column; the message says which entry and what exists."""


@dataclass(frozen=True)
class MappedTables:
    """The result of :func:`apply_mapping`.

    ``tables``: contract name -> frame ready for validation (the contract tables the mapping did
    not mention pass through unchanged). ``quarantine``: rows the mapping set aside, with the
    columns of the validation quarantine (``row`` is the 0-based data row of the source table).
    ``rows``: contract name -> the source row number of each row of ``tables[name]``, so later
    reports can point at the source. ``sources``: contract name -> the source table read.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    rows: dict[str, np.ndarray]
    sources: dict[str, str]


def _listing(names) -> str:
    names = [str(n) for n in names]
    return ", ".join(names) if names else "none"


def resolve_sources(mapping: MappingSettings, available: list[str]) -> dict[str, str]:
    """Contract table -> the source table that feeds it.

    A mapping entry's ``source`` must be one of ``available``; without one, the contract name is
    used, or, for customers (or the one table a mapping reads), the source's only table (a single
    CSV given as ``--data``). A customers entry built ``from_events`` has no source of its own.
    """
    found = {}
    read = [t for t, tm in mapping.tables.items() if tm.from_events is None]
    for table, tm in mapping.tables.items():
        if tm.from_events is not None:
            continue
        if tm.source is not None:
            name = tm.source
        elif table in available:
            name = table
        elif (table == "customers" or len(read) == 1) and len(available) == 1:
            name = available[0]
        else:
            name = None
        if name is None or name not in available:
            wanted = f"source table {tm.source!r}" if tm.source else f"a source table named {table!r}"
            raise MappingError(
                f"mapping tables.{table}: the source has no {wanted.removeprefix('a ')}; set "
                f"tables.{table}.source to one of the source's tables: {_listing(available)}")
        found[table] = name
    return found


def months_before(dates: pd.Series, months: pd.Series) -> pd.Series:
    """Each date moved back by whole calendar months, the day clipped to the month's length
    (31 March minus one month is 28 or 29 February)."""
    dates = pd.to_datetime(dates)
    period = dates.dt.to_period("M") - months.to_numpy(dtype="int64")
    first = period.dt.to_timestamp()
    day = np.minimum(dates.dt.day.to_numpy(), period.dt.days_in_month.to_numpy())
    return (first + pd.to_timedelta(day - 1, unit="D")).astype("datetime64[ns]")


def churn_month_date(as_of) -> pd.Timestamp:
    """The churn date given to a flat table's "churned in the last month": the first day of the
    month that ends on the as-of date, (as_of - 1 month, as_of].

    The true day is unknown; the first day of that month is the one that always falls within the
    horizon of the latest snapshot whose label is known by the as-of date, so the models see the
    churners whatever the as-of date (a later day can fall after that horizon ends).
    """
    end = pd.Timestamp(as_of).normalize()
    return end - pd.DateOffset(months=1) + pd.Timedelta(days=1)


def apply_mapping(raw: dict[str, pd.DataFrame], mapping: MappingSettings, as_of=None,
                  numeric_share: float = NUMERIC_SHARE) -> MappedTables:
    """Map source tables (source name -> frame as read) onto contract tables.

    Parameters
    ----------
    raw : the source's tables by their own names (CSV columns as text).
    mapping : which source table feeds which contract table, and how.
    as_of : the date the source describes; required when a table has ``tenure_months`` or a
        ``churn_flag`` (the signup and churn dates are counted back from it).
    numeric_share : an extra customers column whose filled cells are numbers in at least this
        share is read as numbers, the rows of its other cells quarantined (``not_a_number``);
        the settings' ``validation.numeric_share``.

    Returns
    -------
    :class:`MappedTables`. The frames in ``raw`` are not changed.

    Raises
    ------
    MappingError : a named source table or column is missing, two entries make the same column,
        a ``compute`` expression does not parse or mixes text and numbers, or a table lacks a
        required contract column after mapping.
    """
    sources = resolve_sources(mapping, sorted(raw))
    needs_date = [t for t, tm in mapping.tables.items() if tm.tenure_months or tm.churn_flag]
    if needs_date and as_of is None:
        raise MappingError(
            f"mapping tables.{needs_date[0]}: tenure_months and churn_flag are counted back from the "
            "as-of date, and none was given; pass --as-of YYYY-MM-DD (the day the export was taken)")
    tables: dict[str, pd.DataFrame] = {}
    rows: dict[str, np.ndarray] = {}
    parts = []
    for table, tm in mapping.tables.items():
        if tm.from_events is None:
            frame, kept, quarantine = _map_table(table, raw[sources[table]], tm, sources[table], as_of, numeric_share)
            tables[table], rows[table] = frame, kept
            parts.append(quarantine)
    for table, tm in mapping.tables.items():
        if tm.from_events is not None:
            events = tables[tm.from_events]
            absent = [c for c in tm.from_first_event if c not in events.columns]
            if absent:
                raise MappingError(
                    f"mapping tables.{table}.from_first_event: {tm.from_events} has no column "
                    f"{', '.join(map(repr, absent))} after mapping (keep it with keep_other_columns, or name a "
                    f"column it has: {_listing(events.columns)})")
            tables[table] = customers_from_events(events, tm.from_first_event)
            rows[table] = np.arange(len(tables[table]))
            sources[table] = sources[tm.from_events]
    claimed = set(sources.values())
    for name, frame in raw.items():
        if name in CONTRACT and name not in tables and name not in claimed:
            tables[name] = frame
            rows[name] = np.arange(len(frame))
    quarantine = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    quarantine = quarantine.sort_values(["table", "rule", "row"], kind="stable").reset_index(drop=True)
    order = [t for t in CONTRACT if t in tables]
    return MappedTables({t: tables[t] for t in order}, quarantine, {t: rows[t] for t in order}, sources)


def customers_from_events(events: pd.DataFrame, columns: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The customers table of an event log that has none (a purchase log): one row per
    ``customer_id``, sorted, with ``signup_date`` the day of its first event and, for each of
    ``columns``, that column's value on the customer's first event (the earliest ``ts``, the
    first such row on a tie): known from signup on, so it cannot leak a later date's rows.
    A column whose filled cells are all numbers becomes numbers.

    Rows without a customer or a readable ``ts`` are left out here; validation quarantines them
    in the event table itself.
    """
    ids = events["customer_id"].where(events["customer_id"].notna(), None)
    ts = pd.to_datetime(events["ts"], errors="coerce", format="mixed") if events["ts"].dtype == object \
        else pd.to_datetime(events["ts"])
    known = pd.DataFrame({"customer_id": ids.astype(object), "ts": ts,
                          **{f"_c{i}": events[c].to_numpy() for i, c in enumerate(columns)}})
    known = known.dropna(subset=["customer_id", "ts"])
    known["customer_id"] = known["customer_id"].astype(str).str.strip()
    first = known.sort_values(["customer_id", "ts"], kind="stable").drop_duplicates("customer_id")
    out = pd.DataFrame({"customer_id": first["customer_id"].to_numpy(dtype=object),
                        "signup_date": first["ts"].dt.normalize().astype("datetime64[ns]").to_numpy()})
    for i, c in enumerate(columns):
        values = pd.Series(first[f"_c{i}"].to_numpy(), dtype=object)
        numbers = pd.to_numeric(values, errors="coerce")
        out[c] = numbers.to_numpy() if (numbers.notna() == values.notna()).all() else values.to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# One table
# ---------------------------------------------------------------------------------------------

def _named_columns(tm: TableMapping) -> list[tuple[str, str]]:
    """(mapping entry, column) for every column the mapping reads after ``compute`` (a source
    column or a computed one)."""
    named = [(f"columns.{target}", col) for target, col in tm.columns.items()]
    if tm.tenure_months:
        named.append(("tenure_months", tm.tenure_months))
    if tm.churn_flag:
        named.append(("churn_flag.column", tm.churn_flag.column))
    return named


def _parsed_columns(tm: TableMapping) -> list[tuple[str, str]]:
    """(mapping entry, source column) for the columns parsed before ``compute``, and the dropped ones."""
    named = [(f"values.{col}", col) for col in tm.values]
    named += [(f"date_formats.{col}", col) for col in tm.date_formats]
    named += [("numeric", col) for col in tm.numeric]
    named += [("drop", col) for col in tm.drop]
    return named


def _not_there(table: str, entry: str, col: str, source: str, columns: list[str],
               what: str = "source column") -> MappingError:
    near = [c for c in columns if c.lower() == col.lower()] or difflib.get_close_matches(col, columns, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return MappingError(
        f"mapping tables.{table}.{entry} names the {what} {col!r}, which source table "
        f"{source!r} does not have{hint}; its columns are: {_listing(columns)}")


def _check_names(table: str, tm: TableMapping, source: str, columns: list[str]) -> None:
    for entry, col in _parsed_columns(tm):
        if col not in columns:
            raise _not_there(table, entry, col, source, columns)
    for name in tm.compute:
        if name in columns:
            raise MappingError(
                f"mapping tables.{table}.compute.{name}: source table {source!r} already has a column {name!r}; "
                f"give the computed column a new name (e.g. {name}_computed) and map or drop the old one")
    known = columns + list(tm.compute)
    for entry, col in _named_columns(tm):
        if col not in known:
            raise _not_there(table, entry, col, source, columns)
        if col in tm.drop:
            raise MappingError(f"mapping tables.{table}: {col!r} is both under drop and under {entry}; "
                               "a dropped column cannot be mapped, remove it from one of them")
    if table != "customers" and (tm.tenure_months or tm.churn_flag):
        raise MappingError(f"mapping tables.{table}: tenure_months and churn_flag only apply to customers")


def _map_values(s: pd.Series, values: dict) -> pd.Series:
    key = s.where(s.isna(), s.astype(str))
    hit = key.isin(list(values))
    return s.where(~hit, key.map(values)).astype(object) if hit.any() else s


def _expression_error(table: str, name: str, expression: str, exc: ExpressionError, hint: str = "") -> MappingError:
    where = f"mapping tables.{table}.compute.{name}" + (f", column {exc.column}" if exc.column else "")
    text = f"{where}: {exc.message}{hint}"
    if exc.column:
        text += f"\n      {expression.strip()}\n      {' ' * (exc.column - 1)}^"
    return MappingError(text)


def _operand(s: pd.Series, decimal: str) -> pd.Series:
    """A column as an expression reads it: text of numbers alone (a source CSV's cells) as
    numbers, anything else as it is."""
    if s.dtype != object:
        return s
    cells, numbers, _ = count_cells(s, decimal)
    return numbers if cells.numbers and not cells.other else s


def _compute(table: str, tm: TableMapping, cells: dict, columns: list[str], n: int) -> dict[str, pd.Series]:
    """The ``compute`` columns, each from the source columns (and the computed ones before it)."""
    made: dict[str, pd.Series] = {}
    for name, expression in tm.compute.items():
        try:
            parsed = parse_expression(expression, quoted_names=True, allow_prev=False)
        except ExpressionError as exc:
            raise _expression_error(table, name, expression, exc) from None
        known = columns + list(made)
        for col, _, position in parsed.positions:
            if col not in known:
                close = difflib.get_close_matches(col, known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise _expression_error(table, name, expression, ExpressionError(
                    f"unknown column {col!r}{hint} (a name with spaces goes in backticks, `Monthly Charges`); "
                    f"the columns are: {_listing(known)}", position))
        reads = {col: made[col] if col in made else _operand(cells[_source_name(cells, col)], tm.decimal)
                 for col in sorted(parsed.names)}
        frame = pd.DataFrame(reads, index=pd.RangeIndex(n))
        try:
            value = evaluate(parsed, ExpressionContext(frame))
        except ExpressionError as exc:
            text = [c for c in parsed.names if frame[c].dtype == object]
            hint = (f"; {text[0]!r} holds text that is not all numbers: list it under numeric to read it as "
                    "numbers (its other cells are then quarantined)") if text else ""
            raise _expression_error(table, name, expression, exc, hint) from None
        made[name] = _as_column(value, n)
    return made


def _source_name(cells: dict, name: str):
    """The key of ``cells`` (a source column name as read, maybe not text) for a column name."""
    return name if name in cells else next(c for c in cells if str(c) == name)


def _as_column(value, n: int) -> pd.Series:
    """An expression's value as a column of ``n`` rows: a condition as 1/0 (missing where
    unknown), numbers as float64, text as object with None for missing."""
    if isinstance(value, pd.arrays.BooleanArray):
        return pd.Series(value, index=pd.RangeIndex(n)).astype("Float64").astype("float64")
    if not isinstance(value, pd.Series):
        value = pd.Series([value] * n)
    value = value.reset_index(drop=True)
    if value.dtype == object:
        return value.where(value.notna(), None)
    return pd.to_numeric(value, errors="coerce").astype("float64")


def _map_table(table: str, src: pd.DataFrame, tm: TableMapping, source: str, as_of,
               numeric_share: float = NUMERIC_SHARE):
    src = src.reset_index(drop=True)
    columns = [str(c) for c in src.columns]
    _check_names(table, tm, source, columns)
    cells = {c: as_text_cells(src[c]) for c in src.columns}
    bad: dict[int, tuple[str, str, str]] = {}  # source row -> (rule, column, reason); first one wins

    def flag(mask: pd.Series, rule: str, column: str, reason) -> None:
        for row in np.flatnonzero(mask.to_numpy(dtype=bool)):
            value = src.at[row, column] if column in src.columns else cells[column].iat[row]
            bad.setdefault(int(row), (rule, column, reason(value)))

    for col, values in tm.values.items():
        cells[col] = _map_values(cells[col], values)
    numeric = set(tm.numeric)
    if tm.tenure_months and tm.tenure_months not in tm.compute:  # a computed tenure is numbers already
        numeric.add(tm.tenure_months)
    for col in [c for c in src.columns if c in numeric]:  # a row is reported under its leftmost bad cell
        number = read_numbers(cells[col], tm.decimal)
        flag(cells[col].notna() & number.isna(), "not_a_number", col,
             lambda v, c=col: f"{c} {v!r} is not a number" + (" (decimal: ',')" if tm.decimal == "," else ""))
        cells[col] = number
    for col, fmt in tm.date_formats.items():
        text = cells[col]
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        flag(text.notna() & parsed.isna(), "unparseable_date", col,
             lambda v, c=col, f=fmt: f"{c} {v!r} does not match the date format {f}")
        cells[col] = parsed.astype("datetime64[ns]")
    computed = _compute(table, tm, cells, columns, len(src))
    cells.update(computed)

    made: dict[str, pd.Series] = {}
    if tm.churn_flag:
        col = tm.churn_flag.column
        state = cells[col].map(lambda v: tm.churn_flag.values.get(_flag_key(v)) if not _blank(v) else None)
        listed = ", ".join(tm.churn_flag.values)
        flag(cells[col].isna(), "missing_value", col, lambda v, c=col: f"{c} is empty")
        flag(cells[col].notna() & state.isna(), "unmapped_value", col,
             lambda v, c=col: f"{c} {v!r} is not one of {listed}")
        made["churn_date"] = pd.Series(np.where(state.eq("churned"), churn_month_date(as_of), pd.NaT),
                                       dtype="datetime64[ns]")
    if tm.tenure_months:
        col = tm.tenure_months
        months = cells[col] if cells[col].dtype != object else read_numbers(cells[col], tm.decimal)
        flag(months.isna(), "missing_value", col, lambda v, c=col: f"{c} is empty")
        flag(months.notna() & ((months % 1 != 0) | (months < 0)), "out_of_range", col,
             lambda v, c=col: f"{c} {v!r} is not a whole number of months >= 0")
        # counted back from the as-of date for churners too: counted from their (assumed) churn
        # day, their signups would fall on other days of the month than the active customers'
        # and the tenure features would give the churn flag away
        whole = months.where(months.notna() & (months % 1 == 0) & (months >= 0), 0).astype("int64")
        signup = months_before(pd.Series(pd.Timestamp(as_of).normalize(), index=src.index), whole)
        if "churn_date" in made:  # joined and left within the last month
            signup = signup.where(~(made["churn_date"] < signup), made["churn_date"])
        made["signup_date"] = signup

    out: dict[str, pd.Series] = {}
    origin: dict[str, str] = {}

    def put(name: str, values: pd.Series, what: str) -> None:
        if name in out:
            raise MappingError(f"mapping tables.{table}: both {origin[name]} and {what} make the column "
                               f"{name!r}; keep one of them")
        out[name], origin[name] = values, what

    for target, col in tm.columns.items():
        put(target, cells[col], f"columns.{target}")
    for name, values in made.items():
        put(name, values, "tenure_months" if name == "signup_date" else "churn_flag")
    for name, value in tm.constants.items():
        put(name, pd.Series([value] * len(src), dtype=object), f"constants.{name}")
    if tm.keep_other_columns:
        # renamed columns appear under their contract name; tenure and the churn flag are spent on
        # signup_date and churn_date (the flag kept as a feature would hand the models the answer)
        spent = set(tm.columns.values()) | {tm.tenure_months} | {tm.churn_flag.column if tm.churn_flag else None}
        spent |= set(tm.drop)
        typed = set(tm.numeric) | set(tm.date_formats)
        for col in [*src.columns, *computed]:
            if str(col) in spent:
                continue
            if table == "customers" and col not in computed and str(col) not in typed:
                cells[col] = _typed_extra(cells[col], str(col), tm.decimal, numeric_share, flag, col)
            what = f"compute.{col}" if col in computed else f"the source column {col!r}"
            put(str(col), cells[col], what)

    frame = pd.DataFrame(out, index=src.index)
    missing = [c for c in CONTRACT[table].required if c not in frame.columns]
    if missing:
        hint = " or give tenure_months" if table == "customers" and "signup_date" in missing else ""
        raise MappingError(
            f"mapping tables.{table}: after mapping, {table} has no {', '.join(missing)}, which the data "
            f"contract requires; map a source column onto {'it' if len(missing) == 1 else 'each'} under "
            f"tables.{table}.columns (e.g. {missing[0]}: <source column>){hint}. Columns after mapping: "
            f"{_listing(frame.columns)}; source columns: {_listing(columns)}")

    dropped = np.array(sorted(bad), dtype="int64")
    kept = np.setdiff1d(np.arange(len(src)), dropped)
    quarantine = _quarantine_rows(table, src, frame, bad, dropped)
    frame = frame.iloc[kept].reset_index(drop=True)
    if tm.repeated_rows == "keep" and len(frame.columns):
        # equal rows are separate events: numbered, so the contract's duplicate check sees them apart
        frame["repeat"] = frame.astype(str).groupby(list(frame.columns), sort=False).cumcount().astype("int64")
    return frame, kept, quarantine


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _flag_key(value) -> str:
    """A churn flag cell as the text of a value-map key: a whole number read as 1.0 is "1"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _typed_extra(s: pd.Series, name: str, decimal: str, share: float, flag, key) -> pd.Series:
    """An extra customers column as the features will read it: numbers when its filled cells are
    numbers in at least ``share`` of cases (the rows of the others are flagged not_a_number),
    else as it is (text the models read as categories)."""
    if s.dtype != object or _mostly_text(s, decimal):
        return s
    cells, numbers, other = count_cells(s, decimal)
    if not reads_as_numbers(cells, share):
        return s
    filled = cells.numbers + cells.other
    flag(other, "not_a_number", key,
         lambda v, c=name: f"{c} {v!r} is not a number, and the column is read as numbers: {cells.numbers:,} of "
                           f"{filled:,} filled cells are (validation.numeric_share {share:g})")
    return numbers


def _mostly_text(s: pd.Series, decimal: str, sample: int = 2_000) -> bool:
    """Whether fewer than half of an evenly spread sample of the filled cells are numbers (a
    column of names or plans, not worth reading whole as numbers: a million-row table has many)."""
    filled = s.dropna()
    if len(filled) <= sample:
        return False
    cells, _, _ = count_cells(filled.iloc[:: len(filled) // sample], decimal)
    return cells.share < 0.5


def type_extra_columns(table: str, frame: pd.DataFrame, numeric_share: float = NUMERIC_SHARE
                       ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """A contract table as read (no mapping) with its extra customers columns typed as a mapping
    types them: a text column whose filled cells are numbers in at least ``numeric_share`` of
    cases becomes numbers and the rows of its other cells are set aside (``not_a_number``).

    Returns the kept rows (index reset), their row numbers in ``frame`` and the quarantine of the
    others (``QUARANTINE_COLUMNS``). Other tables, and customers without such cells, come back whole.
    """
    frame = frame.reset_index(drop=True)
    everything = np.arange(len(frame))
    if table != "customers":
        return frame, everything, empty_quarantine()
    contract = {c.name for c in CONTRACT[table].columns}
    bad: dict[int, tuple[str, str, str]] = {}

    def flag(mask: pd.Series, rule: str, column, reason) -> None:
        for row in np.flatnonzero(mask.to_numpy(dtype=bool)):
            bad.setdefault(int(row), (rule, str(column), reason(frame.at[row, column])))

    typed = {}
    for col in [c for c in frame.columns if c not in contract]:
        text = as_text_cells(frame[col])
        if text.dtype == object:
            numbers = _typed_extra(text, str(col), ".", numeric_share, flag, col)
            if numbers is not text:
                typed[col] = numbers
    if not typed:
        return frame, everything, empty_quarantine()
    out = frame.assign(**{str(c): v for c, v in typed.items()})
    dropped = np.array(sorted(bad), dtype="int64")
    kept = np.setdiff1d(everything, dropped)
    quarantine = _quarantine_rows(table, frame, frame, bad, dropped)
    return out.iloc[kept].reset_index(drop=True), kept, quarantine


def _json_cell(value):
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _quarantine_rows(table, src, frame, bad, dropped) -> pd.DataFrame:
    if not len(dropped):
        return empty_quarantine()
    records = [{str(k): _json_cell(v) for k, v in rec.items()} for rec in src.iloc[dropped].to_dict("records")]
    ids = frame["customer_id"].iloc[dropped] if "customer_id" in frame else pd.Series([None] * len(dropped))
    return pd.DataFrame({
        "table": table,
        "rule": [bad[r][0] for r in dropped],
        "column": [bad[r][1] for r in dropped],
        "reason": [bad[r][2] for r in dropped],
        "row": dropped,
        "customer_id": ids.to_numpy(dtype=object),
        "record": [json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for r in records],
    })[QUARANTINE_COLUMNS]
