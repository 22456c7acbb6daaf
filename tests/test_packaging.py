"""pyproject.toml declares the dependencies once; environment.yml must mirror it."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's.
CONDA_NAMES = {"duckdb": "python-duckdb", "psycopg-binary": "psycopg-c"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    name, spec = match.group(1).lower(), match.group(2).replace(" ", "")
    return name, ",".join(sorted(spec.split(","))) if spec else ""


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return dict(_split(r) for r in reqs)


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pairs = [_split(d) for d in env["dependencies"] if isinstance(d, str)]
    return {name: spec for name, spec in pairs if name not in {"python", "pip"}}


def test_every_dependency_has_a_pinned_lower_bound():
    for name, spec in _pyproject_requirements().items():
        assert ">=" in spec, f"pyproject.toml: {name} has no pinned lower bound"


def test_environment_yml_mirrors_pyproject():
    expected = {CONDA_NAMES.get(name, name): spec for name, spec in _pyproject_requirements().items()}
    assert _conda_requirements() == expected


def test_lifelines_is_kept_on_pandas_2():
    assert "<3" in _pyproject_requirements()["pandas"]
