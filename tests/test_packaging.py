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


def _imported_modules(folder: Path) -> set[str]:
    """The top-level modules imported anywhere under ``folder`` (inside functions too)."""
    import ast

    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_imported_package_is_declared():
    """A package churnlab imports but does not declare works only where something else happened
    to install it (joblib, nbformat and nbclient did, through scikit-learn and papermill)."""
    import sys
    from importlib.metadata import packages_distributions

    third_party = _imported_modules(ROOT / "churnlab") - set(sys.stdlib_module_names) - {"churnlab"}
    providers = packages_distributions()
    declared = {name.replace("_", "-") for name in _pyproject_requirements()}
    undeclared = {}
    for module in sorted(third_party):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert not undeclared, f"imported by churnlab but not in pyproject.toml's dependencies: {undeclared}"
