"""A real PostgreSQL server: `churnlab run --data postgresql://...` against the same data in Parquet.

The server (tests/postgres_server.py) is started once per session on loopback and stopped at the
end, also when tests fail. Without PostgreSQL these tests fail; CHURNLAB_SKIP_POSTGRES=1 skips
them on a developer machine.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from churnlab.io import load_data
from tests.postgres_server import PASSWORD, load_tables

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
