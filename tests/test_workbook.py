"""targets.xlsx read back with openpyxl: the About sheet, headers in words, formats, odd lists."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from churnlab.decide.campaigns import TARGET_COLUMNS
from churnlab.report.outputs import write_targets
from churnlab.report.workbook import COLUMNS, NUMBER_FORMATS

AS_OF = "2026-06-30"

#: The columns the lead is adding after TARGET_COLUMNS (issue 18), in that order.
COMING = ["expected_gain", "offer", "trigger", "trigger_message", "triggered_on", "first_due_date", "days_waiting",
          "also_due"]


def rows(n: int = 2, **cols) -> pd.DataFrame:
    """A target list of ``n`` rows with all 20 columns, as plan_campaigns builds them (dates as date)."""
    base = {"customer_id": [f"C{k}" for k in range(n)], "name": [f"Acme {k}" for k in range(n)],
            "owner": ["Ana"] * n, "zone": ["red"] * n, "campaign": ["billing_recovery"] * n,
            "action": ["call: settle the failed payment and check the card on file"] * n,
            "channel": ["phone"] * n, "due_date": [date(2026, 7, 3)] * n, "compensation_cap": [2000.0] * n,
            "value": [12345.678] * n, "churn_probability": [0.4567] * n,
            "reasons": ["payment failed twice; usage halved in 30 days"] * n, "expected_gain": [-150.5] * n,
            "offer": ["2 bonus months"] * n, "trigger": ["payment_failed"] * n,
            "trigger_message": ["2 failed payments in 180 days"] * n, "triggered_on": [date(2026, 6, 20)] * n,
            "first_due_date": [date(2026, 6, 23)] * n, "days_waiting": [7] * n, "also_due": ["status_call"] * n}
    base.update(cols)
    return pd.DataFrame(base)[list(base)]


def written(tmp_path, lists: dict[str, pd.DataFrame]):
    return load_workbook(write_targets(tmp_path, lists, AS_OF))


def about_table(sheet, first: str) -> list[tuple]:
    """The rows of the About table whose header row starts with ``first``, up to the blank line."""
    values = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    start = next(k for k, r in enumerate(values) if r[0] == first)
    out = []
    for r in values[start + 1:]:
        if r[0] is None:
            break
        out.append(r)
    return out


def cell(sheet, column: str, row: int = 2):
    """The cell of ``column`` (by its header in words) in ``row``."""
    headers = [c.value for c in sheet[1]]
    return sheet.cell(row, headers.index(COLUMNS[column].header) + 1)


def test_every_target_column_has_a_meaning():
    missing = [c for c in TARGET_COLUMNS if c not in COLUMNS or not COLUMNS[c].meaning or not COLUMNS[c].unit]
    assert not missing, f"TARGET_COLUMNS without a meaning in churnlab/report/workbook.py COLUMNS: {missing}"


def test_every_target_column_has_a_meaning_and_a_header_of_its_own():
    assert all(c in COLUMNS for c in COMING) and set(COMING) <= set(TARGET_COLUMNS)
    headers = [COLUMNS[c].header for c in dict.fromkeys([*TARGET_COLUMNS, *COMING])]
    assert len(set(headers)) == len(headers)


def test_about_is_the_first_sheet_and_gives_the_as_of_date(tmp_path):
    book = written(tmp_path, {"reactive": rows()})
    assert book.sheetnames == ["About", "Reactive"]
    got = dict((r[0], r[1]) for r in book["About"].iter_rows(max_col=2, values_only=True) if r[0])
    assert got["As-of date"] == datetime(2026, 6, 30)
    assert "as-of date" in got["Due dates"]


def test_about_sheet_names_every_column_with_its_header_meaning_and_unit(tmp_path):
    book = written(tmp_path, {"reactive": rows()})
    table = about_table(book["About"], "Header")
    assert [r[1] for r in table] == list(rows().columns)
    assert [r[0] for r in table] == [c.value for c in book["Reactive"][1]]
    assert all(r[2] == COLUMNS[r[1]].meaning and r[3] == COLUMNS[r[1]].unit for r in table)


def test_about_sheet_counts_rows_per_list_and_per_owner(tmp_path):
    lists = {"proactive": rows(3, owner=["Ana", "Ben", "Ana"]), "reactive": rows(1, owner=["Ben"]),
             "exit_interviews": rows(0)}
    book = written(tmp_path, lists)
    per_list = {r[0]: r[4] for r in about_table(book["About"], "Sheet")}
    assert per_list == {"Proactive": 3, "Reactive": 1, "Exit interviews": 0}
    per_owner = about_table(book["About"], "Owner")
    # Ana 2 + 0 + 0, Ben 1 + 1 + 0: a tie on total is broken by name
    assert per_owner == [("Ana", 2, 2, 0, 0), ("Ben", 2, 1, 1, 0)]


def test_list_headers_are_words_and_the_csv_keeps_machine_names(tmp_path):
    lists = {"reactive": rows()}
    book = written(tmp_path, lists)
    headers = [c.value for c in book["Reactive"][1]]
    assert headers[:4] == ["Customer ID", "Customer", "Owner", "Zone"]
    assert "Churn risk" in headers and "Compensation cap" in headers and "Due date" in headers
    assert not any("_" in h for h in headers)
    back = pd.read_csv(tmp_path / "targets" / "reactive.csv", keep_default_na=False)
    assert list(back.columns) == list(rows().columns)
    assert back.loc[0, "due_date"] == "2026-07-03" and back.loc[0, "value"] == pytest.approx(12345.678)


def test_number_formats_follow_the_meaning_of_the_column(tmp_path):
    sheet = written(tmp_path, {"reactive": rows(arr=[5000.0, 6000.0], p_save=[0.3, 0.3])})["Reactive"]
    for col in ("churn_probability", "p_save"):
        assert cell(sheet, col).number_format == NUMBER_FORMATS["percent"] == "0.0%", col
    assert cell(sheet, "churn_probability").value == pytest.approx(0.4567)       # the value itself, not rounded
    for col in ("value", "expected_gain", "compensation_cap", "arr"):
        assert cell(sheet, col).number_format == "#,##0", col
    assert cell(sheet, "value").value == pytest.approx(12345.678)
    assert cell(sheet, "days_waiting").number_format == "0" and cell(sheet, "days_waiting").value == 7
    assert cell(sheet, "name").number_format == "General"


def test_dates_are_date_cells_even_when_the_list_holds_iso_strings(tmp_path):
    frame = rows(2, due_date=["2026-07-03", "2026-07-10"], triggered_on=[pd.Timestamp("2026-06-20"), None])
    sheet = written(tmp_path, {"reactive": frame})["Reactive"]
    for col in ("due_date", "first_due_date", "triggered_on"):
        c = cell(sheet, col)
        assert c.is_date and isinstance(c.value, datetime) and c.number_format == "yyyy-mm-dd", col
    assert cell(sheet, "due_date", 3).value == datetime(2026, 7, 10)
    assert cell(sheet, "triggered_on", 3).value is None                          # missing stays empty


def test_header_is_frozen_filterable_and_long_text_wraps(tmp_path):
    sheet = written(tmp_path, {"reactive": rows(3)})["Reactive"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:T4"
    for col in ("reasons", "trigger_message", "action"):
        assert cell(sheet, col).alignment.wrap_text, col
        assert sheet.column_dimensions[cell(sheet, col).column_letter].width <= 50
    assert not cell(sheet, "customer_id").alignment.wrap_text


def test_a_column_without_a_meaning_is_written_and_called_undocumented(tmp_path):
    frame = rows(2).assign(risk_band=["high", "low"])
    book = written(tmp_path, {"reactive": frame})
    sheet = book["Reactive"]
    assert sheet.cell(1, 21).value == "risk band" and sheet.cell(3, 21).value == "low"
    about = {r[1]: r for r in about_table(book["About"], "Header")}
    assert about["risk_band"][0] == "risk band" and "undocumented" in about["risk_band"][2]
    assert "undocumented" not in about["customer_id"][2]


def test_an_empty_list_gets_its_header_and_nobody_this_week(tmp_path):
    book = written(tmp_path, {"proactive": rows(2), "exit_interviews": rows(0)})
    sheet = book["Exit interviews"]
    assert [c.value for c in sheet[1]] == [COLUMNS[c].header for c in rows().columns]
    assert sheet["A2"].value == "nobody this week" and sheet.max_row == 2
    assert (tmp_path / "targets" / "exit_interviews.csv").read_text().strip() == ",".join(rows().columns)


def test_same_lists_give_the_same_cells(tmp_path):
    lists = {"proactive": rows(3, owner=["Ben", "Ana", "Ana"]), "reactive": rows(2), "exit_interviews": rows(0)}

    def content(folder):
        book = written(folder, lists)
        props = (book.properties.created, book.properties.modified)
        return props, {s.title: [[(c.value, c.number_format) for c in r] for r in s.iter_rows()] for s in book}

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = content(tmp_path / "a"), content(tmp_path / "b")
    assert first == second
    assert first[0] == (datetime(2026, 6, 30), datetime(2026, 6, 30))    # the as-of date, not the wall clock
