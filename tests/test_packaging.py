"""pyproject.toml declares the dependencies once: requirements.lock pins versions within its
bounds, environment.yml and the Makefile install from those two and list nothing by hand."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    name, spec = match.group(1).lower(), match.group(2).replace(" ", "")
    return name, ",".join(sorted(spec.split(","))) if spec else ""


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return dict(_split(r) for r in reqs)


def test_every_dependency_has_a_pinned_lower_bound():
    for name, spec in _pyproject_requirements().items():
        assert ">=" in spec, f"pyproject.toml: {name} has no pinned lower bound"


def _locked() -> dict[str, list[tuple[str, str]]]:
    """requirements.lock as name -> [(version, environment marker or "")]."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            pin, _, marker = line.partition(";")
            name, _, version = pin.strip().partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins.setdefault(re.sub(r"[-_.]+", "-", name.lower()), []).append((version, marker.strip()))
    return pins


def test_the_lock_pins_every_dependency_within_pyprojects_bounds():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _locked()
    for text in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        req = Requirement(text)
        name = re.sub(r"[-_.]+", "-", req.name.lower())
        assert name in locked, f"{name} is in pyproject.toml but not in requirements.lock: run make lock"
        for version, marker in locked[name]:
            assert req.specifier.contains(version, prereleases=True), \
                f"requirements.lock pins {name}=={version} ({marker or 'everywhere'}) outside {req.specifier}: run make lock"


def test_environment_yml_installs_from_pyproject_and_the_lock():
    """No hand-copied list: conda gives Python and pip, pip installs the lock and churnlab."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert sorted(_split(d)[0] for d in conda) == ["pip", "python"]
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip == ["-r requirements.lock", "-e ."]


def test_the_makefile_installs_the_lock_then_churnlab_and_reinstalls_when_they_change():
    makefile = (ROOT / "Makefile").read_text()
    rule = re.search(r"^\$\(VENV\)/\.installed:(.*)$", makefile, re.MULTILINE)
    assert rule, "Makefile: no $(VENV)/.installed rule"
    assert set(rule.group(1).split()) >= {"pyproject.toml", "setup.py", "$(LOCK)"}
    assert "LOCK := requirements.lock" in makefile
    assert "pip install -r $(LOCK)" in makefile and "pip install --no-deps -e ." in makefile
    assert re.search(r"^lock:", makefile, re.MULTILINE)


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
