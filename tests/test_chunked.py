"""Tables too large for memory are validated chunk by chunk, with the in-memory path's results."""
from __future__ import annotations

import pandas as pd
import pytest

import churnlab
from churnlab.features import data_health
from churnlab.report import handoff as work
from churnlab.data.chunked import large_tables, load_data_chunked
from churnlab.data.contract import DataContractError
from churnlab.settings import Settings

from tests.helpers import assert_same_dataset

AS_OF = "2024-03-31"


def _customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                         "signup_date": ["2023-01-01", "2023-06-01", "2024-06-01"]})  # C3 after the as-of date


def _events() -> pd.DataFrame:
    """Ten usage events, chunks of three cut them at rows 3, 6 and 9."""
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "C1", "C9", "C1", "C2", None, "C1", "C3", "C2"],
        "ts": ["2024-01-05", "2024-02-01", "2024-01-05", "2024-01-07", "2024-05-01",
               "2024-02-01", "2024-01-09", "2024-01-05", "2024-07-01", "2024-03-03"],
        "event_type": ["login", "export", "login", "login", "login", "export", "login", "login", "login", "report"],
        "quantity": [1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 4.0],
    })
# row 2 repeats row 0 inside the first chunk; rows 5 and 7 repeat rows 1 and 0 from other chunks;
# row 3 is an unknown customer, row 6 has no customer_id; row 4 and row 8 are after the as-of date


def _touchpoints() -> pd.DataFrame:
    """Row 3 repeats row 0 and is out of range like it: it is a duplicate (the earlier rule)."""
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "C2", "C1"],
        "ts": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-02"],
        "department": ["sales", "finance", "success", "sales"],
        "sentiment": [3.0, -0.5, 0.2, 3.0],
    })


def _folder(tmp_path, **tables) -> str:
    folder = tmp_path / "tables"
    folder.mkdir()
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return str(folder)


def test_only_tables_above_the_chunk_size_and_never_customers_are_chunked(tmp_path):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events(), touchpoints=_touchpoints())
    assert set(large_tables(source, chunk_rows=3)) == {"usage_events", "touchpoints"}
    assert set(large_tables(source, chunk_rows=5)) == {"usage_events"}
    assert large_tables(source, chunk_rows=10) == {}


@pytest.mark.parametrize("as_of", [AS_OF, None])
def test_chunked_validation_gives_what_validation_in_memory_gives(tmp_path, as_of):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events(), touchpoints=_touchpoints())
    chunked = load_data_chunked(source, as_of, tmp_path / "out", chunk_rows=3)
    assert_same_dataset(churnlab.load_data(source, as_of=as_of), chunked)


def test_duplicates_are_found_across_chunks_and_the_first_row_kept(tmp_path):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events())
    dataset = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    quarantine = dataset.quarantine.set_index("row")["rule"]
    assert quarantine.to_dict() == {2: "duplicate_row", 5: "duplicate_row", 7: "duplicate_row",
                                    3: "unknown_customer", 6: "missing_value"}
    kept = dataset["usage_events"]
    # rows 0, 1 and 9 (rows 4 and 8 are after the as-of date)
    assert kept["ts"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05", "2024-02-01", "2024-03-03"]


def test_a_duplicate_of_a_row_out_of_range_is_quarantined_as_the_duplicate(tmp_path):
    source = _folder(tmp_path, customers=_customers(), touchpoints=_touchpoints())
    dataset = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=2)
    rules = dataset.quarantine.set_index("row")["rule"].to_dict()
    assert rules == {0: "out_of_range", 3: "duplicate_row"}


def test_a_chunked_table_stays_on_disk_until_asked_for(tmp_path):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events())
    dataset = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    assert dataset.file("usage_events") == tmp_path / "out" / "usage_events.parquet"
    assert dataset.rows("usage_events") == 3
    with churnlab.features.engine.connect(dataset) as con:
        assert con.execute("SELECT count(*) FROM usage_events").fetchone() == (3,)


def test_an_unparseable_date_in_several_chunks_is_one_problem_with_the_total_count(tmp_path):
    events = _events()
    events.loc[[1, 8], "ts"] = ["yesterday", "soon"]
    source = tmp_path / "tables"
    source.mkdir()
    _customers().to_csv(source / "customers.csv", index=False)
    events.to_csv(source / "usage_events.csv", index=False)
    with pytest.raises(DataContractError) as caught:
        load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    (problem,) = caught.value.violations
    assert (problem.table, problem.column, problem.rule, problem.count) == ("usage_events", "ts", "unparseable_date", 2)
    assert [e["row"] for e in problem.examples] == [1, 8]
    assert "usage_events.ts: 2 rows have a ts that is not an ISO date or timestamp" in str(caught.value)


def _same_contract_error(source, tmp_path, chunk_rows: int) -> str:
    """The DataContractError's message of ``source``, the same in chunks and in memory."""
    with pytest.raises(DataContractError) as chunked:
        load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=chunk_rows)
    with pytest.raises(DataContractError) as in_memory:
        churnlab.load_data(source, as_of=AS_OF)
    assert str(chunked.value) == str(in_memory.value)
    return str(chunked.value)


def test_a_shared_id_across_chunks_is_structural(tmp_path):
    tickets = pd.DataFrame({"ticket_id": ["T1", "T2", "T3", "T1"], "customer_id": ["C1", "C2", "C1", "C2"],
                            "opened_at": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
                            "closed_at": [None, None, None, None]})
    source = _folder(tmp_path, customers=_customers(), support_tickets=tickets)
    message = _same_contract_error(source, tmp_path, chunk_rows=2)
    assert "support_tickets.ticket_id: 2 rows share their ticket_id with another row (duplicate_id), e.g. T1" \
        in message


def test_reject_mode_reports_the_row_problems_of_every_chunk(tmp_path):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events())
    with pytest.raises(DataContractError) as caught:
        load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3, on_row_error="reject")
    found = {(v.rule, v.count) for v in caught.value.violations}
    assert found == {("duplicate_row", 3), ("unknown_customer", 1), ("missing_value", 1)}


def test_a_run_folder_validates_large_tables_in_chunks(tmp_path, monkeypatch):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events())
    settings = Settings(validation={"chunk_rows": 3})
    from churnlab.data import chunked

    real = chunked.load_data  # the chunked path loads only the tables it does not chunk, in memory
    monkeypatch.setattr(chunked, "load_data", lambda *a, **k: real(*a, **k) if k.get("exclude")
                        else pytest.fail("validated in memory"))
    dataset = work.open_data(source, AS_OF, out=tmp_path / "run", settings=settings)
    assert dataset.file("usage_events") is not None
    assert_same_dataset(churnlab.load_data(source, as_of=AS_OF),
                        work.open_data(source, AS_OF, out=tmp_path / "run", settings=settings))


def test_data_health_counts_a_table_on_disk_as_in_memory(tmp_path):
    source = _folder(tmp_path, customers=_customers(), usage_events=_events(), touchpoints=_touchpoints())
    on_disk = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    in_memory = churnlab.load_data(source, as_of=AS_OF)
    for summary in (data_health.table_overview, data_health.table_coverage, data_health.monthly_rows):
        pd.testing.assert_frame_equal(summary(on_disk), summary(in_memory))


def test_rows_sharing_a_hash_are_compared_exactly_before_they_count_as_duplicates(tmp_path, monkeypatch):
    from churnlab.data import chunked
    source = _folder(tmp_path, customers=_customers(), usage_events=_events(), touchpoints=_touchpoints())
    every_row_collides = lambda frame, index: pd.Series(0, index=frame.index, dtype="uint64")  # noqa: E731
    monkeypatch.setattr(chunked.pd.util, "hash_pandas_object", every_row_collides)
    assert_same_dataset(churnlab.load_data(source, as_of=AS_OF),
                        load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3))


def test_asking_about_a_table_on_disk_never_reads_it(tmp_path, monkeypatch):
    from churnlab.data import saved
    source = _folder(tmp_path, customers=_customers(), usage_events=_events())
    dataset = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    monkeypatch.setattr(saved.pd, "read_parquet", lambda *a, **k: pytest.fail("the table was read"))
    assert "usage_events" in dataset and "usage_events" in dataset.tables and "surveys" not in dataset.tables
    assert dataset.rows("usage_events") == 3 and dataset.file("usage_events").is_file()
    with churnlab.features.engine.connect(dataset) as con:
        assert con.execute("SELECT count(*) FROM usage_events").fetchone() == (3,)


def test_a_large_table_whose_ids_mostly_miss_customers_stops_as_in_memory(tmp_path):
    events = pd.DataFrame({"customer_id": ["C1"] * 3 + [f"c{i}" for i in range(9)], "ts": ["2024-01-05"] * 12,
                           "event_type": [f"e{i}" for i in range(12)]})
    source = _folder(tmp_path, customers=_customers(), usage_events=events)
    message = _same_contract_error(source, tmp_path, chunk_rows=5)
    assert "9 of 12 rows (75%)" in message and "mostly_unknown_customers" in message


def test_a_chunked_table_accounts_for_every_row_as_in_memory(tmp_path):
    # row 6 repeats row 4, which is after the as-of date: quarantined, not counted as cut as well;
    # row 2 belongs to C3, who signs up after the as-of date; row 3 has an offset
    events = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C1", "C2", "C9", "C2"],
                           "ts": ["2024-01-05", "2024-02-01", "2024-03-01", "2024-03-01T10:00:00+01:00",
                                  "2024-05-01", "2024-01-01", "2024-05-01"],
                           "event_type": ["login"] * 7})
    source = tmp_path / "tables"
    source.mkdir()
    _customers().to_csv(source / "customers.csv", index=False)
    events.to_csv(source / "usage_events.csv", index=False)
    chunked = load_data_chunked(source, AS_OF, tmp_path / "out", chunk_rows=3)
    assert_same_dataset(churnlab.load_data(source, as_of=AS_OF), chunked)
    acc = chunked.accounting.set_index("table").loc["usage_events"]
    assert acc.tolist() == [7, 3, 2, 1, 1]
    assert chunked.warnings == ["usage_events.ts: 1 value with a UTC offset (e.g. 2024-03-01T10:00:00+01:00) was "
                                "converted to UTC, as the data contract says"]
