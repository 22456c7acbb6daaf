"""Mappings: a source's own tables and columns read onto the data contract."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from churnlab.cli import app
from churnlab.features.data_health import table_coverage
from churnlab.data.loading import load_data
from churnlab.data.mapping import MappingError, apply_mapping, churn_month_date, months_before
from churnlab.settings import MappingSettings, load_mapping, load_settings

AS_OF = "2026-06-30"
runner = CliRunner()


def mapping(**customers) -> MappingSettings:
    return MappingSettings.model_validate({"tables": {"customers": customers}})


def crm_export() -> pd.DataFrame:
    """A CRM export as read from CSV: every cell text."""
    return pd.DataFrame({
        "Account": ["A-1", "A-2", "A-3"],
        "Created": ["05/01/2024", "17/03/2025", "30/06/2026"],
        "Tier": ["Gold", "Silver", "Bronze"],
        "Seats": ["10", "3", "1"],
    })


def customers_of(raw: dict, m: MappingSettings, as_of=AS_OF) -> pd.DataFrame:
    return apply_mapping(raw, m, as_of=as_of).tables["customers"]


# --- renames, constants, value maps, date formats ---------------------------------------------

def test_columns_are_renamed_onto_the_contract_and_the_rest_kept_as_extras():
    m = mapping(columns={"customer_id": "Account", "signup_date": "Created"})
    out = customers_of({"accounts": crm_export()}, m)
    assert out["customer_id"].tolist() == ["A-1", "A-2", "A-3"]
    assert "Account" not in out and "Created" not in out
    assert out["Tier"].tolist() == ["Gold", "Silver", "Bronze"]  # an extra column, kept as it is


def test_a_constant_column_holds_the_same_value_on_every_row():
    m = mapping(columns={"customer_id": "Account", "signup_date": "Created"}, constants={"region": "EMEA"})
    assert customers_of({"accounts": crm_export()}, m)["region"].tolist() == ["EMEA"] * 3


def test_value_maps_replace_listed_values_and_leave_the_others():
    m = mapping(columns={"customer_id": "Account", "signup_date": "Created"},
                values={"Tier": {"Gold": "enterprise", "Silver": "smb"}})
    assert customers_of({"accounts": crm_export()}, m)["Tier"].tolist() == ["enterprise", "smb", "Bronze"]


def test_date_formats_parse_day_first_dates():
    m = mapping(columns={"customer_id": "Account", "signup_date": "Created"}, date_formats={"Created": "%d/%m/%Y"})
    out = customers_of({"accounts": crm_export()}, m)
    assert out["signup_date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2025-03-17"),
                                           pd.Timestamp("2026-06-30")]


def test_a_date_not_in_its_format_is_quarantined_with_the_format():
    raw = crm_export()
    raw.loc[1, "Created"] = "2025-03-17"
    m = mapping(columns={"customer_id": "Account", "signup_date": "Created"}, date_formats={"Created": "%d/%m/%Y"})
    mapped = apply_mapping({"accounts": raw}, m, as_of=AS_OF)
    assert mapped.tables["customers"]["customer_id"].tolist() == ["A-1", "A-3"]
    row = mapped.quarantine.iloc[0]
    assert (row["table"], row["rule"], row["column"], row["row"], row["customer_id"]) == (
        "customers", "unparseable_date", "Created", 1, "A-2")
    assert row["reason"] == "Created '2025-03-17' does not match the date format %d/%m/%Y"
    assert json.loads(row["record"])["Created"] == "2025-03-17"


def test_yaml_value_maps_keep_yes_and_no_as_text(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("mapping:\n  tables:\n    customers:\n      churn_flag:\n        column: Churn\n"
                      "        values: {Yes: churned, No: active}\n      values:\n        Senior: {1: yes, 0: no}\n")
    table = load_settings(config).mapping.tables["customers"]
    assert table.churn_flag.values == {"Yes": "churned", "No": "active"}
    assert table.values == {"Senior": {"1": "yes", "0": "no"}}


# --- tenure and churn flag --------------------------------------------------------------------

def test_months_before_clips_the_day_to_the_shorter_month():
    dates = pd.Series(pd.to_datetime(["2026-03-31", "2026-06-30", "2024-03-31"]))
    out = months_before(dates, pd.Series([1, 4, 1]))
    assert out.tolist() == [pd.Timestamp("2026-02-28"), pd.Timestamp("2026-02-28"), pd.Timestamp("2024-02-29")]


def test_tenure_months_become_a_signup_date_counted_back_from_the_as_of_date():
    raw = pd.DataFrame({"id": ["a", "b", "c"], "tenure": ["0", "1", "24"]})
    out = customers_of({"flat": raw}, mapping(columns={"customer_id": "id"}, tenure_months="tenure"))
    assert out["signup_date"].tolist() == [pd.Timestamp("2026-06-30"), pd.Timestamp("2026-05-30"),
                                           pd.Timestamp("2024-06-30")]
    assert "tenure" not in out  # spent on signup_date


def test_churn_flag_gives_churners_a_date_in_the_month_before_the_as_of_date():
    raw = pd.DataFrame({"id": ["a", "b"], "tenure": ["5", "5"], "Churn": ["Yes", "No"]})
    m = mapping(columns={"customer_id": "id"}, tenure_months="tenure",
                churn_flag={"column": "Churn", "values": {"Yes": "churned", "No": "active"}})
    out = customers_of({"flat": raw}, m)
    # the month ending on 2026-06-30 runs from 2026-05-31; churners get its first day
    assert churn_month_date(AS_OF) == pd.Timestamp("2026-05-31")
    assert out["churn_date"].iloc[0] == pd.Timestamp("2026-05-31")
    assert pd.isna(out["churn_date"].iloc[1])
    assert out["signup_date"].nunique() == 1  # same tenure, same signup: the flag leaves no trace in tenure
    assert "Churn" not in out  # the flag as a feature would give the answer away


def test_a_churner_with_no_tenure_signs_up_on_its_churn_date():
    raw = pd.DataFrame({"id": ["a"], "tenure": ["0"], "Churn": ["Yes"]})
    m = mapping(columns={"customer_id": "id"}, tenure_months="tenure",
                churn_flag={"column": "Churn", "values": {"Yes": "churned", "No": "active"}})
    out = customers_of({"flat": raw}, m)
    assert out["signup_date"].iloc[0] == out["churn_date"].iloc[0] == pd.Timestamp("2026-05-31")


def test_a_churn_flag_value_not_listed_is_quarantined():
    raw = pd.DataFrame({"id": ["a", "b"], "tenure": ["5", "5"], "Churn": ["Yes", "Maybe"]})
    m = mapping(columns={"customer_id": "id"}, tenure_months="tenure",
                churn_flag={"column": "Churn", "values": {"Yes": "churned", "No": "active"}})
    q = apply_mapping({"flat": raw}, m, as_of=AS_OF).quarantine
    assert q[["rule", "column", "row", "reason"]].values.tolist() == [
        ["unmapped_value", "Churn", 1, "Churn 'Maybe' is not one of Yes, No"]]


def test_tenure_needs_an_as_of_date():
    raw = pd.DataFrame({"id": ["a"], "tenure": ["5"]})
    with pytest.raises(MappingError, match="--as-of"):
        apply_mapping({"flat": raw}, mapping(columns={"customer_id": "id"}, tenure_months="tenure"), as_of=None)


# --- dirty cells ------------------------------------------------------------------------------

TELCO_LIKE = ("customerID,tenure,Contract,TotalCharges,Churn\n"
              "Customer ID,Months with us,Contract type,Total charged,Left last month\n"
              "C-1,3,Month-to-month,89.10,Yes\n"
              "C-2,0,Two year, ,No\n"
              "C-3,12,One year,1200.5,No\n")


def telco_like_mapping() -> MappingSettings:
    return mapping(columns={"customer_id": "customerID"}, tenure_months="tenure", numeric=["TotalCharges"],
                   churn_flag={"column": "Churn", "values": {"Yes": "churned", "No": "active"}})


@pytest.fixture
def telco_like(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(TELCO_LIKE)
    return path


def test_a_description_row_under_the_header_is_quarantined_not_a_crash(telco_like):
    ds = load_data(telco_like, as_of=AS_OF, mapping=telco_like_mapping())
    assert ds["customers"]["customer_id"].tolist() == ["C-1", "C-2", "C-3"]
    row = ds.quarantine.iloc[0]
    assert (row["table"], row["rule"], row["column"], row["row"]) == ("customers", "not_a_number", "tenure", 0)
    assert row["reason"] == "tenure 'Months with us' is not a number"


def test_blank_numeric_cells_become_missing_values_counted_in_the_dataset(telco_like):
    ds = load_data(telco_like, as_of=AS_OF, mapping=telco_like_mapping())
    charges = ds["customers"].set_index("customer_id")["TotalCharges"]
    assert charges.dtype == "float64" and pd.isna(charges["C-2"]) and charges["C-3"] == 1200.5
    missing = ds.missing.set_index(["table", "column"])["count"]
    assert missing[("customers", "TotalCharges")] == 1


def test_reject_mode_refuses_rows_the_mapping_set_aside(telco_like):
    from churnlab.data.contract import DataContractError

    with pytest.raises(DataContractError, match="not_a_number"):
        load_data(telco_like, as_of=AS_OF, on_row_error="reject", mapping=telco_like_mapping())


def test_quarantine_rows_of_validation_point_at_the_source_row(tmp_path):
    (tmp_path / "accounts.csv").write_text("Account,Created\nA-1,2024-01-05\n")
    (tmp_path / "logins.csv").write_text("user,when\nA-1,31.12.2024\nA-1,yesterday\nZ-9,01.01.2025\n")
    m = MappingSettings.model_validate({"tables": {
        "customers": {"source": "accounts", "columns": {"customer_id": "Account", "signup_date": "Created"}},
        "usage_events": {"source": "logins", "columns": {"customer_id": "user", "ts": "when"},
                         "date_formats": {"when": "%d.%m.%Y"}, "constants": {"event_type": "login"}},
    }})
    ds = load_data(tmp_path, mapping=m)
    assert ds["usage_events"]["ts"].tolist() == [pd.Timestamp("2024-12-31")]
    assert ds.quarantine[["table", "rule", "row"]].values.tolist() == [
        ["usage_events", "unknown_customer", 2],  # the third source row, though the second was set aside
        ["usage_events", "unparseable_date", 1]]


# --- errors through the CLI -------------------------------------------------------------------

def write_mapping(tmp_path, text: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return path


def test_a_mapping_naming_a_missing_column_exits_1_naming_entry_column_and_columns(telco_like, tmp_path):
    path = write_mapping(tmp_path, "tables:\n  customers:\n    columns: {customer_id: CustomerId}\n"
                                   "    tenure_months: tenure\n")
    result = runner.invoke(app, ["validate", "--data", str(telco_like), "--mapping", str(path), "--as-of", AS_OF])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "tables.customers.columns.customer_id names the source column 'CustomerId'" in text
    assert "did you mean 'customerID'?" in text
    assert "its columns are: customerID, tenure, Contract, TotalCharges, Churn" in text


def test_a_table_missing_a_required_column_after_mapping_exits_1_saying_how_to_map_it(telco_like, tmp_path):
    path = write_mapping(tmp_path, "tables:\n  customers:\n    columns: {customer_id: customerID}\n")
    result = runner.invoke(app, ["run", "--data", str(telco_like), "--mapping", str(path), "--as-of", AS_OF,
                                 "--out", str(tmp_path / "reports")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "after mapping, customers has no signup_date, which the data contract requires" in text
    assert "signup_date: <source column>" in text and "tenure_months" in text


def test_an_unknown_mapping_name_exits_1_listing_the_shipped_ones(telco_like):
    result = runner.invoke(app, ["validate", "--data", str(telco_like), "--mapping", "salesforce"])
    assert result.exit_code == 1
    assert "telco" in result.output


def test_settings_name_a_shipped_mapping_or_a_file_next_to_them(tmp_path):
    (tmp_path / "mine.yaml").write_text("tables:\n  customers:\n    columns: {customer_id: Id}\n")
    (tmp_path / "a.yaml").write_text("mapping: telco\n")
    (tmp_path / "b.yaml").write_text("mapping: mine.yaml\n")
    assert load_settings(tmp_path / "a.yaml").mapping.tables["customers"].tenure_months == "tenure"
    assert load_settings(tmp_path / "b.yaml").mapping.tables["customers"].columns == {"customer_id": "Id"}


# --- what the report says about absent tables -------------------------------------------------

def test_table_coverage_marks_every_table_but_customers_absent_for_a_flat_export(telco_like):
    ds = load_data(telco_like, as_of=AS_OF, mapping=telco_like_mapping())
    coverage = table_coverage(ds).set_index("table")
    assert coverage["present"].sum() == 1 and coverage.loc["customers", "rows"] == 3
    assert coverage.loc["customers", "features"] == 3  # tenure_days, Contract, TotalCharges
    assert "no ARR" in coverage.loc["subscriptions", "meaning"]
