"""The command line: help on every command, and the documented exit codes."""
from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from churnlab.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["demo-data"], ["validate"], ["run"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_unknown_option_is_a_usage_error_with_exit_code_2():
    result = runner.invoke(app, ["validate", "--no-such-option"])
    assert result.exit_code == 2


def test_bad_as_of_date_is_a_usage_error():
    result = runner.invoke(app, ["validate", "--data", ".", "--as-of", "30/06/2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_missing_data_folder_exits_1_with_a_clear_message(tmp_path):
    result = runner.invoke(app, ["validate", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "nowhere" in result.output


def test_python_dash_m_churnlab_works():
    proc = subprocess.run([sys.executable, "-m", "churnlab", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "demo-data" in proc.stdout


def test_validate_reports_the_planted_dirt_of_the_demo_data(small_demo):
    import pandas as pd

    result = runner.invoke(app, ["validate", "--data", str(small_demo)])
    assert result.exit_code == 0, result.output
    dirt = pd.read_csv(f"{small_demo}-truth/dirt.csv")
    for rec in dirt.itertuples(index=False):
        line = next(line for line in result.output.splitlines() if rec.table in line and rec.rule in line)
        assert f"{rec.count:,}" in line


def test_validate_on_a_broken_table_lists_every_problem_and_exits_1(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_date,churn_date\nC-1,2024-01-01,\nC-1,2024-02-30,\nC-2,2024-03-01,2023-01-01\n")
    (tmp_path / "usage_events.csv").write_text("customer_id,event_type\nC-1,login\n")
    result = runner.invoke(app, ["validate", "--data", str(tmp_path)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    for expected in ("duplicate_id", "unparseable_date", "churn_before_signup", "missing_column", "usage_events"):
        assert expected in text, expected
