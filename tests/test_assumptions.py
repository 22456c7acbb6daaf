"""The run says what it assumed: the churn definition, what a churn flag meant, and which tables
and columns fed which features (notebook 01 and manifest.json)."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd

from churnlab.data.loading import load_data
from churnlab.features.assumptions import assumptions_frame, run_assumptions
from churnlab.features.catalogue import FEATURES
from churnlab.report.manifest import write_manifest
from churnlab.settings import MappingSettings, Settings

AS_OF = "2026-06-30"
FLAT = pd.DataFrame({"customerID": ["C-1", "C-2", "C-3"], "tenure": ["3", "0", "12"],
                     "Contract": ["Month-to-month", "Two year", "One year"], "Churn": ["Yes", "No", "No"],
                     "Notes": [None, None, None]})


def flat_settings(**models) -> Settings:
    mapping = MappingSettings.model_validate({"tables": {"customers": {
        "columns": {"customer_id": "customerID"}, "tenure_months": "tenure",
        "churn_flag": {"column": "Churn", "values": {"Yes": "churned", "No": "active"}}}}})
    return Settings(mapping=mapping, models=models)


def test_a_churn_flag_is_said_to_mean_left_in_the_month_ending_on_the_as_of_date():
    said = run_assumptions(flat_settings(), ["customers"], as_of=AS_OF)
    # the month ending on 30 June: from the day after 30 May
    assert said["churn_flag"].startswith("tables.customers.churn_flag: Churn = Yes was taken to mean the customer "
                                         "left in the month ending on the as-of date: its churn_date is that "
                                         "month's first day (2026-05-31)")
    assert "No means active" in said["churn_flag"]
    assert "comes from the churn flag" in said["churn_definition"]


def test_without_a_mapping_churn_dates_are_taken_as_given():
    said = run_assumptions(Settings(), ["customers", "usage_events"])
    assert said["churn_flag"] == "no churn flag: churn dates are read from customers.churn_date as given"
    assert said["churn_definition"].startswith("models.churn: contract — a customer churned on its customers.churn_date")


def test_inactivity_churn_names_its_gap_and_falls_back_without_usage():
    settings = Settings(models={"churn": "inactivity", "inactivity_days": 45})
    with_usage = run_assumptions(settings, ["customers", "usage_events"])["churn_definition"]
    assert "also churned 45 days after its last use when no use followed within it" in with_usage
    assert "active again from its next use" in with_usage
    without = run_assumptions(settings, ["customers"])["churn_definition"]
    assert without.startswith("models.churn: inactivity, but the source has no usage_events: read as contract")


def test_the_horizon_and_snapshots_are_the_settings_ones():
    said = run_assumptions(Settings(horizon_days=60, models={"snapshots": 5}), ["customers"])
    assert "churn within 60 days after it" in said["horizon"]
    assert said["training"].startswith("models.snapshots: 5 month ends before the as-of date")


def flat_data(tmp_path):
    """The flat export read through its mapping, as a run reads it."""
    path = tmp_path / "export.csv"
    FLAT.to_csv(path, index=False)
    return load_data(path, as_of=AS_OF, mapping=flat_settings().mapping)


def test_each_table_says_where_it_came_from_and_which_features_it_fed(tmp_path):
    data = flat_data(tmp_path)
    said = run_assumptions(flat_settings(), data.tables, data["customers"], AS_OF)
    by_table = {e["table"]: e for e in said["features"]}
    assert by_table["customers"]["features"] == [f.name for f in FEATURES if f.table == "customers"]
    assert by_table["customers"]["read_from"] == (
        "the file given as --data: customer_id <- customerID; signup_date <- tenure (whole months as a customer, "
        "counted back from the as-of date); churn_date <- Churn (the churn flag, see above)")
    assert by_table["usage_events"] == {"table": "usage_events", "read_from": "absent", "features": []}
    # the customer's own filled-in columns are features as they are; an all-empty one is not
    assert by_table["customers (own columns)"]["features"] == ["Contract"]


def test_the_frame_has_one_row_per_assumption_and_per_table():
    said = run_assumptions(Settings(), ["customers", "surveys"])
    frame = assumptions_frame(said)
    assert list(frame.columns) == ["topic", "assumption"]
    assert frame["topic"].tolist()[:4] == ["churn definition", "horizon", "training", "churn flag"]
    surveys = frame.set_index("topic").loc["table surveys", "assumption"]
    assert surveys.startswith("from the source's surveys table") and "last_nps" in surveys
    assert frame.set_index("topic").loc["table invoices", "assumption"] == "absent: no features from it"


def test_the_manifest_keeps_the_assumptions(tmp_path):
    settings = flat_settings()
    data = flat_data(tmp_path)
    path = write_manifest(tmp_path, data, date(2026, 6, 30), settings, steps_seconds={}, status="ok",
                          rows={"customers": 3})
    kept = json.loads(path.read_text())["assumptions"]
    assert kept == run_assumptions(settings, ["customers"], data["customers"], AS_OF)
    assert "2026-05-31" in kept["churn_flag"]
