"""No leakage: rows dated after the as-of date never change a feature.

Hypothesis alters, adds and deletes rows after the as-of date in every table (and moves
events inside rows, such as a ticket's closing or a churn date, to later dates) and checks
the features are identical. The dataset is not cut at the as-of date beforehand, so it is the
feature engine's own filtering that is tested.
"""
from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnlab.features.engine import build_features, build_training_set
from churnlab.data.loading import ROW_TIME, dataset_from_frames
from tests.test_features import AS_OF, hand_made

END = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)   # the first instant after the as-of date
CUSTOMERS = ["A", "B", "D"]

later = st.integers(min_value=0, max_value=400 * 24 * 60).map(lambda m: END + pd.Timedelta(minutes=m))


def _row(draw, table: str, when: pd.Timestamp, n: int) -> dict:
    """One valid contract row of ``table`` dated ``when``."""
    cid = draw(st.sampled_from(CUSTOMERS))
    day = when.strftime("%Y-%m-%d")
    ts = when.strftime("%Y-%m-%d %H:%M:%S")
    score = draw(st.integers(0, 10))
    return {
        "subscriptions": {"subscription_id": f"SX{n}", "customer_id": cid, "plan": "pro",
                          "start_date": day, "end_date": None, "billing_period": "monthly",
                          "mrr": float(draw(st.integers(0, 500))), "seats": draw(st.integers(0, 50))},
        "usage_events": {"customer_id": cid, "ts": ts, "event_type": draw(st.sampled_from(["login", "x"])),
                         "quantity": float(draw(st.integers(0, 9))), "user_id": f"u{n}"},
        "support_tickets": {"ticket_id": f"TX{n}", "customer_id": cid, "opened_at": ts, "closed_at": None,
                            "severity": "critical", "reopened": True, "csat": 1.0},
        "surveys": {"customer_id": cid, "responded_at": ts, "kind": "nps", "score": float(score),
                    "comment": draw(st.sampled_from([None, "awful", "great"]))},
        "invoices": {"invoice_id": f"IX{n}", "customer_id": cid, "issued_at": ts, "due_at": ts,
                     "paid_at": None, "amount": 10.0, "status": "failed"},
        "touchpoints": {"customer_id": cid, "ts": ts, "department": "finance", "direction": "inbound",
                        "sentiment": -1.0},
        "advocacy": {"customer_id": cid, "ts": ts, "kind": "review", "rating": 1.0, "reach": 99999,
                     "sentiment": -1.0},
        "interventions": {"customer_id": cid, "ts": ts, "campaign": "c", "action": "a", "channel": "phone",
                          "cost": 1.0, "outcome": "accepted"},
    }[table]


def _after(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column]) >= END


@st.composite
def futures(draw) -> dict[str, pd.DataFrame]:
    """The hand-made tables with their future rewritten at random."""
    tables = hand_made()
    n = 0
    for name, frame in tables.items():
        if name == "customers":
            continue
        col = ROW_TIME[name]
        future = _after(frame, col)
        # delete some future rows
        drop = [i for i in frame.index[future] if draw(st.booleans())]
        frame = frame.drop(index=drop)
        # alter the remaining future rows
        rows = [r for r in frame.to_dict("records")]
        for i, r in enumerate(rows):
            if pd.to_datetime(r[col]) >= END:
                n += 1
                rows[i] = _row(draw, name, draw(later), n) | {col: r[col]}
        # add new future rows
        for _ in range(draw(st.integers(0, 3))):
            n += 1
            rows.append(_row(draw, name, draw(later), n))
        tables[name] = pd.DataFrame(rows, columns=frame.columns)
    # events inside rows moved to later dates (or away)
    t = tables["support_tickets"]
    t.loc[_after(t, "closed_at"), "closed_at"] = draw(st.sampled_from([None, draw(later).strftime("%Y-%m-%d %H:%M")]))
    t.loc[t["closed_at"].isna(), "closed_at"] = draw(st.sampled_from([None, draw(later).strftime("%Y-%m-%d %H:%M")]))
    i = tables["invoices"]
    i.loc[i["paid_at"].isna(), "paid_at"] = draw(st.sampled_from([None, draw(later).strftime("%Y-%m-%d")]))
    s = tables["subscriptions"]
    s.loc[s["end_date"].isna(), "end_date"] = draw(st.sampled_from([None, draw(later).strftime("%Y-%m-%d")]))
    c = tables["customers"]
    c.loc[_after(c, "churn_date"), "churn_date"] = draw(st.sampled_from([None, draw(later).strftime("%Y-%m-%d")]))
    newcomer = {"customer_id": "N", "signup_date": draw(later).strftime("%Y-%m-%d"), "churn_date": None,
                "industry": "new", "employees_2020": 1}
    tables["customers"] = pd.concat([c, pd.DataFrame([newcomer])], ignore_index=True)
    return tables


BASE = build_features(dataset_from_frames(hand_made()), AS_OF)
BASE_TRAINING = build_training_set(dataset_from_frames(hand_made()), AS_OF, snapshots=["2024-03-31"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(futures())
def test_rows_after_the_as_of_date_never_change_features(tables):
    pd.testing.assert_frame_equal(build_features(dataset_from_frames(tables), AS_OF), BASE)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(futures())
def test_rows_after_the_as_of_date_never_change_training_sets(tables):
    pd.testing.assert_frame_equal(
        build_training_set(dataset_from_frames(tables), AS_OF, snapshots=["2024-03-31"]), BASE_TRAINING)
