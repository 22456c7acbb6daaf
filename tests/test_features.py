"""Point-in-time features on small hand-made tables whose values are worked out here."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from churnlab.features.catalogue import FEATURES, feature_names, render_markdown
from churnlab.features.engine import build_features, build_training_set, snapshot_dates
from churnlab.data.loading import dataset_from_frames

AS_OF = "2024-06-30"
T = pd.Timestamp


def hand_made() -> dict[str, pd.DataFrame]:
    """Customer A has a row in every table; B churned before the as-of date; C signs up after
    it; D signed up a month before and churns after it (unknown on the as-of date)."""
    return {
        "customers": pd.DataFrame({
            "customer_id": ["A", "B", "C", "D"],
            "signup_date": ["2023-01-01", "2024-01-15", "2024-07-05", "2024-06-01"],
            "churn_date": [None, "2024-05-10", None, "2024-08-01"],
            "industry": ["retail", "media", "retail", None],
            "employees_2020": [40, 12, 5, 8],
        }),
        "subscriptions": pd.DataFrame({
            "subscription_id": ["S1", "S2", "S3"],
            "customer_id": ["A", "A", "B"],
            "plan": ["pro", "addon", "starter"],
            "start_date": ["2023-01-01", "2024-05-01", "2024-01-15"],
            "end_date": [None, None, "2024-05-10"],
            "billing_period": ["annual", "monthly", "monthly"],
            "mrr": [100.0, 50.0, 20.0],
            "seats": [10, 2, 1],
        }),
        "usage_events": pd.DataFrame({
            "customer_id": ["A", "A", "A", "A", "A"],
            "ts": ["2024-06-30 23:00", "2024-06-25 09:00", "2024-06-10 09:00", "2024-05-15 09:00",
                   "2024-07-01 00:00"],
            "event_type": ["login", "report", "login", "export", "login"],
            "quantity": [1.0, 2.0, 1.0, 4.0, 100.0],
            "user_id": ["u1", "u2", "u1", "u3", "u9"],
        }),
        "support_tickets": pd.DataFrame({
            "ticket_id": ["T1", "T2", "T3"],
            "customer_id": ["A", "A", "A"],
            "opened_at": ["2024-06-01 10:00", "2024-06-20 10:00", "2024-06-28 10:00"],
            "closed_at": [None, "2024-06-22 10:00", "2024-07-03 10:00"],
            "severity": ["critical", "low", "medium"],
            "reopened": [False, True, True],
            "csat": [None, 2.0, 5.0],
        }),
        "surveys": pd.DataFrame({
            "customer_id": ["A", "A", "A"],
            "responded_at": ["2024-01-10", "2024-06-01", "2024-03-01"],
            "kind": ["nps", "nps", "csat"],
            "score": [9.0, 5.0, 4.0],
            "comment": [None, "Terrible support, very disappointed.", None],
        }),
        "invoices": pd.DataFrame({
            "invoice_id": ["I1", "I2"],
            "customer_id": ["A", "A"],
            "issued_at": ["2024-05-01", "2024-04-01"],
            "due_at": ["2024-05-31", "2024-05-01"],
            "paid_at": [None, "2024-05-10"],
            "amount": [100.0, 100.0],
            "status": ["failed", "late"],
        }),
        "touchpoints": pd.DataFrame({
            "customer_id": ["A", "A"],
            "ts": ["2024-06-15", "2024-03-01"],
            "department": ["finance", "success"],
            "direction": ["inbound", "outbound"],
            "sentiment": [-0.8, 0.5],
        }),
        "advocacy": pd.DataFrame({
            "customer_id": ["A"], "ts": ["2024-05-01"], "kind": ["review"],
            "rating": [1.0], "reach": [5000], "sentiment": [-0.7],
        }),
        "interventions": pd.DataFrame({
            "customer_id": ["A", "A"], "ts": ["2024-02-01", "2024-06-01"],
            "campaign": ["save", "save"], "action": ["call", "call"], "channel": ["phone", "phone"],
            "cost": [100.0, 100.0], "outcome": ["accepted", "declined"],
        }),
    }


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return build_features(dataset_from_frames(hand_made()), AS_OF).set_index("customer_id")


def test_only_customers_active_on_the_as_of_date_get_a_row(features):
    assert list(features.index) == ["A", "D"]


def test_every_catalogue_feature_is_computed_and_nothing_else(features):
    extras = {"industry", "employees_2020"}
    assert set(features.columns) - extras == set(feature_names())
    assert [c for c in features.columns if c not in extras] == feature_names()


def test_contract_features(features):
    a = features.loc["A"]
    assert (a.mrr, a.arr, a.seats, a.active_subscriptions) == (150, 1800, 12, 2)
    assert (a.mrr_change_90d, a.mrr_change_90d_pct) == (50, 50)   # 100 on 2024-04-01
    assert a.is_annual == 1 and a.plan == "pro"
    # annual S1 is 546 days old (renews in 365 - 181 = 184), monthly S2 60 days old (renews in 30)
    assert a.days_to_renewal == 30
    assert a.annual_renewal_90d == 0          # the annual S1 renews in 184 days
    assert features.loc["D", "plan"] == "none" and features.loc["D", "mrr"] == 0


def test_days_to_renewal_follows_the_renewal_date_of_a_co_termed_contract():
    # an annual upgrade signed 2024-03-01 but co-termed to renew on 2025-01-01 (not 2025-03-01):
    # on 2024-06-30 the next renewal is 2025-01-01, 185 days away
    tables = {**hand_made(), "subscriptions": pd.DataFrame({
        "subscription_id": ["S9"], "customer_id": ["A"], "plan": ["pro"], "start_date": ["2024-03-01"],
        "end_date": [None], "renewal_date": ["2026-01-01"], "billing_period": ["annual"],
        "mrr": [100.0], "seats": [10]})}
    features = build_features(dataset_from_frames(tables), "2024-06-30").set_index("customer_id")
    assert features.loc["A", "days_to_renewal"] == 185
    assert features.loc["A", "annual_renewal_90d"] == 0
    later = build_features(dataset_from_frames(tables), "2024-10-15").set_index("customer_id")
    assert later.loc["A", "days_to_renewal"] == 78 and later.loc["A", "annual_renewal_90d"] == 1


def test_usage_windows_count_events_up_to_the_end_of_the_as_of_day(features):
    a = features.loc["A"]
    assert (a.events_7d, a.quantity_7d) == (2, 3.0)       # 06-30 23:00 and 06-25
    assert (a.events_30d, a.quantity_30d) == (3, 4.0)
    assert (a.events_90d, a.quantity_90d) == (4, 8.0)     # the 07-01 event is never read
    assert a.events_prior_30d == 1
    assert a.usage_trend_30d == pytest.approx(math.log(4 / 2))
    assert math.isnan(a.usage_change_60d_pct)             # nothing in the 60 days before
    assert (a.event_types_30d, a.event_types_change_30d) == (2, 1)
    assert (a.active_users_30d, a.active_users_change_30d) == (2, 1)
    assert a.days_since_last_use == 0


def test_customer_without_usage_gets_the_documented_fill(features):
    d = features.loc["D"]
    assert d.events_30d == 0 and d.days_since_last_use == 180


def test_support_features(features):
    a = features.loc["A"]
    # T1 (critical, open 29 days) and T3 (closed only after the as-of date) are open
    assert (a.open_tickets, a.open_high_critical_tickets) == (2, 1)
    assert (a.tickets_open_over_7d, a.critical_open_over_14d) == (1, 1)
    assert (a.tickets_90d, a.high_critical_tickets_90d) == (3, 1)
    assert a.resolution_hours_90d == 48                   # T2 only: T3 closed later
    assert (a.reopened_tickets_90d, a.ticket_csat_180d) == (1, 2.0)


def test_feedback_features(features):
    a = features.loc["A"]
    assert (a.last_nps, a.nps_change, a.nps_detractor, a.nps_promoter) == (5, -4, 1, 0)
    assert a.days_since_last_nps == 29
    assert a.last_csat == 4 and math.isnan(a.csat_change)
    assert a.comment_sentiment_180d < -0.5
    assert a.satisfaction_mean == pytest.approx((9 / 10 + 5 / 10 + (4 - 1) / 4) / 3)


def test_lasting_satisfaction_counts_every_answer_up_to_the_date_and_none_after():
    """satisfaction_mean reaches back past the last year's window (where the latest-answer
    features stop), puts each kind on 0..1 (CES: 7, the hardest, is 0) and never reads an
    answer given after the end of the as-of day."""
    frames = {
        "customers": pd.DataFrame({"customer_id": ["X", "Y"], "signup_date": ["2021-01-01", "2021-01-01"],
                                   "churn_date": [None, None]}),
        "surveys": pd.DataFrame({
            "customer_id": ["X", "X", "X", "X"],
            "responded_at": ["2022-01-01", "2024-05-01", "2024-06-30 23:59", "2024-07-01 00:00"],
            "kind": ["nps", "ces", "csat", "ces"],
            "score": [10.0, 7.0, 2.0, 1.0],
            "comment": [None, None, None, None],
        }),
    }
    got = build_features(dataset_from_frames(frames), AS_OF).set_index("customer_id")
    x, y = got.loc["X"], got.loc["Y"]
    assert x.satisfaction_mean == pytest.approx((1.0 + 0.0 + 0.25) / 3)
    assert math.isnan(x.last_nps) and x.nps_detractor == 0 and x.last_ces == 7   # the 2022 NPS is a lifetime away
    assert math.isnan(y.satisfaction_mean)                                       # no answer: unknown, not 0
    before = build_training_set(dataset_from_frames(frames), AS_OF, snapshots=["2024-04-30"]).set_index("customer_id")
    assert before.loc["X", "satisfaction_mean"] == pytest.approx(1.0)            # only the 2022 answer then


def test_billing_features(features):
    a = features.loc["A"]
    assert (a.overdue_invoices, a.days_overdue_max, a.overdue_amount) == (1, 30, 100)
    assert (a.late_payments_180d, a.failed_payments_180d) == (1, 1)


def test_an_invoice_paid_by_its_due_date_counts_towards_no_billing_feature():
    tables = hand_made()
    tables["invoices"] = pd.concat([tables["invoices"], pd.DataFrame({
        "invoice_id": ["I3"], "customer_id": ["D"], "issued_at": ["2024-06-01"], "due_at": ["2024-06-15"],
        "paid_at": ["2024-06-15"], "amount": [80.0], "status": ["paid"]})], ignore_index=True)
    d = build_features(dataset_from_frames(tables), AS_OF).set_index("customer_id").loc["D"]
    billing = ["overdue_invoices", "days_overdue_max", "overdue_amount", "late_payments_180d", "failed_payments_180d"]
    assert d[billing].tolist() == [0, 0, 0, 0, 0]      # the documented fills, as without the invoice


def test_touchpoint_features(features):
    a = features.loc["A"]
    assert (a.days_since_finance_touch, a.days_since_success_touch, a.days_since_sales_touch) == (15, 121, 180)
    assert (a.negative_finance_touches_90d, a.inbound_complaints_90d) == (1, 1)
    assert a.touch_sentiment_90d == pytest.approx(-0.8)


def test_advocacy_and_intervention_features(features):
    a = features.loc["A"]
    assert (a.reviews_365d, a.review_rating_365d, a.reach_365d, a.negative_reach_365d) == (1, 1, 5000, 5000)
    assert (a.vocal_detractor, a.vocal_promoter) == (1, 0)
    assert (a.interventions_total, a.interventions_accepted, a.interventions_declined) == (2, 1, 1)
    assert a.days_since_last_intervention == 29


def test_extra_customer_columns_become_features(features):
    assert features["employees_2020"].dtype == "float64"
    assert isinstance(features["industry"].dtype, pd.CategoricalDtype)
    assert features.loc["D", "industry"] == "unknown"


@pytest.mark.parametrize("infer_string", [False, True], ids=["object-text", "str-text"])
def test_a_numeric_extra_customer_column_read_from_csv_becomes_a_number(tmp_path, infer_string):
    """A CSV file is read as text: its column of numbers must still become a numeric feature,
    with pandas 3's str dtype for text (future.infer_string) as with object columns."""
    from churnlab.data.loading import load_data

    for name, frame in hand_made().items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    with pd.option_context("future.infer_string", infer_string):
        data = load_data(tmp_path)
        customers = data.tables["customers"]
        assert customers["employees_2020"].dtype == "float64"
        assert customers["employees_2020"].tolist() == [40.0, 12.0, 5.0, 8.0]
        assert customers["industry"].tolist()[:3] == ["retail", "media", "retail"]
        features = build_features(data, AS_OF).set_index("customer_id")
    assert features["employees_2020"].dtype == "float64"
    assert features.loc["A", "employees_2020"] == 40.0
    assert isinstance(features["industry"].dtype, pd.CategoricalDtype)
    assert features.loc["D", "industry"] == "unknown"


def test_tables_that_are_absent_give_no_features():
    raw = {"customers": hand_made()["customers"]}
    frame = build_features(dataset_from_frames(raw), AS_OF)
    assert [c for c in frame.columns if c in feature_names()] == ["tenure_days"]


def test_snapshot_dates_are_month_ends_strictly_before_as_of():
    assert snapshot_dates("2024-06-30", 3) == [T("2024-03-31"), T("2024-04-30"), T("2024-05-31")]
    assert snapshot_dates("2024-06-15", 1) == [T("2024-05-31")]


def test_training_set_labels_and_censoring():
    data = dataset_from_frames(hand_made())
    ts = build_training_set(data, AS_OF, horizon_days=90, snapshots=["2024-02-29", "2024-05-31"])
    b = ts[(ts.customer_id == "B")].set_index("snapshot")
    # B churned 2024-05-10: 71 days after the February snapshot, inside the horizon
    assert b.loc[T("2024-02-29"), ["duration_days", "event", "churned"]].tolist() == [71, 1, 1]
    assert T("2024-05-31") not in b.index                  # gone by then
    d = ts[ts.customer_id == "D"].set_index("snapshot").loc[T("2024-05-31")] if (ts.customer_id == "D").any() else None
    assert d is None                                       # D signed up on 2024-06-01
    a = ts[ts.customer_id == "A"].set_index("snapshot")
    # the May snapshot's horizon ends after the as-of date: censored, no label
    late = a.loc[T("2024-05-31")]
    assert (late.duration_days, late.event, late.label_observed) == (30, 0, False)
    assert pd.isna(late.churned)
    # D's churn on 2024-08-01 is after the as-of date: never a label
    assert a.loc[T("2024-02-29"), "churned"] == 0


def test_training_set_refuses_snapshots_on_or_after_as_of():
    with pytest.raises(ValueError, match="before as_of"):
        build_training_set(dataset_from_frames(hand_made()), AS_OF, snapshots=["2024-06-30"])


def test_inactivity_defines_churn_for_customers_without_contracts():
    raw = {
        "customers": pd.DataFrame({"customer_id": ["E", "F"], "signup_date": ["2024-01-01", "2024-01-01"]}),
        "usage_events": pd.DataFrame({
            "customer_id": ["E", "E", "F", "F", "F"],
            "ts": ["2024-01-05", "2024-02-01", "2024-01-05", "2024-03-01", "2024-06-20"],
            "event_type": ["login"] * 5,
        }),
    }
    ts = build_training_set(dataset_from_frames(raw), AS_OF, snapshots=["2024-01-31"],
                            churn="inactivity", inactivity_days=60).set_index("customer_id")
    # E's last use was 2024-02-01: churned 60 days later, on 2024-04-01 (61 days after the snapshot)
    assert (ts.loc["E", "event"], ts.loc["E", "duration_days"]) == (1, 61)
    # F went silent from 2024-03-01 to 2024-06-20: churned on 2024-04-30, coming back does not undo it
    assert (ts.loc["F", "event"], ts.loc["F", "duration_days"]) == (1, 90)
    contract = build_training_set(dataset_from_frames(raw), AS_OF, snapshots=["2024-01-31"]).set_index("customer_id")
    assert contract["event"].sum() == 0


def test_docs_features_md_is_generated_from_the_catalogue():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text()
    assert text == render_markdown(), "regenerate: python -m churnlab.features.catalogue > docs/features.md"
    for f in FEATURES:
        assert f"`{f.name}`" in text


# -- the catalogue is the one definition: the engine's windows and the reasons' phrases -----------

def test_every_numeric_feature_has_a_short_phrase_with_the_number():
    from churnlab.models.reasons import MAX_REASON_CHARS, phrase

    categories = {"plan"}  # worded "<name>: <level>" without a phrase of their own
    for f in FEATURES:
        assert (f.phrase is None) == (f.name in categories), f.name
        if f.phrase is None:
            continue
        assert phrase(f.name, 2.0) == f.phrase(2.0)
        # the longest counts and amounts a customer has, and a negative change
        values = (-48.0, 0.0, 1.0, 2.0, 0.37) if f.name == "usage_trend_30d" else (-48.0, 0.0, 1.0, 2.0, 180.0, 99_999.0)
        for v in values:
            assert len(f.phrase(v)) < MAX_REASON_CHARS, (f.name, f.phrase(v))
    assert phrase("quantity_30d", 1234.0) == "event quantity 1,234 in the last 30 days"


def _windows_changed(monkeypatch, change):
    """The catalogue with ``change(feature) -> window_days`` applied (None: left as it is)."""
    from dataclasses import replace

    from churnlab.features import catalogue

    new = tuple(f if change(f) is None else replace(f, window_days=change(f)) for f in catalogue.FEATURES)
    monkeypatch.setattr(catalogue, "FEATURES", new)


def _window_literals(con) -> list[int]:
    """Every day count after INTERVAL or subtracted from a snapshot date in the tables' SQL."""
    import re

    from churnlab.features.engine import _GROUPS

    sql = "\n".join(build(con) for build in _GROUPS.values())
    return [int(n) for n in re.findall(r"INTERVAL (\d+) DAY|snap - (\d+)", sql) for n in n if n]


def test_the_sql_has_no_window_but_the_catalogues(monkeypatch):
    from churnlab.features.engine import connect

    with connect(dataset_from_frames(hand_made())) as con:
        assert set(_window_literals(con)) == {8, 15, 90, 180, 365}
        _windows_changed(monkeypatch, lambda f: None if f.window_days is None else f.window_days + 1000)
        # left: the age thresholds of tickets_open_over_7d and critical_open_over_14d (days 8 and 15)
        assert set(_window_literals(con)) == {8, 15, 1090, 1180, 1365}


def test_a_changed_window_changes_the_computed_features(monkeypatch):
    tables = hand_made()
    windows = {"tickets_90d": 5, "high_critical_tickets_90d": 5, "events_7d": 1, "quantity_7d": 6,
               "days_since_last_use": 3}
    _windows_changed(monkeypatch, lambda f: windows.get(f.name))
    a = build_features(dataset_from_frames(tables), AS_OF).set_index("customer_id").loc["A"]
    assert (a.tickets_90d, a.high_critical_tickets_90d) == (1, 0)   # only T3, opened 06-28
    assert (a.events_7d, a.quantity_7d) == (1, 3.0)                 # 06-30 23:00; and 06-25 in 6 days
    assert a.days_since_last_use == 0 and a.events_30d == 3
    # D has no use: still the fill, which is the catalogue's own (not derived from the window)
    tables["usage_events"] = tables["usage_events"][tables["usage_events"].ts < "2024-06-20"]
    a = build_features(dataset_from_frames(tables), AS_OF).set_index("customer_id").loc["A"]
    assert a.days_since_last_use == 180                             # last use 06-10: outside 3 days


def test_features_the_sql_computes_over_one_look_back_must_share_their_window(monkeypatch):
    _windows_changed(monkeypatch, lambda f: 30 if f.name == "nps_change" else None)
    with pytest.raises(ValueError, match="nps_change"):
        build_features(dataset_from_frames(hand_made()), AS_OF)
