"""Shared fixtures: a small demo customer base, generated once per test session.

``--infer-string`` (or ``CHURNLAB_INFER_STRING=1``) runs the suite as pandas 3 will: with
``future.infer_string`` on, text columns become the pyarrow-backed ``str`` dtype instead of
``object``. The option is set in this process and, through pandas' own
``PANDAS_FUTURE_INFER_STRING`` variable, in every process the tests start (``churnlab run`` and
its notebook kernels, nbval's kernels); churnlab itself reads no variable for it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

INFER_STRING_ENV = "CHURNLAB_INFER_STRING"


def pytest_addoption(parser):
    parser.addoption("--infer-string", action="store_true", default=False,
                     help="run with pandas' future.infer_string on (as pandas 3 does); "
                          f"also {INFER_STRING_ENV}=1")


def _infer_string(config) -> bool:
    return config.getoption("--infer-string") or os.environ.get(INFER_STRING_ENV) == "1"


def pytest_configure(config):
    if not _infer_string(config):
        return
    import pandas as pd

    pd.set_option("future.infer_string", True)
    # pandas reads this when it is imported: the child processes (and kernels) get the option too
    os.environ["PANDAS_FUTURE_INFER_STRING"] = "1"


def pytest_report_header(config):
    if _infer_string(config):
        return "pandas future.infer_string: on (text columns are the str dtype)"

SMALL_CUSTOMERS = 400
SMALL_SEED = 11


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Path:
    """A 400-customer demo folder (its truth lies beside it as ``<folder>-truth``)."""
    from churnlab.demo.simulation import generate_demo_data

    out = tmp_path_factory.mktemp("demo") / "tables"
    generate_demo_data(out, customers=SMALL_CUSTOMERS, seed=SMALL_SEED)
    return out


#: The as-of date of the end-to-end report on the small demo.
REPORT_AS_OF = "2026-03-31"


@pytest.fixture(scope="session")
def report_run(small_demo, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``churnlab run`` on the small demo, through the command line: the report folder and the
    finished process (its console output)."""
    reports = tmp_path_factory.mktemp("reports")
    # tables over 10,000 rows (the event log, invoices, touchpoints) are validated in chunks, as a
    # large customer base's are: the report must not depend on it (test_chunked compares the data)
    config = tmp_path_factory.mktemp("settings") / "settings.yaml"
    config.write_text("validation:\n  chunk_rows: 10000\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "churnlab", "run", "--data", str(small_demo), "--as-of", REPORT_AS_OF,
         "--out", str(reports), "--config", str(config)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return reports / REPORT_AS_OF, proc


@pytest.fixture(scope="session")
def report(report_run) -> Path:
    """The report folder ``churnlab run`` wrote on the small demo (see ``report_run``)."""
    return report_run[0]


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on loopback (see tests/postgres_server.py), stopped at the end.

    When it cannot be started the tests using it fail; a developer without PostgreSQL may set
    CHURNLAB_SKIP_POSTGRES=1 to skip them instead (ignored in CI, where CI=true).
    """
    import os

    from tests.postgres_server import OPT_OUT, PostgresServer, PostgresUnavailable

    if os.environ.get(OPT_OUT) == "1" and os.environ.get("CI") != "true":
        pytest.skip(f"PostgreSQL tests skipped: {OPT_OUT}=1")
    server = None
    try:
        server = PostgresServer()
        server.start()
    except Exception as err:  # noqa: BLE001 - whatever went wrong, say it and fail loudly
        if server is not None:
            server.stop()
        pytest.fail(f"could not start a throwaway PostgreSQL server for the tests: {err}\n"
                    f"Install Debian's postgresql package (make test does) or set {OPT_OUT}=1 "
                    f"to skip these tests on a developer machine.", pytrace=False)
    try:
        yield server
    finally:
        server.stop()



def pytest_collection_finish(session):
    """The eight weekly runs of tests/test_weekly.py take minutes of notebook kernels: they start
    in the background as soon as the tests are collected, and run beside the other tests."""
    if any(item.path.name == "test_weekly.py" for item in session.items):
        from tests.test_weekly import start_weekly_runs

        start_weekly_runs(session.config)
