"""Database URLs as data sources: SQLite and DuckDB files beside Parquet, errors, redaction.

The PostgreSQL end-to-end run lives in tests/test_postgres.py.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from churnlab.data.loading import load_data
from churnlab.data.contract import DataContractError
from churnlab.data.sql import DataSourceError, is_database_url, redact, resolve_source, without_password
from tests.postgres_server import _free_port

AS_OF = "2024-06-30"
CUSTOMERS = pd.DataFrame({
    "customer_id": ["C-1", "C-2", "C-3"],
    "signup_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-07-01"]).date,
    "churn_date": [None, pd.Timestamp("2024-08-15").date(), None],
    "churn_reason": [None, "price", None],
    "tier": ["gold", "silver", "gold"],  # an extra column: a candidate feature
})
EVENTS = pd.DataFrame({
    "customer_id": ["C-1", "C-2", "C-2", "C-404", "C-1"],
    "ts": pd.to_datetime(["2024-06-30 23:59", "2024-06-29 08:00", "2024-05-01 10:00",
                          "2024-05-01 10:00", "2024-09-01 10:00"]),
    # the last event, long after the as-of date, breaks a rule: it must not even be read
    "event_type": ["login", "login", "export", "login", None],
    "quantity": [1.0, 2.0, 1.5, 1.0, 1.0],
    "debug_blob": ["x", "y", "z", "w", "v"],  # not in the contract: never read
})
TABLES = {"customers": CUSTOMERS, "usage_events": EVENTS}


def _parquet(folder: Path, tables: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _sqlite(path: Path, tables: dict) -> str:
    with sqlite3.connect(path) as con:
        for name, frame in tables.items():
            frame.to_sql(name, con, index=False,
                         dtype={c: "DATE" for c in frame if c.endswith("_date")} | {"ts": "TIMESTAMP"})
    return f"sqlite:///{path}"


def _duckdb(path: Path, tables: dict) -> str:
    with duckdb.connect(str(path)) as con:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    return f"duckdb:///{path}"


@pytest.fixture(params=["sqlite", "duckdb"])
def database(request, tmp_path) -> str:
    make = _sqlite if request.param == "sqlite" else _duckdb
    return make(tmp_path / f"shop.{request.param}", TABLES)


def _without_late_rows(tables: dict, as_of: str) -> dict:
    """What the database is asked for: rows up to the as-of date (+1 day of slack), contract
    columns only (the Parquet path keeps every column)."""
    events = tables["usage_events"].drop(columns="debug_blob")
    return {"customers": tables["customers"],
            "usage_events": events[events["ts"] < pd.Timestamp(as_of) + pd.Timedelta(days=2)]}


def test_database_url_gives_the_same_dataset_as_parquet(database, tmp_path):
    folder = _parquet(tmp_path / "parquet", _without_late_rows(TABLES, AS_OF))
    expected = load_data(folder, as_of=AS_OF)
    got = load_data(database, as_of=AS_OF)
    for name in ("customers", "usage_events"):
        pd.testing.assert_frame_equal(got[name], expected[name])
    pd.testing.assert_frame_equal(got.quarantine, expected.quarantine)


def test_rows_after_the_as_of_date_are_not_read_from_the_database(database):
    quarantined = load_data(database, as_of=AS_OF).quarantine
    # only C-404's event (unknown customer); the later event with no event_type never arrives
    assert quarantined[["table", "rule", "customer_id"]].values.tolist() == [
        ["usage_events", "unknown_customer", "C-404"]]


def test_without_as_of_every_row_is_read(database):
    quarantined = load_data(database).quarantine
    assert sorted(quarantined["rule"]) == ["missing_value", "unknown_customer"]


def test_only_contract_columns_are_read_but_customers_keep_their_extras(database):
    dataset = load_data(database, as_of=AS_OF)
    assert "debug_blob" not in dataset["usage_events"].columns
    assert dataset["customers"]["tier"].tolist() == ["gold", "silver"]


def test_database_fingerprint_hashes_the_rows_read(tmp_path):
    first = load_data(_sqlite(tmp_path / "a.db", TABLES), as_of=AS_OF).fingerprint
    same = load_data(_sqlite(tmp_path / "b.db", TABLES), as_of=AS_OF).fingerprint
    changed = TABLES | {"customers": CUSTOMERS.assign(tier=["gold", "gold", "gold"])}
    other = load_data(_sqlite(tmp_path / "c.db", changed), as_of=AS_OF).fingerprint
    assert first == same != other


def test_database_without_customers_table_names_the_tables_it_has(tmp_path):
    url = _sqlite(tmp_path / "shop.db", {"usage_events": EVENTS})
    with pytest.raises(DataContractError, match="customers table is missing.*found: usage_events"):
        load_data(url)


def test_table_missing_a_required_column_is_a_contract_error(tmp_path):
    url = _sqlite(tmp_path / "shop.db", {"customers": CUSTOMERS,
                                         "usage_events": EVENTS.drop(columns="event_type")})
    with pytest.raises(DataContractError) as err:
        load_data(url, as_of=AS_OF)
    assert [(v.table, v.column, v.rule) for v in err.value.violations] == [
        ("usage_events", "event_type", "missing_column")]


def test_missing_database_file_is_not_created(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.db"):
        load_data(f"sqlite:///{tmp_path / 'nowhere.db'}")
    assert not (tmp_path / "nowhere.db").exists()


def test_refused_connection_names_host_and_port_and_how_to_check():
    port = _free_port()  # nothing listens there
    with pytest.raises(DataSourceError) as err:
        load_data(f"postgresql://ana:hunter2@127.0.0.1:{port}/shop")
    message = str(err.value)
    assert f"127.0.0.1:{port} refused the connection" in message
    assert f"pg_isready -h 127.0.0.1 -p {port}" in message
    assert "hunter2" not in message and "ana:***@" in message


def test_unsupported_database_type_lists_the_supported_ones():
    with pytest.raises(DataSourceError, match="'mysql' are not supported.*postgresql, duckdb, sqlite"):
        load_data("mysql://ana:hunter2@db/shop")


@pytest.mark.parametrize("url, shown", [
    ("postgresql://ana:hunter2@db:5432/shop", "postgresql://ana:***@db:5432/shop"),
    ("postgresql://ana@db/shop", "postgresql://ana@db/shop"),
    ("postgresql://ana:hunter2@db:port/shop", "postgresql://ana:***@db:port/shop"),  # unparseable
    ("postgresql://ana@db/shop?password=hunter2&sslmode=require", "postgresql://ana@db/shop?password=***&sslmode=require"),
    ("postgresql://ana@db/shop?sslpassword=hunter2", "postgresql://ana@db/shop?sslpassword=***"),
    ("postgresql://ana:hun@ter:2/x@db/shop", "postgresql://ana:***@db/shop"),  # unencoded "@", ":", "/"
    ("postgresql://ana@db/shop?password=hun&ter2&port=5", "postgresql://ana@db/shop?password=***&port=5"),
    ("postgres://db/shop?user=ana@corp&PASSWORD=hunter2", "postgres://db/shop?user=ana@corp&PASSWORD=***"),
    ("sqlite:///data/a@b/x.db", "sqlite:///data/a@b/x.db"),
])
def test_redact_replaces_the_password(url, shown):
    assert redact(url) == shown


def test_without_password_splits_the_password_off():
    assert without_password("postgresql://ana:p%40ss@db/shop") == ("postgresql://ana@db/shop", "p@ss")
    assert without_password("sqlite:///x.db") == ("sqlite:///x.db", None)
    # query-parameter passwords go to PGPASSWORD too; other secrets are left out of the URL
    assert without_password("postgresql://ana@db/shop?password=p%40ss&sslpassword=k&sslmode=require") == (
        "postgresql://ana@db/shop?sslmode=require", "p@ss")
    assert without_password("postgresql://ana:p@ss:w/rd@db/shop") == ("postgresql://ana@db/shop", "p@ss:w/rd")


def test_is_database_url_tells_urls_from_paths():
    assert is_database_url("postgresql://db/shop") and is_database_url("sqlite:///x.db")
    assert not is_database_url("data/demo") and not is_database_url(Path("data/demo"))


def test_resolve_source_prefers_data_then_the_env_variable_then_the_url():
    env = {"SHOP_DB": "postgresql://env/shop"}
    assert resolve_source("data/demo", "sqlite:///s.db", "SHOP_DB", env) == "data/demo"
    assert resolve_source(None, "sqlite:///s.db", "SHOP_DB", env) == "postgresql://env/shop"
    assert resolve_source(None, "sqlite:///s.db", None, env) == "sqlite:///s.db"


def test_resolve_source_names_the_unset_variable():
    with pytest.raises(DataSourceError, match="SHOP_DB .* is not set"):
        resolve_source(None, None, "SHOP_DB", {})


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churnlab", *args], capture_output=True, text=True)


def test_cli_refused_connection_exits_1_with_one_paragraph_and_no_password():
    url = f"postgresql://ana:hunter2@127.0.0.1:{_free_port()}/shop"
    proc = _cli("validate", "--data", url)
    assert proc.returncode == 1
    assert "refused the connection" in proc.stderr and "pg_isready" in proc.stderr
    assert "hunter2" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_cli_database_without_customers_exits_1(tmp_path):
    proc = _cli("validate", "--data", _sqlite(tmp_path / "shop.db", {"usage_events": EVENTS}))
    assert proc.returncode == 1
    assert "required customers table is missing" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_table_missing_a_required_column_exits_1(tmp_path):
    url = _sqlite(tmp_path / "shop.db", {"customers": CUSTOMERS.drop(columns="signup_date")})
    proc = _cli("validate", "--data", url)
    assert proc.returncode == 1
    assert "signup_date" in proc.stderr and "missing_column" in proc.stderr


def test_cli_reads_the_url_from_the_variable_the_settings_name(tmp_path):
    url = _sqlite(tmp_path / "shop.db", TABLES)
    config = tmp_path / "settings.yaml"
    config.write_text("sql:\n  url_env: SHOP_DB\n")
    proc = subprocess.run([sys.executable, "-m", "churnlab", "validate", "--config", str(config),
                           "--as-of", AS_OF], capture_output=True, text=True,
                          env={**__import__("os").environ, "SHOP_DB": url})
    assert proc.returncode == 0, proc.stderr
    assert "usage_events" in proc.stdout


def test_settings_show_a_url_password_as_stars():
    import yaml

    from churnlab.settings import Settings

    settings = Settings.model_validate({"sql": {"url": "postgresql://ana:hunter2@db/shop"}})
    assert settings.sql.url.get_secret_value() == "postgresql://ana:hunter2@db/shop"
    assert "hunter2" not in yaml.safe_dump(settings.model_dump(mode="json")) + repr(settings)


def test_cli_run_against_a_refused_connection_exits_1_naming_the_step(tmp_path):
    url = f"postgresql://ana:hunter2@127.0.0.1:{_free_port()}/shop"
    proc = _cli("run", "--data", url, "--as-of", AS_OF, "--out", str(tmp_path / "reports"))
    assert proc.returncode == 1
    assert "step 'validate' failed" in proc.stderr and "refused the connection" in proc.stderr
    assert "hunter2" not in proc.stderr + proc.stdout
    leaking = [p for p in (tmp_path / "reports").rglob("*") if p.is_file() and b"hunter2" in p.read_bytes()]
    assert leaking == []


def test_cli_without_data_or_settings_url_exits_1_saying_what_to_give():
    proc = _cli("validate")
    assert proc.returncode == 1 and "no data source: pass --data" in proc.stderr


def test_sqlite_text_that_is_no_date_in_a_date_column_is_reported_not_raised(tmp_path):
    broken = CUSTOMERS.astype({"signup_date": object})
    broken.loc[1, "signup_date"] = "sometime in 2024"
    url = _sqlite(tmp_path / "shop.db", {"customers": broken})
    with pytest.raises(DataContractError) as err:
        load_data(url, as_of=AS_OF)
    assert [(v.column, v.rule) for v in err.value.violations] == [("signup_date", "unparseable_date")]
