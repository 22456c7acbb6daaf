"""The command line: help on every command, and the documented exit codes."""
from __future__ import annotations

import re
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


def test_validate_checks_large_tables_in_chunks_and_says_the_same(small_demo, tmp_path, monkeypatch):
    # tables over validation.chunk_rows are validated chunk by chunk, as a run does, so a
    # million-customer event log fits in memory; the report reads exactly as the in-memory one
    import churnlab.data.chunked

    calls = []
    real = churnlab.data.chunked.load_data_chunked
    monkeypatch.setattr(churnlab.data.chunked, "load_data_chunked",
                        lambda *a, **k: calls.append(k["chunk_rows"]) or real(*a, **k))
    config = tmp_path / "settings.yaml"
    config.write_text("validation:\n  chunk_rows: 5000\n")
    whole = runner.invoke(app, ["validate", "--data", str(small_demo), "--as-of", "2026-03-31"])
    assert calls == []
    chunked = runner.invoke(app, ["validate", "--data", str(small_demo), "--as-of", "2026-03-31",
                                  "--config", str(config)])
    assert calls == [5000]
    assert whole.exit_code == chunked.exit_code == 0, chunked.output
    assert "usage_events" in chunked.output and "duplicate_row" in chunked.output
    assert chunked.output == whole.output


def test_validate_in_chunks_reports_a_broken_large_table_and_exits_1(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id,signup_date,churn_date\nC-1,2024-01-01,\n")
    rows = "".join(f"C-1,2024-02-{day:02d} 10:00:00,login\n" for day in range(1, 29))
    (tmp_path / "usage_events.csv").write_text("customer_id,ts,event_type\n" + rows + "C-1,2024-02-30 10:00:00,login\n")
    config = tmp_path / "settings.yaml"
    config.write_text("validation:\n  chunk_rows: 10\n")
    result = runner.invoke(app, ["validate", "--data", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 1
    assert "usage_events" in result.output and "unparseable" in result.output


# -- warnings: one readable line each, never lost -----------------------------------------------

def _one_customer(folder):
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text("customer_id,signup_date,churn_date\nC-1,2024-01-01,\n")
    return folder


def _warning_lines(output: str) -> list[str]:
    """The lines saying a warning, without the time of day every log line on the console starts with."""
    lines = [line for line in output.splitlines() if "warning:" in line.lower()]
    assert all(re.match(r"\d\d:\d\d:\d\d warning: ", line) for line in lines), lines
    return [line[len("00:00:00 "):] for line in lines]


@pytest.mark.parametrize("text", ["", "# all commented out\n# seed: 8\n", "null\n"])
def test_an_empty_settings_file_is_said_in_one_warning_line(tmp_path, text):
    config = tmp_path / "settings.yaml"
    config.write_text(text)
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data")), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert _warning_lines(result.output) == [f"warning: settings file {config} is empty: the defaults are used"]
    assert "SettingsWarning" not in result.output and "warnings.warn" not in result.output


@pytest.mark.parametrize("text", ["- seed: 8\n", "42\n", "seed: [8\n"])
def test_a_settings_file_that_is_not_settings_exits_1_naming_it(tmp_path, text):
    config = tmp_path / "settings.yaml"
    config.write_text(text)
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data")), "--config", str(config)])
    assert result.exit_code == 1
    assert re.match(rf"error: {re.escape(str(config))}(, line \d+)?: settings ", result.output)
    assert "Traceback" not in result.output


def test_warnings_while_validating_are_printed_one_line_each(tmp_path, monkeypatch):
    import warnings

    import churnlab.data

    real = churnlab.data.open_source

    def open_source_that_warns(*args, **kwargs):
        warnings.warn("a column looks odd:\n  3 rows", UserWarning)
        warnings.warn("a second, different problem", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(churnlab.data, "open_source", open_source_that_warns)
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data"))])
    assert result.exit_code == 0, result.output
    lines = _warning_lines(result.output)
    assert len(lines) == 2, result.output
    assert lines[0].startswith("warning: a column looks odd: 3 rows (UserWarning, test_cli.py:")
    assert lines[1].startswith("warning: a second, different problem (UserWarning, test_cli.py:")
    assert "warnings.warn(" not in result.output


def test_validate_prints_where_every_row_went_and_the_warnings(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id,signup_date\nC-1,2024-01-01\nC-2,2025-01-01\n")
    (tmp_path / "usage_events.csv").write_text(
        "customer_id,ts,event_type\nC-1,2024-02-01T10:00:00+02:00,login\nC-2,2024-02-02,login\nC-1,2024-09-01,login\n")
    result = runner.invoke(app, ["validate", "--data", str(tmp_path), "--as-of", "2024-06-30"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "where every input row went" in text
    assert "usage_events │ 3 │ 1 │ 0 │ 1 │ 1" in text
    assert "usage_events.ts: 1 value with a UTC offset" in text
    assert "the newest data is from 2024-02-01, 150 days before the as-of date 2024-06-30" in text


def test_validate_refuses_a_header_only_customers_file(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id,signup_date,churn_date\n")
    result = runner.invoke(app, ["validate", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "customers has no rows" in result.output


# -- --version, validate --out / --strict / --format json ------------------------------------------

def test_version_prints_the_package_version():
    from churnlab import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"churnlab {__version__}"


def _dirty(folder):
    """One clean customer, an event of an unknown customer and an exact duplicate event."""
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text("customer_id,signup_date,churn_date\nC-1,2024-01-01,\nC-2,2024-02-01,\n")
    (folder / "usage_events.csv").write_text(
        "customer_id,ts,event_type\nC-1,2024-03-01 10:00:00,login\nC-1,2024-03-01 10:00:00,login\n"
        "C-2,2024-03-02 10:00:00,login\nC-9,2024-03-03 10:00:00,login\n")
    return folder


def test_validate_out_writes_data_quality_csv(tmp_path):
    import pandas as pd

    out = tmp_path / "checks" / "today"  # made when missing
    result = runner.invoke(app, ["validate", "--data", str(_dirty(tmp_path / "data")), "--as-of", "2024-06-30",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    quality = pd.read_csv(out / "data_quality.csv")
    assert sorted(quality["rule"]) == ["duplicate_row", "unknown_customer"]
    assert set(quality["table"]) == {"usage_events"}
    assert str(out / "data_quality.csv") in "".join(result.output.split())  # where its rows are listed


def test_validate_out_on_clean_data_writes_the_header_only(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data")), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "data_quality.csv").read_text().splitlines()[0].startswith("table,")
    assert len((out / "data_quality.csv").read_text().splitlines()) == 1


def test_validate_strict_exits_1_when_a_row_is_quarantined(tmp_path):
    dirty = runner.invoke(app, ["validate", "--data", str(_dirty(tmp_path / "data")), "--as-of", "2024-06-30",
                                "--strict", "--out", str(tmp_path / "out")])
    assert dirty.exit_code == 1, dirty.output
    assert "2 row(s) quarantined (--strict)" in dirty.output
    assert "follows the data contract" not in dirty.output
    assert (tmp_path / "out" / "data_quality.csv").exists()  # written all the same, to look at
    clean = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "clean")), "--strict"])
    assert clean.exit_code == 0, clean.output


def test_validate_format_json_prints_one_summary_and_nothing_else(tmp_path):
    import json

    result = runner.invoke(app, ["validate", "--data", str(_dirty(tmp_path / "data")), "--as-of", "2024-06-30",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert summary["ok"] is True and summary["as_of"] == "2024-06-30"
    assert summary["tables"] == {"customers": 2, "usage_events": 2}
    assert summary["quarantined"]["total"] == 2
    assert summary["quarantined"]["by_table"] == {"usage_events": 2}
    assert sorted((r["rule"], r["count"]) for r in summary["quarantined"]["by_rule"]) == [
        ("duplicate_row", 1), ("unknown_customer", 1)]
    events = next(r for r in summary["accounting"] if r["table"] == "usage_events")
    assert events["input_rows"] == 4 and events["kept"] == 2 and events["quarantined"] == 2
    assert any("days before the as-of date 2024-06-30" in w for w in summary["warnings"])
    assert summary["data_quality"] is None


def test_validate_format_json_with_strict_and_a_contract_error(tmp_path):
    import json

    strict = runner.invoke(app, ["validate", "--data", str(_dirty(tmp_path / "data")), "--as-of", "2024-06-30",
                                 "--format", "json", "--strict"])
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["ok"] is False
    broken = runner.invoke(app, ["validate", "--data", str(tmp_path / "nowhere"), "--format", "json"])
    assert broken.exit_code == 1
    failed = json.loads(broken.stdout)
    assert failed["ok"] is False and "nowhere" in failed["error"]
    assert runner.invoke(app, ["validate", "--data", ".", "--format", "xml"]).exit_code == 2


def test_validate_format_json_says_a_settings_error_in_json_too(tmp_path):
    import json

    config = tmp_path / "settings.yaml"
    config.write_text("no_such_key: 1\n")
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data")), "--config", str(config),
                                 "--format", "json"])
    assert result.exit_code == 1
    failed = json.loads(result.stdout)
    assert failed["ok"] is False and "no_such_key" in failed["error"]


# -- settings and mapping errors say the file, the line, the key and what to do -----------------

def _refused(tmp_path, option: str, name: str, text: str) -> str:
    """What ``churnlab validate`` prints for a settings or mapping file holding ``text``; it must
    exit 1 with no traceback and nothing of pydantic."""
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(app, ["validate", "--data", str(_one_customer(tmp_path / "data")), option, str(path)])
    assert result.exit_code == 1, result.output
    for leak in ("Traceback", "pydantic", "errors.pydantic.dev", "For further information", "type=", "input_value"):
        assert leak not in result.output
    return result.output.replace("\n", " ")


def test_a_misspelt_setting_names_file_line_and_the_setting_meant(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml", "seed: 3\nzones: {risk_treshold: 0.2}\n")
    assert said.startswith(f"error: {tmp_path / 'settings.yaml'}, line 2: zones.risk_treshold is not a setting; "
                           "did you mean risk_threshold? (allowed: risk_threshold, watch_ratio,")


def test_a_wrong_value_says_what_was_expected_and_what_came_in(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml", "models:\n  snapshots: 12\n  churn: contrat\n")
    assert f"settings.yaml, line 3: models.churn should be 'contract' or 'inactivity'; got 'contrat'" in said


def test_every_problem_of_a_settings_file_is_said_in_line_order(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml",
                    "horizon_days: soon\ncampaigns:\n  proactive:\n    - name: qbr\n      cadance_days: {high: 90}\n")
    lines = said.split(f"{tmp_path / 'settings.yaml'}, line ")[1:]
    assert [int(line.split(":")[0]) for line in lines] == [1, 4, 5]
    assert lines[0].startswith("1: horizon_days should be a valid integer")
    assert "campaigns.proactive[0] needs action (What the owner does" in lines[1]
    assert "campaigns.proactive[0].cadance_days is not a setting; did you mean cadence_days?" in lines[2]


def test_an_unknown_mapping_key_names_the_file_line_and_lists_the_allowed_keys(tmp_path):
    said = _refused(tmp_path, "--mapping", "mapping.yaml",
                    "tables:\n  customers:\n    columns: {customer_id: id}\n    drop_columns: [RowNumber]\n")
    assert f"error: {tmp_path / 'mapping.yaml'}, line 4: tables.customers.drop_columns is not a mapping key" in said
    assert "(allowed: source, columns, constants, values," in said


def test_a_mapping_key_close_to_a_real_one_gets_a_did_you_mean(tmp_path):
    said = _refused(tmp_path, "--mapping", "mapping.yaml", "tables:\n  customers:\n    colums: {customer_id: id}\n")
    assert "mapping.yaml, line 3: tables.customers.colums is not a mapping key; did you mean columns?" in said


def test_a_mapping_inside_a_settings_file_is_refused_at_its_line_there(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml",
                    "seed: 1\nmapping:\n  tables:\n    customers:\n      churn_flag: {column: Exited}\n")
    assert ("settings.yaml, line 5: mapping.tables.customers.churn_flag needs values (Source value -> churned or "
            "active") in said


def test_yaml_that_does_not_parse_says_line_and_column(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml", "seed: 3\nhorizon_days: [30\nzones: {}\n")
    assert said.startswith(f"error: {tmp_path / 'settings.yaml'}, line 3: settings file is not valid YAML: ")
    assert "at column" in said


def test_a_misspelt_contract_table_in_a_mapping_gets_a_did_you_mean(tmp_path):
    said = _refused(tmp_path, "--mapping", "mapping.yaml", "tables:\n  customer:\n    columns: {customer_id: id}\n")
    assert ("mapping.yaml, line 2: tables.customer is not a mapping key; did you mean customers? "
            "(allowed: customers, subscriptions,") in said


def test_a_settings_check_that_names_its_key_is_not_named_twice(tmp_path):
    said = _refused(tmp_path, "--config", "settings.yaml", "zones:\n  risk_threshold: lots\n")
    assert "settings.yaml, line 1: zones: risk_threshold 'lots' is not a probability" in said
