"""Reading sources and the point-in-time view of ``load_data``."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from churnlab.data.loading import Dataset, fingerprint, load_data, read_tables
from churnlab.data.contract import DataContractError

CUSTOMERS = pd.DataFrame({
    "customer_id": ["C-1", "C-2", "C-3"],
    "signup_date": ["2024-01-01", "2024-02-01", "2024-07-01"],
    "churn_date": [None, "2024-08-15", None],
    "churn_reason": [None, "price", None],
})
EVENTS = pd.DataFrame({
    "customer_id": ["C-1", "C-2", "C-2", "C-404"],
    "ts": ["2024-06-30T23:59:00", "2024-07-01T00:00:00", "2024-05-01T10:00:00", "2024-05-01T10:00:00"],
    "event_type": ["login", "login", "export", "login"],
})
TICKETS = pd.DataFrame({
    "ticket_id": ["T-1", "T-2", "T-3"],
    "customer_id": ["C-1", "C-1", "C-2"],
    "opened_at": ["2024-06-01T09:00:00", "2024-06-20T09:00:00", "2024-07-02T09:00:00"],
    "closed_at": ["2024-06-02T09:00:00", "2024-07-05T09:00:00", None],
    "csat": ["5", "2", None],
})
SUBSCRIPTIONS = pd.DataFrame({
    "subscription_id": ["S-1", "S-2"], "customer_id": ["C-1", "C-2"],
    "start_date": ["2024-01-01", "2024-02-01"], "end_date": [None, "2024-08-15"], "mrr": ["100", "50"],
})
INVOICES = pd.DataFrame({
    "invoice_id": ["I-1", "I-2", "I-3"], "customer_id": ["C-1", "C-1", "C-1"],
    "issued_at": ["2024-05-01", "2024-06-01", "2024-06-25"],
    "due_at": ["2024-05-31", "2024-06-20", "2024-07-25"],
    "paid_at": ["2024-05-20", "2024-07-10", "2024-07-10"],
    "amount": ["100", "100", "100"], "status": ["paid", "paid", "paid"],
})
AS_OF = "2024-06-30"


def write_folder(folder: Path, tables: dict, fmt: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def source(tmp_path) -> Path:
    return write_folder(tmp_path / "data", {"customers": CUSTOMERS, "usage_events": EVENTS,
                                            "support_tickets": TICKETS, "subscriptions": SUBSCRIPTIONS,
                                            "invoices": INVOICES})


# --- reading ---------------------------------------------------------------------------------

def test_read_tables_reads_csv_as_text_and_ignores_unknown_files(source):
    (source / "notes.csv").write_text("a,b\n1,2\n")
    tables = read_tables(source)
    assert sorted(tables) == ["customers", "invoices", "subscriptions", "support_tickets", "usage_events"]
    assert tables["subscriptions"]["mrr"].tolist() == ["100", "50"]


def test_read_tables_reads_parquet(tmp_path):
    folder = write_folder(tmp_path / "pq", {"customers": CUSTOMERS, "usage_events": EVENTS}, fmt="parquet")
    assert sorted(read_tables(folder)) == ["customers", "usage_events"]


def test_read_tables_reads_a_duckdb_file(tmp_path):
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE customers (customer_id VARCHAR, signup_date DATE)")
        con.execute("INSERT INTO customers VALUES ('C-1', DATE '2024-01-01')")
        con.execute("CREATE TABLE usage_events (customer_id VARCHAR, ts TIMESTAMPTZ, event_type VARCHAR)")
        con.execute("INSERT INTO usage_events VALUES ('C-1', TIMESTAMPTZ '2024-01-02 10:00:00+02', 'login')")
        con.execute("CREATE TABLE scratch (x INT)")
    ds = load_data(path)
    assert sorted(ds.tables) == ["customers", "usage_events"]
    assert ds["usage_events"]["ts"].tolist() == [pd.Timestamp("2024-01-02 08:00")]
    assert ds["customers"]["signup_date"].dtype == "datetime64[ns]"


def test_missing_source_raises_file_not_found_with_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_tables(tmp_path / "nowhere")


def test_source_without_customers_raises_a_contract_error(tmp_path):
    folder = write_folder(tmp_path / "d", {"usage_events": EVENTS})
    with pytest.raises(DataContractError) as info:
        read_tables(folder)
    assert [v.rule for v in info.value.violations] == ["missing_table"]
    assert "usage_events.csv" in str(info.value)


def test_load_data_returns_a_validated_dataset_with_quarantine(source):
    ds = load_data(source)
    assert isinstance(ds, Dataset)
    assert "usage_events" in ds and "surveys" not in ds
    assert ds.table("surveys") is None
    assert ds.summary().values.tolist() == [["usage_events", "unknown_customer", 1]]
    assert ds.source == str(source) and ds.as_of is None


def test_reject_mode_raises_on_row_problems(source):
    with pytest.raises(DataContractError, match="C-404"):
        load_data(source, on_row_error="reject")


def test_asking_for_an_absent_table_names_the_tables_present(source):
    with pytest.raises(KeyError, match="customers"):
        load_data(source)["surveys"]


# --- fingerprint -----------------------------------------------------------------------------

def test_fingerprint_is_stable_and_ignores_unknown_files(source):
    before = fingerprint(source)
    (source / "README.txt").write_text("not data")
    assert fingerprint(source) == before and len(before) == 64


def test_fingerprint_changes_when_a_contract_file_changes(source):
    before = fingerprint(source)
    EVENTS.iloc[:2].to_csv(source / "usage_events.csv", index=False)
    assert fingerprint(source) != before


# --- point in time ---------------------------------------------------------------------------

def test_as_of_accepts_str_date_and_timestamp(source):
    stamps = {load_data(source, as_of=a).as_of for a in (AS_OF, date(2024, 6, 30), pd.Timestamp(AS_OF))}
    assert stamps == {pd.Timestamp(AS_OF)}


def test_customers_signed_up_after_as_of_are_excluded(source):
    assert load_data(source, as_of=AS_OF)["customers"]["customer_id"].tolist() == ["C-1", "C-2"]


def test_churn_after_as_of_is_set_back_to_null_with_its_reason(source):
    c = load_data(source, as_of=AS_OF)["customers"].set_index("customer_id")
    assert pd.isna(c.loc["C-2", "churn_date"]) and pd.isna(c.loc["C-2", "churn_reason"])


def test_events_on_the_as_of_day_count_and_later_ones_do_not(source):
    usage = load_data(source, as_of=AS_OF)["usage_events"]
    assert usage["ts"].tolist() == [pd.Timestamp("2024-06-30 23:59"), pd.Timestamp("2024-05-01 10:00")]


def test_tickets_opened_after_as_of_are_dropped_and_later_closes_reopened(source):
    t = load_data(source, as_of=AS_OF)["support_tickets"].set_index("ticket_id")
    assert t.index.tolist() == ["T-1", "T-2"]
    assert pd.isna(t.loc["T-2", "closed_at"]) and pd.isna(t.loc["T-2", "csat"])
    assert t.loc["T-1", "csat"] == 5


def test_subscription_ending_after_as_of_is_running(source):
    s = load_data(source, as_of=AS_OF)["subscriptions"].set_index("subscription_id")
    assert pd.isna(s.loc["S-2", "end_date"])


def test_invoice_paid_after_as_of_is_unpaid_and_late_when_past_due(source):
    i = load_data(source, as_of=AS_OF)["invoices"].set_index("invoice_id")
    assert pd.isna(i.loc["I-2", "paid_at"]) and i.loc["I-2", "status"] == "late"
    assert pd.isna(i.loc["I-3", "paid_at"]) and pd.isna(i.loc["I-3", "status"])
    assert i.loc["I-1", "status"] == "paid"


def test_rows_after_as_of_do_not_change_the_dataset(source, tmp_path):
    extra = pd.concat([EVENTS, pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-09-01"],
                                             "event_type": ["login"]})])
    grown = write_folder(tmp_path / "grown", {"customers": CUSTOMERS, "usage_events": extra,
                                              "support_tickets": TICKETS, "subscriptions": SUBSCRIPTIONS,
                                              "invoices": INVOICES})
    a, b = load_data(source, as_of=AS_OF), load_data(grown, as_of=AS_OF)
    for name in a.tables:
        pd.testing.assert_frame_equal(a[name], b[name])
    pd.testing.assert_frame_equal(a.missing, b.missing)


# --- every input row accounted for, and what the user must see --------------------------------

def test_every_input_row_is_kept_quarantined_or_reported_per_table(tmp_path):
    events = pd.concat([EVENTS, pd.DataFrame({  # C-3 signs up after the as-of date: its earlier rows
        "customer_id": ["C-3", "C-3"], "ts": ["2024-06-15T10:00:00", "2024-06-16T10:00:00"],
        "event_type": ["login", "login"]})], ignore_index=True)
    ds = load_data(write_folder(tmp_path / "d", {"customers": CUSTOMERS, "usage_events": events}), as_of=AS_OF)
    acc = ds.accounting.set_index("table")
    assert list(ds.accounting.columns) == ["table", "input_rows", "kept", "quarantined", "not_yet_customers",
                                           "after_as_of"]
    assert acc.loc["customers"].tolist() == [3, 2, 0, 1, 0]
    assert acc.loc["usage_events"].tolist() == [6, 2, 1, 2, 1]  # C-404 quarantined, C-2 on 2024-07-01 after
    for table, rec in acc.iterrows():
        assert rec["input_rows"] == rec["kept"] + rec["quarantined"] + rec["not_yet_customers"] + rec["after_as_of"]
        assert rec["kept"] == len(ds[table])


def test_accounting_and_warnings_are_kept_with_a_saved_dataset(source, tmp_path):
    from churnlab.data.saved import read_dataset, save_dataset

    ds = load_data(source, as_of="2025-06-30")
    assert ds.warnings and "days before the as-of date" in ds.warnings[0]
    save_dataset(ds, tmp_path / "saved")
    back = read_dataset(tmp_path / "saved", lazy=True)
    pd.testing.assert_frame_equal(back.accounting, ds.accounting)
    assert back.warnings == ds.warnings


def test_an_as_of_date_long_after_the_newest_data_is_a_warning(source):
    assert load_data(source, as_of=AS_OF).warnings == []
    assert load_data(source, as_of="2024-08-29").warnings == []  # 58 days after the ticket of 2024-07-02
    (warning,) = load_data(source, as_of="2024-12-31").warnings
    assert warning == ("the newest data is from 2024-07-02, 182 days before the as-of date 2024-12-31: "
                       "is the export current?")


def test_timestamps_with_a_utc_offset_are_converted_and_counted_in_a_warning(tmp_path):
    events = EVENTS.assign(ts=["2024-06-30T23:59:00+02:00", "2024-07-01T00:00:00Z", "2024-05-01T10:00:00-05:00",
                               "2024-05-01T10:00:00+00:00"])
    ds = load_data(write_folder(tmp_path / "d", {"customers": CUSTOMERS, "usage_events": events}), as_of=AS_OF)
    assert ds.warnings == ["usage_events.ts: 2 values with a UTC offset (e.g. 2024-06-30T23:59:00+02:00) were "
                           "converted to UTC, as the data contract says"]
    assert ds["usage_events"]["ts"].astype(str).tolist() == ["2024-06-30 21:59:00", "2024-05-01 15:00:00"]
