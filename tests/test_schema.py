"""The data contract: every rule, fed a small hand-made broken table."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from churnlab.data.contract import ROW_RULES, STRUCTURAL_RULES, TABLES, DataContractError
from churnlab.data.validation import table_schema, validate_tables


def customers(**overrides) -> pd.DataFrame:
    base = {
        "customer_id": ["C-1", "C-2", "C-3"],
        "signup_date": ["2024-01-01", "2024-02-01", "2024-03-01"],
        "churn_date": [None, "2024-06-01", None],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def events(**overrides) -> pd.DataFrame:
    base = {
        "customer_id": ["C-1", "C-2", "C-3"],
        "ts": ["2024-03-01T10:00:00", "2024-03-02T11:00:00", "2024-03-03T12:00:00"],
        "event_type": ["login", "export", "login"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def tickets(**overrides) -> pd.DataFrame:
    base = {
        "ticket_id": ["T-1", "T-2"],
        "customer_id": ["C-1", "C-2"],
        "opened_at": ["2024-03-01T09:00:00", "2024-03-05T09:00:00"],
        "closed_at": ["2024-03-02T09:00:00", None],
        "severity": ["low", "high"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def subscriptions(**overrides) -> pd.DataFrame:
    base = {
        "subscription_id": ["S-1", "S-2"],
        "customer_id": ["C-1", "C-2"],
        "start_date": ["2024-01-01", "2024-02-01"],
        "end_date": [None, "2024-06-01"],
        "billing_period": ["monthly", "annual"],
        "mrr": ["100", "250.5"],
        "seats": ["3", "10"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def structural_error(raw: dict) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        validate_tables(raw)
    return info.value


def only(err: DataContractError, rule: str):
    found = [v for v in err.violations if v.rule == rule]
    assert len(found) == 1, err
    return found[0]


def quarantined(raw: dict) -> pd.DataFrame:
    return validate_tables(raw).quarantine


# --- the interface ---------------------------------------------------------------------------

def test_tables_start_with_customers_and_cover_the_contract():
    assert TABLES[0] == "customers"
    assert set(TABLES) == {"customers", "subscriptions", "usage_events", "support_tickets", "surveys",
                           "invoices", "touchpoints", "advocacy", "interventions"}


def test_every_table_has_a_pandera_schema_whose_checks_are_named_after_rules():
    rules = set(ROW_RULES) | set(STRUCTURAL_RULES) | {"churn_before_signup"}
    for table in TABLES:
        schema = table_schema(table, customer_ids=["C-1"])
        names = {c.name for col in schema.columns.values() for c in col.checks}
        names |= {c.name for c in schema.checks}
        assert names <= rules, (table, names - rules)


def test_valid_input_gives_typed_frames_and_an_empty_quarantine():
    result = validate_tables({"customers": customers(), "usage_events": events()})
    assert result.quarantine.empty
    assert list(result.quarantine.columns) == ["table", "rule", "column", "reason", "row",
                                               "customer_id", "record"]
    c = result.tables["customers"]
    assert c["signup_date"].dtype == "datetime64[ns]"
    assert c["churn_date"].tolist()[1] == pd.Timestamp("2024-06-01")
    assert result.tables["usage_events"]["ts"].iloc[0] == pd.Timestamp("2024-03-01 10:00")


def test_timezone_aware_timestamps_become_naive_utc():
    raw = events(ts=["2024-03-01T10:00:00+02:00", "2024-03-02T11:00:00Z", "2024-03-03 12:00"])
    ts = validate_tables({"customers": customers(), "usage_events": raw}).tables["usage_events"]["ts"]
    assert ts.dtype == "datetime64[ns]"
    assert ts.tolist() == [pd.Timestamp("2024-03-01 08:00"), pd.Timestamp("2024-03-02 11:00"),
                           pd.Timestamp("2024-03-03 12:00")]


def test_dates_are_normalized_to_midnight():
    raw = customers(signup_date=["2024-01-01T15:30:00", "2024-02-01", "2024-03-01"])
    signup = validate_tables({"customers": raw}).tables["customers"]["signup_date"]
    assert signup.iloc[0] == pd.Timestamp("2024-01-01")


def test_absent_quantity_defaults_to_one_and_absent_optional_columns_are_added_empty():
    result = validate_tables({"customers": customers(), "usage_events": events()})
    usage = result.tables["usage_events"]
    assert usage["quantity"].tolist() == [1.0, 1.0, 1.0]
    assert usage["user_id"].isna().all()


def test_numeric_extra_customer_columns_become_numbers():
    raw = customers(employees=["10", "250", None], plan_tier=["gold", "silver", "gold"])
    c = validate_tables({"customers": raw}).tables["customers"]
    assert c["employees"].dtype == "float64"
    assert c["plan_tier"].tolist() == ["gold", "silver", "gold"]


def test_missing_counts_unknown_optional_values_but_not_meaningful_nulls():
    raw = customers(preferred_channel=["email", None, None])
    missing = validate_tables({"customers": raw}).missing
    row = missing[(missing["table"] == "customers") & (missing["column"] == "preferred_channel")]
    assert row["count"].tolist() == [2]
    assert "churn_date" not in set(missing["column"])  # null churn_date means active


def test_unknown_on_row_error_setting_is_refused():
    with pytest.raises(ValueError, match="on_row_error"):
        validate_tables({"customers": customers()}, on_row_error="ignore")


# --- structural rules ------------------------------------------------------------------------

def test_missing_customers_table_is_structural():
    err = structural_error({"usage_events": events()})
    v = only(err, "missing_table")
    assert v.table == "customers"
    assert "customers table is missing" in str(err)


def test_missing_required_column_is_structural_and_named():
    err = structural_error({"customers": customers(), "usage_events": events().drop(columns="ts")})
    v = only(err, "missing_column")
    assert (v.table, v.column) == ("usage_events", "ts")
    assert "usage_events.ts: required column is missing" in v.message


def test_missing_signup_date_column_is_structural():
    v = only(structural_error({"customers": customers().drop(columns="signup_date")}), "missing_column")
    assert (v.table, v.column) == ("customers", "signup_date")


def test_all_structural_problems_are_reported_together():
    err = structural_error({
        "customers": customers(customer_id=["C-1", "C-1", "C-3"]),
        "usage_events": events().drop(columns="event_type"),
        "subscriptions": subscriptions(mrr=["100", "lots"]),
    })
    assert {v.rule for v in err.violations} == {"duplicate_id", "missing_column", "wrong_type"}
    assert len(str(err).splitlines()) == 4  # a header and one line per problem


def test_duplicate_customer_id_is_structural_with_examples():
    err = structural_error({"customers": customers(customer_id=["C-1", "C-2", "C-1"])})
    v = only(err, "duplicate_id")
    assert (v.table, v.column, v.count) == ("customers", "customer_id", 2)
    assert [e["row"] for e in v.examples] == [0, 2]
    assert "customers.customer_id: 2 rows share their customer_id" in v.message and "C-1" in v.message


@pytest.mark.parametrize("table, frame, column", [
    ("subscriptions", subscriptions(subscription_id=["S-1", "S-1"]), "subscription_id"),
    ("support_tickets", tickets(ticket_id=["T-1", "T-1"]), "ticket_id"),
    ("invoices", pd.DataFrame({"invoice_id": ["I-1", "I-1"], "customer_id": ["C-1", "C-2"],
                               "issued_at": ["2024-03-01", "2024-03-02"], "paid_at": [None, None],
                               "amount": ["10", "20"]}), "invoice_id"),
])
def test_duplicate_ids_are_structural_in_every_id_table(table, frame, column):
    v = only(structural_error({"customers": customers(), table: frame}), "duplicate_id")
    assert (v.table, v.column, v.count) == (table, column, 2)


def test_unparseable_date_is_structural_with_the_bad_value():
    err = structural_error({"customers": customers(signup_date=["2024-01-01", "last spring", "2024-03-01"])})
    v = only(err, "unparseable_date")
    assert (v.table, v.column, v.count) == ("customers", "signup_date", 1)
    assert v.examples[0]["row"] == 1
    assert "last spring" in v.message
    assert not [x for x in err.violations if x.rule == "missing_value"]  # reported once, not twice


def test_unparseable_timestamp_in_events_is_structural():
    v = only(structural_error({"customers": customers(), "usage_events": events(ts=["2024-03-01", "soon", None])}),
             "unparseable_date")
    assert (v.table, v.column, v.count) == ("usage_events", "ts", 1)


def test_text_in_a_number_column_is_structural():
    v = only(structural_error({"customers": customers(), "subscriptions": subscriptions(mrr=["100", "lots"])}),
             "wrong_type")
    assert (v.table, v.column, v.count) == ("subscriptions", "mrr", 1)
    assert "subscriptions.mrr: 1 row has" in v.message and "lots" in v.message


def test_null_customer_id_in_customers_is_structural():
    v = only(structural_error({"customers": customers(customer_id=["C-1", None, "C-3"])}), "missing_value")
    assert (v.table, v.column, v.count) == ("customers", "customer_id", 1)


def test_null_signup_date_is_structural():
    v = only(structural_error({"customers": customers(signup_date=["2024-01-01", None, "2024-03-01"])}),
             "missing_value")
    assert (v.table, v.column) == ("customers", "signup_date")


def test_churn_before_signup_is_structural():
    err = structural_error({"customers": customers(churn_date=[None, "2023-12-31", None])})
    v = only(err, "churn_before_signup")
    assert (v.table, v.column, v.count) == ("customers", "churn_date", 1)
    assert "C-2" in v.message


def test_unknown_preferred_channel_is_structural():
    v = only(structural_error({"customers": customers(preferred_channel=["email", "fax", None])}), "not_in_set")
    assert (v.column, v.count) == ("preferred_channel", 1)
    assert "fax" in v.message


def test_negative_company_size_is_structural():
    v = only(structural_error({"customers": customers(company_size=["10", "-5", None])}), "out_of_range")
    assert (v.column, v.count) == ("company_size", 1)


# --- row-level rules: quarantined ------------------------------------------------------------

def test_event_for_unknown_customer_is_quarantined_with_its_record():
    q = quarantined({"customers": customers(), "usage_events": events(customer_id=["C-1", "C-17", "C-3"])})
    assert q[["table", "rule", "column", "row", "customer_id"]].values.tolist() == [
        ["usage_events", "unknown_customer", "customer_id", 1, "C-17"]]
    assert json.loads(q["record"].iloc[0]) == {"customer_id": "C-17", "event_type": "export",
                                               "ts": "2024-03-02T11:00:00"}
    assert q["reason"].iloc[0] == "customer_id C-17 is not in customers"


def test_quarantined_rows_are_removed_from_the_tables():
    result = validate_tables({"customers": customers(), "usage_events": events(customer_id=["C-1", "C-17", "C-3"])})
    assert result.tables["usage_events"]["customer_id"].tolist() == ["C-1", "C-3"]
    assert result.tables["usage_events"].index.tolist() == [0, 1]


def test_exact_duplicate_row_is_quarantined_and_the_first_kept():
    raw = events(customer_id=["C-1", "C-2", "C-1"], ts=["2024-03-01T10:00:00"] * 3,
                 event_type=["login", "login", "login"])
    result = validate_tables({"customers": customers(), "usage_events": raw})
    assert result.quarantine[["rule", "row"]].values.tolist() == [["duplicate_row", 2]]
    assert len(result.tables["usage_events"]) == 2


def test_same_instant_written_differently_is_still_a_duplicate_row():
    raw = events(customer_id=["C-1", "C-1", "C-2"], ts=["2024-03-01T10:00:00Z", "2024-03-01 10:00:00", "2024-03-01"],
                 event_type=["login"] * 3)
    q = quarantined({"customers": customers(), "usage_events": raw})
    assert q[["rule", "row"]].values.tolist() == [["duplicate_row", 1]]


def test_ticket_closed_before_opened_is_quarantined():
    raw = tickets(closed_at=["2024-02-28T09:00:00", None])
    q = quarantined({"customers": customers(), "support_tickets": raw})
    assert q[["table", "rule", "column", "row"]].values.tolist() == [
        ["support_tickets", "closed_before_opened", "closed_at", 0]]
    assert q["reason"].iloc[0] == "closed_at 2024-02-28T09:00:00 is before opened_at 2024-03-01T09:00:00"


def test_subscription_ending_before_it_starts_is_quarantined():
    q = quarantined({"customers": customers(), "subscriptions": subscriptions(end_date=["2023-12-01", None])})
    assert q[["rule", "column", "row"]].values.tolist() == [["end_before_start", "end_date", 0]]


def test_null_timestamp_is_quarantined_as_missing_value():
    q = quarantined({"customers": customers(), "usage_events": events(ts=["2024-03-01", None, "2024-03-03"])})
    assert q[["rule", "column", "row", "reason"]].values.tolist() == [["missing_value", "ts", 1, "ts is empty"]]


def test_null_customer_id_in_events_is_quarantined_as_missing_value():
    q = quarantined({"customers": customers(), "usage_events": events(customer_id=["C-1", "", "C-3"])})
    assert q[["rule", "column", "row"]].values.tolist() == [["missing_value", "customer_id", 1]]


@pytest.mark.parametrize("table, frame, column, value", [
    ("subscriptions", subscriptions(billing_period=["monthly", "weekly"]), "billing_period", "weekly"),
    ("support_tickets", tickets(severity=["low", "urgent"]), "severity", "urgent"),
    ("surveys", pd.DataFrame({"customer_id": ["C-1"], "responded_at": ["2024-03-01"], "kind": ["stars"],
                              "score": ["4"]}), "kind", "stars"),
    ("invoices", pd.DataFrame({"invoice_id": ["I-1"], "customer_id": ["C-1"], "issued_at": ["2024-03-01"],
                               "paid_at": [None], "amount": ["10"], "status": ["lost"]}), "status", "lost"),
    ("touchpoints", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "department": ["legal"]}),
     "department", "legal"),
    ("touchpoints", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "department": ["sales"],
                                  "direction": ["sideways"]}), "direction", "sideways"),
    ("advocacy", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "kind": ["tweet"]}), "kind", "tweet"),
    ("interventions", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "action": ["call"],
                                    "outcome": ["maybe"]}), "outcome", "maybe"),
])
def test_value_outside_its_allowed_set_is_quarantined(table, frame, column, value):
    q = quarantined({"customers": customers(), table: frame})
    bad = q[q["table"] == table]
    assert bad[["rule", "column"]].values.tolist() == [["not_in_set", column]]
    assert repr(value) in bad["reason"].iloc[0]


@pytest.mark.parametrize("table, frame, column", [
    ("subscriptions", subscriptions(mrr=["100", "-1"]), "mrr"),
    ("subscriptions", subscriptions(seats=["3", "2.5"]), "seats"),
    ("subscriptions", subscriptions(seats=["3", "-1"]), "seats"),
    ("support_tickets", tickets(csat=["5", "6"]), "csat"),
    ("invoices", pd.DataFrame({"invoice_id": ["I-1"], "customer_id": ["C-1"], "issued_at": ["2024-03-01"],
                               "paid_at": [None], "amount": ["-10"]}), "amount"),
    ("touchpoints", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "department": ["sales"],
                                  "sentiment": ["1.5"]}), "sentiment"),
    ("advocacy", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "kind": ["review"],
                               "rating": ["0"]}), "rating"),
    ("advocacy", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "kind": ["review"],
                               "reach": ["-100"]}), "reach"),
    ("interventions", pd.DataFrame({"customer_id": ["C-1"], "ts": ["2024-03-01"], "action": ["call"],
                                    "outcome": ["accepted"], "cost": ["-5"]}), "cost"),
])
def test_value_out_of_range_is_quarantined(table, frame, column):
    q = quarantined({"customers": customers(), table: frame})
    assert q[["table", "rule", "column"]].values.tolist() == [[table, "out_of_range", column]]


@pytest.mark.parametrize("kind, score, ok", [
    ("nps", 10, True), ("nps", 11, False), ("csat", 0, False), ("csat", 5, True),
    ("ces", 7, True), ("ces", 8, False),
])
def test_survey_score_range_depends_on_its_kind(kind, score, ok):
    frame = pd.DataFrame({"customer_id": ["C-1"], "responded_at": ["2024-03-01"], "kind": [kind], "score": [score]})
    q = quarantined({"customers": customers(), "surveys": frame})
    assert q.empty == ok
    if not ok:
        assert q["reason"].iloc[0].endswith(f"for kind {kind}")


def test_a_row_breaking_several_rules_is_quarantined_once_under_the_first_rule():
    frame = tickets(customer_id=["C-99", "C-2"], severity=["urgent", "high"],
                    closed_at=["2024-01-01T00:00:00", None])
    q = quarantined({"customers": customers(), "support_tickets": frame})
    assert q[["rule", "row"]].values.tolist() == [["unknown_customer", 0]]


def test_quarantine_is_sorted_by_table_rule_and_row():
    raw = events(customer_id=["C-9", "C-1", "C-8"], ts=["2024-03-01", None, "2024-03-01"])
    q = quarantined({"customers": customers(), "usage_events": raw,
                     "support_tickets": tickets(severity=["low", "urgent"])})
    assert q[["table", "rule", "row"]].values.tolist() == [
        ["support_tickets", "not_in_set", 1],
        ["usage_events", "missing_value", 1],
        ["usage_events", "unknown_customer", 0],
        ["usage_events", "unknown_customer", 2],
    ]


def test_summary_counts_quarantined_rows_by_table_and_rule():
    raw = events(customer_id=["C-9", "C-1", "C-8"])
    summary = validate_tables({"customers": customers(), "usage_events": raw}).summary()
    assert summary.values.tolist() == [["usage_events", "unknown_customer", 2]]


def test_reject_mode_raises_row_problems_with_a_readable_message():
    raw = events(customer_id=["C-1", "C-00017", "C-00342"])
    with pytest.raises(DataContractError) as info:
        validate_tables({"customers": customers(), "usage_events": raw}, on_row_error="reject")
    v = only(info.value, "unknown_customer")
    assert (v.table, v.column, v.count) == ("usage_events", "customer_id", 2)
    assert ("usage_events.customer_id: 2 rows reference a customer_id not in customers "
            "(unknown_customer), e.g. C-00017, C-00342") in str(info.value)


def test_examples_are_at_most_five_rows():
    raw = events(customer_id=[f"X-{i}" for i in range(8)], ts=["2024-03-01"] * 8, event_type=["a"] * 8)
    with pytest.raises(DataContractError) as info:
        validate_tables({"customers": customers(), "usage_events": raw}, on_row_error="reject")
    v = only(info.value, "unknown_customer")
    assert v.count == 8 and len(v.examples) == 5


# --- ids across tables -----------------------------------------------------------------------

def test_ids_compare_as_text_whatever_type_each_table_stores_them_as():
    # customers as integers, the events as text a float column left in a CSV, and as floats
    raw_customers = pd.DataFrame({"customer_id": [12, 13, 14], "signup_date": ["2024-01-01"] * 3})
    as_text = events(customer_id=["12.0", "13", "14.0"])
    as_floats = pd.DataFrame({"customer_id": [12.0, 13.0, None], "responded_at": ["2024-03-01"] * 3,
                              "kind": ["nps"] * 3, "score": [9, 7, 8]})
    result = validate_tables({"customers": raw_customers, "usage_events": as_text, "surveys": as_floats})
    assert result.tables["customers"]["customer_id"].tolist() == ["12", "13", "14"]
    assert result.tables["usage_events"]["customer_id"].tolist() == ["12", "13", "14"]
    assert result.tables["surveys"]["customer_id"].tolist() == ["12", "13"]
    assert result.quarantine[["table", "rule"]].values.tolist() == [["surveys", "missing_value"]]


def test_a_table_whose_ids_mostly_miss_customers_stops_with_examples_from_both_sides():
    raw_customers = pd.DataFrame({"customer_id": list(range(1, 21)), "signup_date": ["2024-01-01"] * 20})
    ids = [f"{i:04d}" for i in range(1, 13)]  # "0001": the same customers, written otherwise
    raw = pd.DataFrame({"customer_id": ids, "ts": ["2024-03-01"] * 12, "event_type": ["login"] * 12})
    err = structural_error({"customers": raw_customers, "usage_events": raw})
    v = only(err, "mostly_unknown_customers")
    assert (v.table, v.column, v.count) == ("usage_events", "customer_id", 12)
    text = str(err)
    assert "usage_events.customer_id: 12 of 12 rows (100%) reference a customer_id not in customers" in text
    assert "usage_events has e.g. '0001', '0002', '0003', customers has e.g. '1', '2', '3'" in text


def test_a_few_unknown_customers_are_still_quarantined_not_structural():
    raw = pd.DataFrame({"customer_id": ["C-1"] * 6 + ["C-9"] * 5, "ts": ["2024-03-01"] * 11,
                        "event_type": [f"e{i}" for i in range(11)]})
    assert quarantined({"customers": customers(), "usage_events": raw})["rule"].tolist() == ["unknown_customer"] * 5


# --- numbers that cannot be right ------------------------------------------------------------

@pytest.mark.parametrize("value, rule, reason", [
    ("inf", "not_finite", "quantity inf is not a finite number"),
    ("-inf", "not_finite", "quantity -inf is not a finite number"),
    ("1e308", "implausible", "quantity 1e308 is outside the plausible range -1,000,000,000..1,000,000,000"),
])
def test_an_infinite_or_absurd_number_is_quarantined_with_its_reason(value, rule, reason):
    raw = events(quantity=["1", value, "2.5"])
    result = validate_tables({"customers": customers(), "usage_events": raw})
    q = result.quarantine
    assert q[["table", "rule", "column", "row"]].values.tolist() == [["usage_events", rule, "quantity", 1]]
    assert q["reason"].tolist() == [reason]
    assert json.loads(q["record"].iloc[0])["quantity"] == value
    assert result.tables["usage_events"]["quantity"].tolist() == [1.0, 2.5]


@pytest.mark.parametrize("table, frame, column", [
    ("subscriptions", subscriptions, "mrr"), ("subscriptions", subscriptions, "seats"),
])
def test_every_number_column_is_checked_for_finite_and_plausible_values(table, frame, column):
    for value, rule in (("inf", "not_finite"), ("1e300", "implausible")):
        raw = frame(**{column: [value, "3"]})
        q = quarantined({"customers": customers(), table: raw})
        assert q[["rule", "column", "row"]].values.tolist() == [[rule, column, 0]], (value, q)


def test_an_infinite_survey_score_or_sentiment_is_not_finite():
    surveys = pd.DataFrame({"customer_id": ["C-1", "C-2"], "responded_at": ["2024-03-01"] * 2,
                            "kind": ["nps", "csat"], "score": [float("inf"), 4.0]})
    q = quarantined({"customers": customers(), "surveys": surveys})
    assert q[["rule", "column", "row"]].values.tolist() == [["not_finite", "score", 0]]


def test_an_infinite_company_size_is_structural():
    err = structural_error({"customers": customers(company_size=["10", "inf", "1e12"])})
    assert {v.rule for v in err.violations} == {"not_finite", "implausible"}


def test_a_header_only_customers_table_is_a_contract_error():
    err = structural_error({"customers": pd.DataFrame(columns=["customer_id", "signup_date", "churn_date"]),
                            "usage_events": events()})
    v = only(err, "no_rows")
    assert v.table == "customers"
    assert "customers has no rows" in str(err)
