"""The mapping keys that spare a user pandas (drop, compute, encoding, separator, decimal, sheet,
keep_other_columns), numbers read from dirty columns, and the example mappings in examples/."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pydantic import ValidationError

from churnlab.data.chunked import open_source
from churnlab.data.column_types import column_types, read_numbers
from churnlab.data.loading import load_data
from churnlab.data.mapping import MappingError, apply_mapping, months_before
from churnlab.settings import MappingSettings, Settings, load_mapping

AS_OF = "2026-06-30"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def mapping(**customers) -> MappingSettings:
    return MappingSettings.model_validate({"tables": {"customers": customers}})


def accounts(**extra) -> pd.DataFrame:
    """Three accounts as read from a CSV (every cell text), with ``extra`` columns."""
    return pd.DataFrame({"Account": ["A-1", "A-2", "A-3"], "Created": ["2024-01-05", "2025-03-17", "2026-06-01"],
                         **extra})


NAMED = {"columns": {"customer_id": "Account", "signup_date": "Created"}}


# --- drop -------------------------------------------------------------------------------------

def test_dropped_columns_never_reach_the_table():
    raw = accounts(RowNumber=["1", "2", "3"], Surname=["Hargrave", "Hill", "Onio"], Tier=["a", "b", "a"])
    out = apply_mapping({"bank": raw}, mapping(**NAMED, drop=["RowNumber", "Surname"])).tables["customers"]
    assert list(out.columns) == ["customer_id", "signup_date", "Tier"]


def test_dropping_a_column_the_source_lacks_is_an_error_listing_its_columns():
    with pytest.raises(MappingError) as err:
        apply_mapping({"bank": accounts(Surname=["x", "y", "z"])}, mapping(**NAMED, drop=["surnames"]))
    text = str(err.value)
    assert "tables.customers.drop names the source column 'surnames'" in text
    assert "did you mean 'Surname'?" in text
    assert "its columns are: Account, Created, Surname" in text


def test_a_column_both_dropped_and_renamed_is_refused():
    with pytest.raises(MappingError, match="'Account' is both under drop and under columns.customer_id"):
        apply_mapping({"bank": accounts()}, mapping(**NAMED, drop=["Account"]))


# --- compute ----------------------------------------------------------------------------------

def test_compute_turns_tenure_in_years_into_the_months_that_give_signup_date():
    raw = pd.DataFrame({"CustomerId": ["1", "2"], "Tenure": ["2", "0.5"]})
    m = mapping(columns={"customer_id": "CustomerId"}, numeric=["Tenure"], drop=["Tenure"],
                compute={"tenure_months": "Tenure * 12"}, tenure_months="tenure_months")
    out = apply_mapping({"bank": raw}, m, as_of=AS_OF).tables["customers"]
    expected = months_before(pd.Series([pd.Timestamp(AS_OF)] * 2), pd.Series([24, 6]))
    assert out["signup_date"].tolist() == expected.tolist()  # 2026-06-30 less 24 and 6 months
    assert list(out.columns) == ["customer_id", "signup_date"]  # Tenure dropped, tenure_months spent


def test_compute_reads_a_text_column_of_numbers_and_backticked_names():
    raw = accounts(**{"Monthly Charges": ["10", "20.5", ""], "Seats": ["1", "2", "4"]})
    m = mapping(**NAMED, compute={"per_seat": "`Monthly Charges` / Seats", "big": "Seats >= 2"})
    out = apply_mapping({"crm": raw}, m).tables["customers"]
    assert out["per_seat"].tolist()[:2] == [10.0, 10.25] and pd.isna(out["per_seat"].iloc[2])
    assert out["big"].tolist() == [0.0, 1.0, 1.0]  # a condition gives 1 or 0


def test_a_later_compute_entry_reads_an_earlier_one():
    m = mapping(**NAMED, compute={"double": "Seats * 2", "quadruple": "double * 2"})
    out = apply_mapping({"crm": accounts(Seats=["1", "2", "3"])}, m).tables["customers"]
    assert out["quadruple"].tolist() == [4.0, 8.0, 12.0]


@pytest.mark.parametrize("expression, column, message", [
    ("Tenur * 12", 1, "unknown column 'Tenur'; did you mean 'Tenure'?"),
    ("Tenure * ", 9, "syntax error: the expression ends too early"),
    ("__import__('os').system('ls')", 1, "calling a method ('.system(...)') is not allowed"),
    ("Tenure ** 2", 1, "operator '**' is not allowed (only + - * /)"),
    ("prev.Tenure * 12", 1, "prev.Tenure: there is no previous value here"),
])
def test_a_compute_error_names_table_key_and_column_like_the_rules(expression, column, message):
    m = mapping(columns={"customer_id": "Id"}, compute={"months": expression})
    with pytest.raises(MappingError) as err:
        apply_mapping({"bank": pd.DataFrame({"Id": ["1"], "Tenure": ["2"]})}, m)
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"mapping tables.customers.compute.months, column {column}: {message}")
    assert str(err.value).splitlines()[1].strip() == expression.strip()  # the expression, then a caret under it


def test_arithmetic_on_a_dirty_text_column_says_to_list_it_under_numeric():
    m = mapping(**NAMED, compute={"months": "Tenure * 12"})
    with pytest.raises(MappingError) as err:
        apply_mapping({"bank": accounts(Tenure=["1", "?", "3"])}, m)
    assert "arithmetic needs numbers, got text ('Tenure')" in str(err.value)
    assert "list it under numeric" in str(err.value)


def test_a_computed_column_may_not_reuse_a_source_name():
    with pytest.raises(MappingError, match="already has a column 'Seats'; give the computed column a new name"):
        apply_mapping({"crm": accounts(Seats=["1", "2", "3"])}, mapping(**NAMED, compute={"Seats": "Seats * 2"}))


# --- encoding, separator, decimal, sheet --------------------------------------------------------

EUROPEAN = ("Customer No;Start date;End date;Monthly fee;City;Discount\n"
            "K-1;05.01.2024;;1.234,56;Zürich;12,5\n"
            "K-2;17.03.2025;31.05.2026;12,5;São Paulo;0\n"
            "K-3;30.06.2026;;99;Köln;7,25\n")


def test_a_latin1_semicolon_export_with_decimal_commas_loads_through_the_example_mapping(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(EUROPEAN.encode("latin-1"))
    data = load_data(path, as_of=AS_OF, mapping=load_mapping(EXAMPLES / "european-export.yaml"))
    customers = data["customers"]
    assert customers["customer_id"].tolist() == ["K-1", "K-2", "K-3"]
    assert customers["Monthly fee"].tolist() == [1234.56, 12.5, 99.0]
    assert customers["Discount"].tolist() == [12.5, 0.0, 7.25]  # an extra column read with the decimal comma
    assert customers["City"].tolist() == ["Zürich", "São Paulo", "Köln"]
    assert customers["churn_date"].tolist()[1] == pd.Timestamp("2026-05-31")
    assert data.quarantine.empty


def test_a_latin1_file_read_as_utf8_says_to_set_the_encoding(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(EUROPEAN.encode("latin-1"))
    m = mapping(separator=";", columns={"customer_id": "Customer No", "signup_date": "Start date"})
    with pytest.raises(MappingError, match=r"customers.csv is not utf-8 text .*tables.customers.encoding: latin-1"):
        load_data(path, mapping=m)


def test_a_semicolon_file_read_with_commas_says_to_set_the_separator(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("Id;Created\nA;2024-01-01\n")
    with pytest.raises(MappingError, match="looks separated by ';'; set tables.customers.separator: ';'"):
        load_data(path, mapping=mapping(columns={"customer_id": "Id", "signup_date": "Created"}))


def test_with_a_decimal_comma_a_point_alone_is_ambiguous_and_quarantined():
    m = mapping(**NAMED, decimal=",", numeric=["Fee"])
    mapped = apply_mapping({"crm": accounts(Fee=["1.234", "1.5", "1 234,5"])}, m)
    assert mapped.tables["customers"]["Fee"].tolist() == [1234.0, 1234.5]  # thousands grouped in threes
    row = mapped.quarantine.iloc[0]
    assert (row["rule"], row["row"], row["reason"]) == ("not_a_number", 1, "Fee '1.5' is not a number (decimal: ',')")


def test_read_numbers_knows_thousands_separators_only_in_groups_of_three():
    point = read_numbers(pd.Series(["1,234.5", "1,23", "12", " 7 ", "1e3", "inf"]))
    assert point.fillna(-1).tolist() == [1234.5, -1, 12.0, 7.0, 1000.0, -1]  # infinity is no use to a feature
    comma = read_numbers(pd.Series(["1.234.567,8", "1'234,5", "12,5", "1.2345"]), decimal=",")
    assert comma.iloc[:3].tolist() == [1234567.8, 1234.5, 12.5] and pd.isna(comma.iloc[3])


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["This workbook holds the customers on the next sheet"])
    sheet = book.create_sheet("Customers")
    sheet.append(["Account", "Created", "Seats", "Notes"])
    sheet.append([1001, pd.Timestamp("2024-01-05").to_pydatetime(), 10, "called in May"])
    sheet.append([1002, pd.Timestamp("2025-03-17").to_pydatetime(), 2.5, None])
    book.save(path)
    return path


def test_a_sheet_of_an_xlsx_workbook_loads_through_the_example_mapping(tmp_path):
    workbook(tmp_path / "accounts.xlsx")
    data = load_data(tmp_path / "accounts.xlsx", mapping=load_mapping(EXAMPLES / "workbook.yaml"))
    customers = data["customers"]
    assert customers["customer_id"].tolist() == ["1001", "1002"]  # whole numbers without ".0"
    assert customers["signup_date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2025-03-17")]
    assert "Seats" not in customers and "Notes" not in customers  # keep_other_columns: false


def test_an_xlsx_in_a_folder_is_read_and_a_missing_sheet_named(tmp_path):
    workbook(tmp_path / "accounts.xlsx")
    m = MappingSettings.model_validate({"tables": {"customers": {"source": "accounts", "sheet": 1, **NAMED}}})
    assert load_data(tmp_path, mapping=m)["customers"]["Seats"].tolist() == [10.0, 2.5]
    wrong = MappingSettings.model_validate({"tables": {"customers": {"source": "accounts", "sheet": "Kunden", **NAMED}}})
    with pytest.raises(MappingError, match="accounts.xlsx has no sheet 'Kunden'; its sheets are: Read me, Customers"):
        load_data(tmp_path, mapping=wrong)


def test_an_xlsx_without_a_mapping_and_a_sheet_for_a_csv_are_refused(tmp_path):
    with pytest.raises(ValueError, match="is an .xlsx workbook: give a mapping"):
        load_data(workbook(tmp_path / "accounts.xlsx"))
    (tmp_path / "customers.csv").write_text("Account,Created\nA,2024-01-01\n")
    with pytest.raises(MappingError, match="tables.customers.sheet: customers.csv is a CSV file, and sheet applies "
                                           "to .xlsx workbooks only"):
        load_data(tmp_path / "customers.csv", mapping=mapping(**NAMED, sheet="Customers"))


@pytest.mark.parametrize("keys, message", [
    ({"separator": ";;"}, "the separator is one character"),
    ({"encoding": "latin-9000"}, "unknown encoding 'latin-9000'"),
    ({"separator": ",", "decimal": ","}, "separator and decimal are both ','"),
])
def test_read_keys_are_checked_when_the_mapping_loads(keys, message):
    with pytest.raises(ValidationError, match=message):
        mapping(**NAMED, **keys)


def test_a_mapped_export_is_read_whole_even_when_chunking_is_asked_for(tmp_path):
    (tmp_path / "customers.csv").write_bytes(EUROPEAN.encode("latin-1"))
    settings = Settings.model_validate({"validation": {"chunk_rows": 1},
                                        "mapping": load_mapping(EXAMPLES / "european-export.yaml").model_dump()})
    data = open_source(tmp_path, AS_OF, tmp_path / "work", settings=settings)
    assert data["customers"]["Monthly fee"].tolist() == [1234.56, 12.5, 99.0]
    assert not (tmp_path / "work").exists()  # nothing was validated chunk by chunk


# --- keep_other_columns -----------------------------------------------------------------------

def test_keep_other_columns_false_keeps_only_the_named_columns():
    raw = accounts(Tier=["a", "b", "c"], Seats=["1", "2", "3"])
    out = apply_mapping({"crm": raw}, mapping(**NAMED, numeric=["Seats"], keep_other_columns=False,
                                              compute={"seats2": "Seats * 2"})).tables["customers"]
    assert list(out.columns) == ["customer_id", "signup_date"]


# --- the example with tenure in years ---------------------------------------------------------

def test_the_bank_example_drops_row_numbers_and_names_and_reads_tenure_in_years(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text("RowNumber,CustomerId,Surname,CreditScore,Geography,Tenure,Balance,Exited\n"
                    "1,15634602,Hargrave,619,France,2,0,1\n"
                    "2,15647311,Hill,608,Spain,1,83807.86,0\n"
                    "3,15619304,Onio,502,France,8,159660.8,1\n")
    data = load_data(path, as_of=AS_OF, mapping=load_mapping(EXAMPLES / "bank-tenure-years.yaml"))
    customers = data["customers"].set_index("customer_id")
    assert "RowNumber" not in customers and "Surname" not in customers and "Tenure" not in customers
    # tenure 8 years: signed up 96 months before the as-of date
    assert customers.loc["15619304", "signup_date"] == pd.Timestamp("2018-06-30")
    assert customers.loc["15647311", "signup_date"] == pd.Timestamp("2025-06-30")
    assert customers["churn_date"].notna().tolist() == [True, False, True]
    assert customers["Balance"].tolist() == [0.0, 83807.86, 159660.8]


# --- numbers with a few dirty cells -------------------------------------------------------------

def dirty_numbers(n: int = 40, dirty: dict | None = None) -> list[str]:
    cells = [str(10 * i) for i in range(n)]
    for row, text in (dirty or {}).items():
        cells[row] = text
    return cells


def crm(n: int, **extra) -> pd.DataFrame:
    return pd.DataFrame({"Account": [f"A-{i}" for i in range(n)], "Created": ["2024-01-05"] * n, **extra})


def test_a_column_of_numbers_with_one_stray_question_mark_is_read_as_numbers_and_the_row_set_aside():
    raw = crm(40, Balance=dirty_numbers(40, {7: "?", 9: ""}))  # 38 numbers, 1 blank, 1 '?': 38/39 = 97% >= 95%
    mapped = apply_mapping({"crm": raw}, mapping(**NAMED))
    balance = mapped.tables["customers"]["Balance"]
    assert balance.dtype == "float64" and len(balance) == 39 and balance.isna().sum() == 1  # the blank stays, missing
    row = mapped.quarantine.iloc[0]
    assert (row["rule"], row["column"], row["row"], row["customer_id"]) == ("not_a_number", "Balance", 7, "A-7")
    assert row["reason"] == ("Balance '?' is not a number, and the column is read as numbers: 38 of 39 filled "
                             "cells are (validation.numeric_share 0.95)")


def test_a_column_with_more_text_than_the_threshold_allows_stays_text():
    raw = crm(40, Code=dirty_numbers(40, {1: "x", 2: "y", 3: "z"}))  # 37 of 40 = 92.5% < 95%
    mapped = apply_mapping({"crm": raw}, mapping(**NAMED))
    assert mapped.tables["customers"]["Code"].tolist()[:3] == ["0", "x", "y"] and mapped.quarantine.empty
    looser = apply_mapping({"crm": raw}, mapping(**NAMED), numeric_share=0.9)
    assert looser.tables["customers"]["Code"].dtype == "float64" and len(looser.quarantine) == 3


def test_a_plain_contract_folder_reads_a_dirty_extra_column_as_numbers_too(tmp_path):
    pd.DataFrame({"customer_id": [f"C-{i}" for i in range(40)], "signup_date": "2024-01-05",
                  "employees": dirty_numbers(40, {12: "n/k"})}).to_csv(tmp_path / "customers.csv", index=False)
    data = load_data(tmp_path, as_of=AS_OF)
    assert data["customers"]["employees"].dtype == "float64" and len(data["customers"]) == 39
    row = data.quarantine.iloc[0]
    assert (row["table"], row["rule"], row["column"], row["row"], row["customer_id"]) == (
        "customers", "not_a_number", "employees", 12, "C-12")
    assert data.accounting.set_index("table").loc["customers", "quarantined"] == 1
    strict = load_data(tmp_path, as_of=AS_OF, numeric_share=1.0)
    assert strict.quarantine.empty and strict["customers"]["employees"].dtype != "float64"


def test_column_types_lists_each_extra_column_with_its_type_and_why(tmp_path):
    pd.DataFrame({"customer_id": [f"C-{i}" for i in range(40)], "signup_date": "2024-01-05",
                  "employees": dirty_numbers(40, {12: "?", 13: ""}),
                  "plan_name": ["basic", "pro"] * 20,
                  "code": dirty_numbers(40, {1: "x", 2: "y", 3: "z"})}).to_csv(tmp_path / "customers.csv", index=False)
    data = load_data(tmp_path, as_of=AS_OF)  # row 12 ('?' under employees) is set aside: 39 rows remain
    types = column_types(data).set_index("column")
    assert types["type"].to_dict() == {"employees": "number", "plan_name": "text", "code": "text"}
    assert types.loc["employees", "why"] == ("numbers: 38 of 39 cells; 1 blank (missing); 1 row with other text "
                                             "set aside as not_a_number, e.g. '?' (data_quality.csv)")
    assert types.loc["plan_name", "why"] == "text: 2 distinct values"
    assert types.loc["code", "why"] == ("text: 39 distinct values; 36 of 39 filled cells are numbers (fewer than "
                                        "the 95% of validation.numeric_share)")


def test_the_quarantine_record_of_a_dirty_cell_holds_the_source_row():
    raw = crm(40, Balance=dirty_numbers(40, {3: "?"}))
    record = json.loads(apply_mapping({"crm": raw}, mapping(**NAMED)).quarantine["record"].iloc[0])
    assert record == {"Account": "A-3", "Created": "2024-01-05", "Balance": "?"}


@pytest.mark.parametrize("name", ["european-export.yaml", "workbook.yaml", "bank-tenure-years.yaml"])
def test_the_readme_shows_the_example_mappings_the_tests_load(name):
    import re

    import yaml

    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if b.startswith(f"# examples/{name}")]
    assert len(blocks) == 1, f"README has no yaml block starting '# examples/{name}'"
    shown = MappingSettings.model_validate(yaml.safe_load(blocks[0])).model_dump(exclude={"description"})
    assert shown == load_mapping(EXAMPLES / name).model_dump(exclude={"description"})


def test_read_keys_on_a_duckdb_table_are_refused(tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "crm.duckdb")) as con:
        con.execute("CREATE TABLE accounts AS SELECT 'A-1' AS Account, DATE '2024-01-05' AS Created")
    m = MappingSettings.model_validate({"tables": {"customers": {"source": "accounts", "separator": ";", **NAMED}}})
    with pytest.raises(MappingError, match="tables.customers.separator: accounts is a table of the DuckDB file"):
        load_data(tmp_path / "crm.duckdb", mapping=m)


def test_two_tables_reading_one_file_must_read_it_the_same_way(tmp_path):
    (tmp_path / "flat.csv").write_text("Account;Created\nA-1;2024-01-05\n")
    m = MappingSettings.model_validate({"tables": {
        "customers": {"source": "flat", "separator": ";", **NAMED},
        "subscriptions": {"source": "flat", "columns": {"customer_id": "Account", "start_date": "Created"}}}})
    with pytest.raises(MappingError, match="both read 'flat' but say differently how"):
        load_data(tmp_path, mapping=m)


def test_column_types_says_which_columns_the_mapping_listed_as_numbers(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("customerID,tenure,Contract,TotalCharges,Churn\nC-1,3,Month-to-month,89.10,Yes\n"
                    "C-2,0,Two year, ,No\nC-3,12,One year,1200.5,No\n")
    m = mapping(columns={"customer_id": "customerID"}, tenure_months="tenure", numeric=["TotalCharges"],
                churn_flag={"column": "Churn", "values": {"Yes": "churned", "No": "active"}})
    types = column_types(load_data(path, as_of=AS_OF, mapping=m), mapping=m).set_index("column")
    assert types.loc["TotalCharges", "why"] == ("numbers: 2 of 3 cells; 1 blank (missing); listed under numeric "
                                                "in the mapping")
    assert types.loc["Contract", "why"] == "text: 3 distinct values"
