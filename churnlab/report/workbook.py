"""targets.xlsx: the campaign lists as a workbook the people who make the calls can work from.

One table, :data:`COLUMNS`, says what every target-list column means: its header in words, its
meaning, its unit and how the workbook shows it. :func:`write_workbook` writes a first sheet
"About" (the run's as-of date, what each list is and how it is ordered, rows per list and per
owner, and every column of the lists with its meaning) and then one sheet per list, with the
headers in words, percent, money and date formats, a frozen, filterable header and wrapped long
text. The CSVs next to the workbook keep the machine names of ``docs/run-outputs.md``; the About
sheet maps one to the other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from churnlab.decide.campaigns import TARGET_COLUMNS

__all__ = ["Column", "COLUMNS", "LISTS", "NUMBER_FORMATS", "header", "write_workbook"]


@dataclass(frozen=True)
class Column:
    """What one target-list column means and how the workbook shows it.

    ``kind`` picks the cell format: ``text``, ``long_text`` (wrapped), ``percent``, ``money``,
    ``date`` or ``integer`` (see :data:`NUMBER_FORMATS`).
    """

    header: str
    meaning: str
    unit: str
    kind: str = "text"


#: Excel number format of each column kind (text kinds keep Excel's General format).
NUMBER_FORMATS = {"percent": "0.0%", "money": "#,##0", "date": "yyyy-mm-dd", "integer": "0"}

_MONEY = "currency units, shown whole with thousands separators"

#: Every column a target list may have, by its CSV name, in list order. A test checks that every
#: name of :data:`churnlab.decide.campaigns.TARGET_COLUMNS` is here: a new column needs a meaning.
COLUMNS: dict[str, Column] = {
    "customer_id": Column("Customer ID", "The customer's identifier, as in the input data.", "text"),
    "name": Column("Customer", "The customer's name.", "text"),
    "owner": Column("Owner", "Who makes the contact: the account owner, or the team named in the settings "
                             "when the account has none.", "text"),
    "zone": Column("Zone", "Where the customer stands: red (at risk and worth saving), dead (likely lost, "
                           "not worth a rescue), watch (early signs) or healthy.", "text"),
    "campaign": Column("Campaign", "The campaign this row belongs to, as named in the settings.", "text"),
    "action": Column("Action", "What to do in the contact.", "text", "long_text"),
    "channel": Column("Channel", "How to reach the customer: their preferred channel when the value tier "
                                 "allows it, else the tier's first (meeting, phone, email, chat, in_app).", "text"),
    "due_date": Column("Due date", "Make the contact by this day. It counts from the as-of date; reactive rows "
                                   "that do not fit the owner's weekly capacity are due a week later.",
                       "date (yyyy-mm-dd)", "date"),
    "compensation_cap": Column("Compensation cap", "The most the conversation may offer this customer, agreed in "
                                                   "advance for their value tier. 0: no compensation.", _MONEY, "money"),
    "value": Column("Customer value", "The customer's value to the business, the figure zones and targeting use "
                                      "(not ARR alone).", _MONEY, "money"),
    "churn_probability": Column("Churn risk", "The chance the customer leaves within the model's horizon after "
                                              "the as-of date.", "percent", "percent"),
    "reasons": Column("Why at risk", "The main drivers of this customer's risk, in words.",
                      "text, ';'-separated", "long_text"),
    "expected_gain": Column("Expected gain", "What trying is expected to bring: churn risk x chance to save x "
                                             "customer value - cost of the action. Can be negative.", _MONEY, "money"),
    "offer": Column("Offer", "The offer from the menu the conversation may make (e.g. \"2 bonus months\"); "
                             "empty: no offer.", "text"),
    "trigger": Column("Trigger", "The rule that fired and put the customer on the reactive list.", "text"),
    "trigger_message": Column("What happened", "That rule's message, with the customer's numbers.", "text",
                              "long_text"),
    "triggered_on": Column("Triggered on", "The day the trigger first fired.", "date (yyyy-mm-dd)", "date"),
    "first_due_date": Column("First due", "When this row was first due; a row carried over from an earlier week "
                                          "keeps it.", "date (yyyy-mm-dd)", "date"),
    "days_waiting": Column("Days waiting", "Days from the first due date to the as-of date.", "days, whole number",
                           "integer"),
    "also_due": Column("Also due for", "The other campaigns this customer was due for in this run (a customer is "
                                       "on one list per run).", "campaign names, ';'-separated", "long_text"),
    "next_action": Column("Next best action", "Of the actions in the history, the one with the highest expected gain "
                                              "for this customer: churn risk x the share of leavers it keeps in the "
                                              "customer's segment (measured against held-out customers) x value - "
                                              "its cost. Empty: no campaign held customers out, so no action's "
                                              "effect is known.", "text"),
    "next_action_why": Column("Why this action", "The figures behind the next best action, with the 95% interval of "
                                                 "its measured uplift.", "text", "long_text"),
    "runner_up": Column("Runner-up", "The action with the second highest expected gain.", "text"),
    "arr": Column("ARR", "Annual recurring revenue at the as-of date (0 where unknown).", _MONEY, "money"),
    "p_save": Column("Chance to save", "The chance that acting keeps the customer.", "percent", "percent"),
    "lapsed_on": Column("Lapsed on", "The day the customer counts as lapsed: its last purchase plus the inactivity "
                                     "window (models.inactivity_days) without another.", "date (yyyy-mm-dd)", "date"),
}


@dataclass(frozen=True)
class _List:
    sheet: str
    what: str
    order: str


#: The lists churnlab writes: sheet title, what the list is for, and the order of its rows.
LISTS = {
    "proactive": _List("Proactive", "Regular contacts by segment (welcome calls, status calls, satisfaction "
                                    "polls, invitations): due when the last contact of the kind is older than "
                                    "the cadence of the customer's value tier. At most one per customer per run.",
                       "By campaign in settings order, then by customer value, highest first."),
    "reactive": _List("Reactive", "Contacts on what changed since the last run: the symptoms and alerts that fired, "
                                  "and the rescue of Red Zone customers. Each row carries the compensation cap of "
                                  "the customer's value tier.",
                      "Critical alerts first, then by expected gain of acting, highest first; each owner's weekly "
                      "capacity is filled in that order and the rest is due a week later."),
    "exit_interviews": _List("Exit interviews", "Dead Zone customers: a conversation to learn why they leave and "
                                                "part on good terms, with no compensation.",
                             "Likeliest to leave first."),
    "win_back": _List("Win-back", "Customers of a purchase log who stopped buying since the previous run "
                                  "(no purchase within the inactivity window): an offer that brings them back. "
                                  "They ended nothing and may come back, so they are not asked why they left.",
                      "Latest lapse first."),
}

_NOBODY = "nobody this week"
_UNDOCUMENTED = "undocumented: churnlab has no meaning for this column"


def header(name: str) -> str:
    """The column's header in words: from :data:`COLUMNS`, else the name with underscores as spaces."""
    return COLUMNS[name].header if name in COLUMNS else name.replace("_", " ")


def write_workbook(path: str | Path, lists: dict[str, pd.DataFrame], as_of) -> Path:
    """Write ``lists`` (list name -> target list, columns by CSV name) to the workbook ``path``.

    The first sheet, "About", explains the run and every column; then one sheet per list in the
    order of ``lists``, its rows in the list's order (the order to work through). A column
    :data:`COLUMNS` does not know is still written, headed by its name with spaces, and the About
    sheet calls it undocumented. An empty list gets its header and a line "nobody this week".

    Same lists, same cell values and formats. The document's created and modified dates are the
    as-of date, not the wall clock; the zip container still stamps its members with the time of
    writing, so two workbooks of the same lists differ in bytes: compare them by cell content.
    """
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    day = pd.Timestamp(as_of).date()
    book = Workbook()
    about = book.active
    about.title = "About"
    _fill_about(about, lists, day)
    for name, frame in lists.items():
        title = (LISTS[name].sheet if name in LISTS else name)[:31]
        _fill_list(book.create_sheet(title), frame)
    book.properties.created = book.properties.modified = datetime.combine(day, datetime.min.time())
    book.properties.creator = "churnlab"
    path = Path(path)
    # openpyxl's save_workbook stamps "modified" with the wall clock; its writer, used directly, does not
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()
    return path


def _columns(frame: pd.DataFrame) -> list[str]:
    # a list built without any column (nothing planned at all) still shows the spec's header
    return [str(c) for c in frame.columns] if len(frame.columns) else list(TARGET_COLUMNS)


def _fill_list(sheet, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    names = _columns(frame)
    sheet.append([header(n) for n in names])
    kinds = [COLUMNS[n].kind if n in COLUMNS else "text" for n in names]
    if frame.empty:
        sheet.append([_NOBODY])
    else:
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_cell(v, k) for v, k in zip(row, kinds)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    last = get_column_letter(len(names))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    wrap = Alignment(wrap_text=True, vertical="top")
    for k, (name, kind) in enumerate(zip(names, kinds), start=1):
        letter = get_column_letter(k)
        cells = [] if frame.empty else next(sheet.iter_cols(min_col=k, max_col=k, min_row=2))
        for cell in cells:
            if kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
            elif kind == "long_text":
                cell.alignment = wrap
        sample = frame[name].head(200).tolist() if name in frame.columns else []
        sheet.column_dimensions[letter].width = _width(header(name), sample, kind)


def _width(title: str, values: list, kind: str) -> float:
    """A width that shows the header and typical ``values``: fixed for formatted numbers and
    dates, else the longest value, capped (long text wraps instead)."""
    fixed = {"percent": 9, "money": 12, "date": 11, "integer": 8}
    words = max([len(w) for w in title.split()] or [0]) + 2
    if kind in fixed:   # the header on one line when it is short, else wrapped at its words
        return max(fixed[kind], words, min(len(title) + 2, 18))
    longest = max([len(title)] + [len(str(v)) for v in values if not _missing(v)])
    return min(50 if kind == "long_text" else 40, max(10, longest + 2))


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):     # list-like values are not missing
        return False


def _cell(value, kind: str):
    """``value`` as openpyxl writes it: missing as empty, numpy scalars as Python, dates as real
    dates (an ISO string in a date column is parsed), whole days as int."""
    if _missing(value):
        return None
    if kind == "date" and isinstance(value, (date, str, np.datetime64)):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            return value                # not a date after all: keep what the list says
        stamp = stamp.tz_localize(None) if stamp.tzinfo else stamp
        return stamp.to_pydatetime() if stamp.time() != datetime.min.time() else stamp.date()
    if isinstance(value, np.generic):
        value = value.item()            # numpy scalar -> Python
    if kind == "integer" and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, pd.Timestamp):
        return (value.tz_localize(None) if value.tzinfo else value).to_pydatetime()
    if isinstance(value, (list, tuple, set)):
        return ";".join(map(str, value))
    return value


def _fill_about(sheet, lists: dict[str, pd.DataFrame], day: date) -> None:
    from openpyxl.styles import Alignment, Font

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def title(text: str) -> None:
        sheet.append([])
        sheet.append([text])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)

    def table(head: list[str], rows: list[list]) -> None:
        sheet.append(head)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                cell.alignment = wrap

    sheet.append([f"Target lists as of {day.isoformat()}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["As-of date", day])
    sheet.cell(2, 2).number_format = NUMBER_FORMATS["date"]
    sheet.cell(2, 2).alignment = Alignment(horizontal="left")
    notes = [
        ("Due dates", "Count from the as-of date (the day the data describes), not from the day this workbook "
                      "is opened. A reactive row that does not fit its owner's weekly capacity is due a week "
                      "later, never dropped."),
        ("Order", "Each list is ordered by priority: work through it from the top."),
        ("One list each", "A customer is on at most one list per run."),
        ("CSV files", "The same lists are in targets/<list>.csv next to this workbook, with the column names "
                      "under \"CSV name\" below."),
    ]
    for label, text in notes:
        sheet.append([label, text])
        sheet.cell(sheet.max_row, 2).alignment = wrap

    title("Lists")
    rows = []
    for name, frame in lists.items():
        known = LISTS.get(name)
        rows.append([known.sheet if known else name, f"{name}.csv", known.what if known else "a list churnlab "
                     "does not describe", known.order if known else "as written", len(frame)])
    table(["Sheet", "CSV file", "What it is", "Ordered by", "Rows"], rows)

    title("Rows per owner")
    rows = []
    for owner in sorted({str(o) for f in lists.values() if "owner" in f.columns for o in f["owner"]}):
        per_list = [int((f["owner"].astype(str) == owner).sum()) if "owner" in f.columns else 0
                    for f in lists.values()]
        rows.append([owner, sum(per_list), *per_list])
    rows.sort(key=lambda r: -r[1])     # busiest owner first; sorted() above breaks ties by name
    table(["Owner", "All lists", *[LISTS[n].sheet if n in LISTS else n for n in lists]], rows or [[_NOBODY]])

    title("Columns")
    seen = list(dict.fromkeys(c for frame in lists.values() for c in _columns(frame)))
    table(["Header", "CSV name", "Meaning", "Unit / format"],
          [[header(c), c, COLUMNS[c].meaning, COLUMNS[c].unit] if c in COLUMNS else
           [header(c), c, _UNDOCUMENTED, ""] for c in seen])

    for letter, width in zip("ABCDEF", (22, 26, 70, 50, 10, 10)):
        sheet.column_dimensions[letter].width = width
