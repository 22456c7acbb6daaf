"""Which type an extra customer column gets, and why: numbers read from text, dirty cells said.

An export's extra columns (every customers column the data contract does not name) become
candidate features: numbers as numbers, anything else as text categories. A column of numbers
with one stray ``?`` must not silently become a category of 5,000 distinct "values"; so a column
whose filled cells are numbers in at least ``validation.numeric_share`` of cases (default 0.95)
is read as numbers, and the rows of its other cells are set aside into the quarantine
(``data_quality.csv``, rule ``not_a_number``) with their reason. :func:`read_numbers` reads
numbers written as text (with a decimal comma for European exports), :func:`numeric_share` says
how many cells are numbers, and :func:`column_types` lists every extra column of a loaded dataset
with the type it got and why, for notebook 01.

>>> read_numbers(pd.Series(["1.234,56", "12,5", "", "?"]), decimal=",").tolist()
[1234.56, 12.5, nan, nan]
>>> column_types(dataset)                        # doctest: +SKIP
"""
from __future__ import annotations

import re

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab.data.contract import CONTRACT

__all__ = ["NUMERIC_SHARE", "Cells", "read_numbers", "count_cells", "reads_as_numbers", "as_text_cells",
           "column_types", "COLUMN_TYPE_COLUMNS"]

#: The default of ``validation.numeric_share``.
NUMERIC_SHARE = 0.95

#: The columns of :func:`column_types`.
COLUMN_TYPE_COLUMNS = ["column", "type", "why"]

# thousands grouped in threes by a space (also no-break and thin), an apostrophe or the mark that is
# not the decimal one; a group separator anywhere else makes the cell not a number
_SPACES = "\u00a0\u202f "
_GROUPED = {
    ".": r"[+-]?\d{1,3}(?:(?P<sep>[,'" + _SPACES + r"])\d{3})(?:(?P=sep)\d{3})*(?:\.\d+)?",
    ",": r"[+-]?\d{1,3}(?:(?P<sep>[.'" + _SPACES + r"])\d{3})(?:(?P=sep)\d{3})*(?:,\d+)?",
}


def as_text_cells(s: pd.Series) -> pd.Series:
    """Cells as stripped text (object), blank ones missing (None); columns that are not text
    (Parquet numbers, Excel dates) are returned as they are."""
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    s = s.astype(object)
    text = s.where(s.isna(), s.astype(str).str.strip())
    return text.mask(text.eq("")).where(lambda x: x.notna(), None)


def read_numbers(s: pd.Series, decimal: str = ".") -> pd.Series:
    """Each cell as a float64 number, NaN where it is blank or not a finite number.

    Text cells are read with ``decimal`` as the decimal mark (``"."`` or ``","``); thousands may
    be grouped in threes by the other mark, a space or an apostrophe (``1,234.5``; ``1.234,5``,
    ``1 234,5``). With a decimal comma, ``"1.5"`` is not a number: the export meant either 1.5 or
    15, and guessing would be wrong half the time. Number columns (Parquet, Excel) pass through.
    """
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = pd.to_numeric(s, errors="coerce").astype("float64")
        return out.where(np.isfinite(out))
    text = as_text_cells(s)
    if decimal == ".":  # the fast path reads most cells of a clean column at once
        out = pd.to_numeric(text, errors="coerce").astype("float64")
        tried = text.where(out.isna() & text.notna())
    else:
        out = pd.Series(np.nan, index=s.index, dtype="float64")
        tried = text
    tried = tried.dropna()
    if len(tried):
        cells = tried.astype(str)
        # Python's re, not the string dtype's: the pattern's backreference (one separator
        # throughout) is beyond pyarrow's RE2, which pandas 3's str columns use
        pattern = re.compile(_GROUPED[decimal])
        grouped = pd.Series([pattern.fullmatch(c) is not None for c in cells], index=cells.index, dtype=bool)
        plain = cells.where(~grouped, cells.str.replace(f"[^0-9+\\-{decimal}]", "", regex=True))
        other = "," if decimal == "." else "."
        ok = ~plain.str.contains(other, regex=False)
        if decimal == ",":
            plain = plain.str.replace(",", ".", regex=False)
        parsed = pd.to_numeric(plain.where(ok), errors="coerce").astype("float64")
        out.loc[parsed.index] = parsed
    return out.where(np.isfinite(out))


@dataclass(frozen=True)
class Cells:
    """What a column's cells are: ``total`` cells, ``blank`` (missing), ``numbers`` (filled cells
    read as numbers) and ``other`` (filled, not numbers), with up to three ``examples`` of them."""

    total: int
    blank: int
    numbers: int
    other: int
    examples: tuple[str, ...]

    @property
    def share(self) -> float:
        """Numbers among the filled cells (0 when none is filled)."""
        filled = self.numbers + self.other
        return self.numbers / filled if filled else 0.0


def count_cells(s: pd.Series, decimal: str = ".") -> tuple[Cells, pd.Series, pd.Series]:
    """The :class:`Cells` of a column, its numbers (:func:`read_numbers`) and the mask of its
    filled cells that are not numbers."""
    numbers = read_numbers(s, decimal)
    filled = as_text_cells(s).notna() if not pd.api.types.is_numeric_dtype(s.dtype) else s.notna()
    other = filled & numbers.isna()
    examples = tuple(dict.fromkeys(map(str, s[other].head(50))))[:3]
    cells = Cells(len(s), int((~filled).sum()), int(numbers.notna().sum()), int(other.sum()), examples)
    return cells, numbers, other


def reads_as_numbers(cells: Cells, share: float = NUMERIC_SHARE) -> bool:
    """Whether a column of these cells is read as numbers: some filled cells, and numbers in at
    least ``share`` of them."""
    return cells.numbers > 0 and cells.share >= share


def _why_numbers(cells: Cells, listed: bool) -> str:
    text = f"numbers: {cells.numbers:,} of {cells.total:,} cells"
    if cells.blank:
        text += f"; {cells.blank:,} blank (missing)"
    if listed:
        text += "; listed under numeric in the mapping"
    return text


def column_types(dataset, numeric_share: float = NUMERIC_SHARE, mapping=None) -> pd.DataFrame:
    """Every extra column of ``dataset``'s customers (the columns the data contract does not name:
    the candidate features an export brings), with the type it got and why.

    ``type`` is ``number``, ``text`` (the models read it as categories), ``date``, ``yes/no`` or
    ``empty``; ``why`` gives the counts behind it, e.g. ``numbers: 7,032 of 7,043 cells; 11 blank
    (missing)``, and for a column read as numbers the rows set aside for a cell that is not one
    (``3 rows with other text set aside as not_a_number, e.g. '?'``, listed in data_quality.csv).
    A text column says how close it came: ``text: 4 distinct values; 12 of 7,043 cells are
    numbers (fewer than 95%)``. ``numeric_share`` is the settings' ``validation.numeric_share``;
    ``mapping`` (the settings' mapping, optional) marks columns it listed under ``numeric``.
    Columns: ``COLUMN_TYPE_COLUMNS``, in the customers table's column order.
    """
    frame = dataset["customers"]
    contract = {c.name for c in CONTRACT["customers"].columns}
    mapped = mapping.tables.get("customers") if mapping is not None else None
    listed = set(mapped.numeric) if mapped is not None else set()
    decimal = mapped.decimal if mapped is not None else "."
    quarantine = dataset.quarantine
    set_aside = quarantine.loc[(quarantine["table"] == "customers") & (quarantine["rule"] == "not_a_number")]
    records = []
    for name in [c for c in frame.columns if c not in contract]:
        s = frame[name]
        filled = int(s.notna().sum())
        if filled == 0:
            kind, why = "empty", f"every one of {len(s):,} cells is blank"
        elif pd.api.types.is_bool_dtype(s.dtype):
            kind, why = "yes/no", f"true/false cells: {filled:,} of {len(s):,} filled"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            kind, why = "date", f"dates: {filled:,} of {len(s):,} cells (a date column of the source file)"
        elif pd.api.types.is_numeric_dtype(s.dtype):
            cells, _, _ = count_cells(s)
            kind, why = "number", _why_numbers(cells, str(name) in listed)
            bad = set_aside.loc[set_aside["column"] == str(name)]
            if len(bad):
                shown = ", ".join(repr(v) for v in _bad_values(bad, str(name)))
                why += (f"; {len(bad):,} row{'s' if len(bad) != 1 else ''} with other text set aside as "
                        f"not_a_number{', e.g. ' + shown if shown else ''} (data_quality.csv)")
        else:
            cells, _, _ = count_cells(s, decimal)
            distinct = int(s.nunique(dropna=True))
            why = f"text: {distinct:,} distinct value{'s' if distinct != 1 else ''}"
            if cells.numbers:
                why += (f"; {cells.numbers:,} of {cells.numbers + cells.other:,} filled cells are numbers (fewer "
                        f"than the {numeric_share:.0%} of validation.numeric_share)")
            if cells.blank:
                why += f"; {cells.blank:,} blank (missing)"
            kind = "text"
        records.append({"column": str(name), "type": kind, "why": why})
    return pd.DataFrame.from_records(records, columns=COLUMN_TYPE_COLUMNS)


def _bad_values(rows: pd.DataFrame, column: str) -> list[str]:
    """Up to three of the cells that set these quarantine rows aside, read from their records."""
    out = []
    for record in rows["record"].head(20):
        try:
            value = json.loads(record).get(column)
        except (TypeError, ValueError):
            continue
        if value is not None and str(value) not in out:
            out.append(str(value))
        if len(out) == 3:
            break
    return out
