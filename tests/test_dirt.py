"""Dirty input either stops with a clear contract error or every input row is accounted for."""
from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnlab.data.contract import DataContractError
from churnlab.data.loading import dataset_from_frames

AS_OF = "2024-06-30"
IDS = ["C1", "C2", "C3", "C4", 5, 6.0, "0007", None]
DATES = ["2024-01-01", "2024-06-30", "2024-07-01", "2025-01-01", "2024-03-01T10:00:00+02:00", "not a date", None]
NUMBERS = ["1", "2.5", "-3", "inf", "-inf", "1e308", "nan", "text", None]


def rows(columns: dict, max_size: int):
    return st.lists(st.fixed_dictionaries({c: st.sampled_from(v) for c, v in columns.items()}),
                    max_size=max_size).map(lambda r: pd.DataFrame(r, columns=list(columns), dtype=object))


def duplicated(frames):
    """Repeat some rows: duplicates are dirt too."""
    return frames.flatmap(lambda f: st.lists(st.integers(0, max(len(f) - 1, 0)), max_size=3).map(
        lambda picks: pd.concat([f, f.iloc[[p for p in picks if p < len(f)]]], ignore_index=True)))


@st.composite
def customers(draw):
    """Mostly valid customers (any dirt there stops validation), some signing up after the as-of
    date; now and then a duplicate id, a missing or unparseable date, or no rows at all."""
    ids = draw(st.lists(st.sampled_from(["C1", "C2", "C3", "C4", 5, 6.0, "0007"]), unique_by=str, max_size=6))
    frame = pd.DataFrame({"customer_id": ids,
                          "signup_date": [draw(st.sampled_from(DATES[:4])) for _ in ids],
                          "churn_date": [draw(st.sampled_from([None, "2024-09-01", "2025-02-01"])) for _ in ids]},
                         dtype=object)
    if len(frame) and draw(st.integers(0, 9)) == 0:
        frame = pd.concat([frame, frame.iloc[[0]].assign(signup_date=draw(st.sampled_from(DATES)))],
                          ignore_index=True)
    return frame


customers = customers()
events = duplicated(rows({"customer_id": IDS, "ts": DATES, "event_type": ["login", None],
                          "quantity": NUMBERS}, 12))
tickets = rows({"ticket_id": ["T1", "T2", "T3", "T4", "T5", "T6"], "customer_id": IDS, "opened_at": DATES[:4],
                "closed_at": [None, "2024-01-15", "2024-05-01"], "severity": ["low", "urgent", None],
                "csat": ["1", "5", "9", "inf", None]}, 6).map(lambda f: f.drop_duplicates("ticket_id"))
subscriptions = rows({"subscription_id": ["S1", "S2", "S3"], "customer_id": IDS, "start_date": DATES[:4],
                      "end_date": [None, "2024-02-01"], "mrr": NUMBERS, "seats": ["1", "2.5", "1e12", None]},
                     3).map(lambda f: f.drop_duplicates("subscription_id"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers, events, tickets, subscriptions)
def test_dirty_tables_stop_clearly_or_account_for_every_row(customers, events, tickets, subscriptions):
    raw = {"customers": customers, "usage_events": events, "support_tickets": tickets, "subscriptions": subscriptions}
    try:
        ds = dataset_from_frames(raw, as_of=AS_OF)
    except DataContractError as err:
        assert err.violations and all(v.message for v in err.violations)
        assert str(err).startswith("the data breaks the data contract")
        return
    acc = ds.accounting.set_index("table")
    assert set(acc.index) == set(raw)
    quarantined = ds.quarantine["table"].value_counts()
    for table, frame in raw.items():
        rec = acc.loc[table]
        assert rec["input_rows"] == len(frame)
        assert rec["kept"] == len(ds[table])
        assert rec["quarantined"] == quarantined.get(table, 0)
        assert rec["input_rows"] == rec["kept"] + rec["quarantined"] + rec["not_yet_customers"] + rec["after_as_of"]
        for column in ds[table].select_dtypes("number"):
            values = ds[table][column].dropna().astype("float64")
            assert values.abs().lt(1e11).all(), (table, column)  # nothing infinite or absurd is kept
