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
