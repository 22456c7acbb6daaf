"""A real PostgreSQL server: `churnlab run --data postgresql://...` against the same data in Parquet.

The server (tests/postgres_server.py) is started once per session on loopback and stopped at the
end, also when tests fail. Without PostgreSQL these tests fail; CHURNLAB_SKIP_POSTGRES=1 skips
them on a developer machine.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from churnlab.data.loading import load_data
from tests.postgres_server import PASSWORD, USER, load_tables

#: The demo's last day: nothing is dated later, so both sources hold exactly the same rows.
AS_OF = "2026-06-30"
#: One model of each kind and one backtest fold: the comparison needs a whole run, not every model.
LIGHT_SETTINGS = "models:\n  survival: [cox]\n  classifiers: [logistic]\n  backtest_folds: 1\n"


@pytest.fixture(scope="module")
def loaded(postgres, small_demo) -> str:
    """The small demo copied into the server; its URL (with the password)."""
    load_tables(postgres.url, small_demo)
    return postgres.url


def _run(data: str, reports: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churnlab", "run", "--data", data, "--as-of", AS_OF,
                           "--out", str(reports), "--config", str(config)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def runs(loaded, small_demo, tmp_path_factory) -> dict:
    """One run from PostgreSQL and one from the Parquet files: report folders and their output."""
    config = tmp_path_factory.mktemp("settings") / "light.yaml"
    config.write_text(LIGHT_SETTINGS)
    out = {}
    for name, data in (("postgres", loaded), ("parquet", str(small_demo))):
        reports = tmp_path_factory.mktemp(f"reports-{name}")
        proc = _run(data, reports, config)
        assert proc.returncode == 0, proc.stderr
        out[name] = {"report": reports / AS_OF, "stderr": proc.stderr, "stdout": proc.stdout}
    return out


def test_postgres_gives_the_same_dataset_as_parquet(loaded, small_demo):
    expected = load_data(small_demo, as_of=AS_OF)
    got = load_data(loaded, as_of=AS_OF)
    assert set(got.tables) == set(expected.tables)
    for name in expected.tables:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)
    pd.testing.assert_frame_equal(got.quarantine, expected.quarantine, obj="quarantine")


@pytest.mark.parametrize("file", ["scores.csv", "data_quality.csv"])
def test_run_from_postgres_writes_byte_identical_csv_to_parquet(runs, file):
    from_postgres = (runs["postgres"]["report"] / file).read_bytes()
    from_parquet = (runs["parquet"]["report"] / file).read_bytes()
    assert from_postgres == from_parquet
    assert len(from_postgres.splitlines()) > 10  # not two empty files


def test_password_appears_in_no_report_file_and_no_output(runs):
    report = runs["postgres"]["report"]
    files = [p for p in report.rglob("*") if p.is_file()]
    assert len(files) > 10
    leaking = [str(p.relative_to(report)) for p in files if PASSWORD.encode() in p.read_bytes()]
    assert leaking == []
    assert PASSWORD not in runs["postgres"]["stderr"] + runs["postgres"]["stdout"]


def test_manifest_names_the_database_without_its_password(runs, postgres):
    manifest = (runs["postgres"]["report"] / "manifest.json").read_text()
    assert f"churnlab:***@127.0.0.1:{postgres.port}/churnlab" in manifest


@pytest.fixture(scope="module")
def tricky(postgres) -> str:
    """A second database whose values test the COPY path: quotes, newlines, empty strings
    beside NULLs, time zones, null flags and whole numbers, an empty table."""
    import psycopg

    with psycopg.connect(postgres.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as con:
        con.execute("CREATE DATABASE tricky")
    url = postgres.url.rsplit("/", 1)[0] + "/tricky"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE customers (customer_id text, signup_date date, churn_date date, "
                    "name text, vip boolean, seats_extra integer)")
        con.execute("INSERT INTO customers VALUES "
                    "('C-1', '2024-01-01', NULL, E'Ann \"the\" Lee\\nLtd, Inc', true, 3), "
                    "('C-2', '2024-02-01', '2024-05-01', '', NULL, NULL)")
        con.execute("CREATE TABLE usage_events (customer_id text, ts timestamptz, event_type text)")
        con.execute("INSERT INTO usage_events VALUES "
                    "('C-1', '2024-06-30 20:00+00', 'login'), "
                    "('C-1', '2024-06-30 23:30-02', 'login'), "  # 2024-07-01 01:30 UTC
                    "('C-2', '2024-03-01 10:00+00', 'export'), "
                    "('C-2', '2024-09-01 10:00+00', 'export')")
        con.execute("CREATE TABLE surveys (customer_id text, responded_at timestamp, kind text, score float8)")
    return url


def test_postgres_values_arrive_as_written(tricky):
    from churnlab.data.loading import ROW_TIME
    from churnlab.data.sql import read_database

    raw = read_database(tricky, as_of="2024-06-30", row_time=ROW_TIME)
    customers = raw["customers"]
    assert customers["name"].tolist() == ['Ann "the" Lee\nLtd, Inc', ""]  # "" is not NULL
    assert customers["vip"].dtype == "boolean" and customers["vip"].isna().tolist() == [False, True]
    assert customers["seats_extra"].dtype == "Int64" and customers["seats_extra"].tolist()[0] == 3
    assert customers["churn_date"].tolist() == [None, pd.Timestamp("2024-05-01").date()]
    # the September event is not read; the 23:30-02:00 one is (one day of slack) ...
    assert str(raw["usage_events"]["ts"].dt.tz) == "UTC" and len(raw["usage_events"]) == 3
    assert len(raw["surveys"]) == 0 and list(raw["surveys"].columns) == ["customer_id", "responded_at",
                                                                         "kind", "score"]


def test_postgres_cut_at_the_end_of_the_as_of_day_in_utc(tricky):
    # ... and then cut: it happened on 2024-07-01 in UTC
    events = load_data(tricky, as_of="2024-06-30")["usage_events"]
    assert events["ts"].tolist() == [pd.Timestamp("2024-06-30 20:00"), pd.Timestamp("2024-03-01 10:00")]


#: A password with the characters that break a URL unencoded; each piece is distinctive, so a
#: piece that leaks past a redaction that cut the URL at the wrong "@", ":" or "/" is found too.
ODD_PASSWORD = "Kx9Fjord@Lm4Plume:Qv7Tarn/Wz2Brisk"
SSL_PASSWORD = "Sslpw-Tq8Mirth"


@pytest.fixture(scope="module")
def analyst(loaded, postgres) -> str:
    """A second login whose password holds "@", ":" and "/"; the server's URL without a user."""
    import psycopg

    with psycopg.connect(loaded, autocommit=True) as con:
        con.execute(f"CREATE ROLE analyst LOGIN PASSWORD '{ODD_PASSWORD}'")
        con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO analyst")
    return f"127.0.0.1:{postgres.port}"


def _forms(where: str, database: str) -> dict[str, tuple[str, list[str]]]:
    """Form -> (URL, the secrets it carries)."""
    return {
        "userinfo": (f"postgresql://{USER}:{PASSWORD}@{where}/{database}", [PASSWORD]),
        "query": (f"postgresql://{USER}@{where}/{database}?password={PASSWORD}&application_name=x", [PASSWORD]),
        "unencoded": (f"postgresql://analyst:{ODD_PASSWORD}@{where}/{database}?sslpassword={SSL_PASSWORD}",
                      [ODD_PASSWORD, SSL_PASSWORD]),
        "encoded": (f"postgres://analyst:{quote(ODD_PASSWORD, safe='')}@{where}/{database}", [ODD_PASSWORD]),
        "query-only": (f"postgresql://{where}/{database}?user=analyst&password={quote(ODD_PASSWORD, safe='')}",
                       [ODD_PASSWORD]),
    }


def _leaks(secrets: list[str], reports: Path, proc: subprocess.CompletedProcess) -> list[str]:
    """Where any secret, or any piece of one between "@", ":" and "/", shows."""
    pieces = set()
    for secret in secrets:
        pieces |= {secret, quote(secret, safe=""), *re.split(r"[@:/]", secret)}
    found = [f"output: {p}" for p in pieces if p in proc.stdout + proc.stderr]
    for path in (p for p in reports.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(reports)}: {p}" for p in pieces if p.encode() in data]
    return found


@pytest.mark.parametrize("form", ["userinfo", "query", "unencoded", "encoded", "query-only"])
def test_a_failing_run_shows_no_password(analyst, light_config, tmp_path, form):
    url, secrets = _forms(analyst, "no_such_database")[form]
    reports = tmp_path / "reports"
    proc = _run(url, reports, light_config)
    assert proc.returncode == 1
    assert "step 'validate' failed" in proc.stderr and "no_such_database" in proc.stderr
    assert (reports / ".failed").is_dir()
    assert _leaks(secrets, reports, proc) == []


def test_a_run_at_a_wrong_host_shows_no_password(light_config, tmp_path):
    url, secrets = _forms(f"127.0.0.2:{_free_port()}", "churnlab")["unencoded"]
    proc = _run(url, tmp_path / "reports", light_config)
    assert proc.returncode == 1 and "127.0.0.2" in proc.stderr
    assert _leaks(secrets, tmp_path / "reports", proc) == []


@pytest.mark.parametrize("form", ["query", "unencoded"])
def test_a_successful_run_shows_no_password(analyst, light_config, tmp_path, form):
    url, secrets = _forms(analyst, "churnlab")[form]
    reports = tmp_path / "reports"
    proc = _run(url, reports, light_config)
    assert proc.returncode == 0, proc.stderr
    assert (reports / AS_OF / "scores.csv").is_file()
    assert _leaks(secrets, reports, proc) == []
    manifest = json.loads((reports / AS_OF / "manifest.json").read_text())
    assert "***" in manifest["data"]


@pytest.fixture(scope="module")
def light_config(tmp_path_factory) -> Path:
    config = tmp_path_factory.mktemp("settings") / "light.yaml"
    config.write_text(LIGHT_SETTINGS)
    return config


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
