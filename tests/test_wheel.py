"""The built wheel works on its own: installed (not editable) into a fresh virtual environment
outside the repository, `churnlab run` finds its notebooks, templates, rules and mappings.

Building needs the build backend (setuptools, from PyPI or pip's cache); the dependencies are
not installed again: the fresh environment sees this environment's site-packages through a
``.pth`` file, after its own, and its Jupyter data files (nbconvert's templates) through links,
so churnlab itself comes from the wheel and nothing else.
Takes about a minute (`-m "not wheel"` leaves it out while iterating).
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from churnlab.report.run import NOTEBOOKS

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-06-30"
#: One survival model, one classifier, one backtest fold: the run's every step, quickly.
LIGHT_SETTINGS = "models:\n  survival: [cox]\n  classifiers: [logistic]\n  backtest_folds: 1\n"
#: Top-level folders of a working copy that are not part of the source.
NOT_SOURCE = {".git", ".venv", "data", "reports", "build", "dist", ".hypothesis", ".pytest_cache"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n in {"__pycache__", ".ipynb_checkpoints"} or n.endswith(".egg-info")}
    return skip | (NOT_SOURCE & set(names) if Path(folder) == ROOT else set())


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the source (a build in place would leave build/ behind)."""
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_ignore, symlinks=True)
    dist = tmp / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        if "Could not find a version that satisfies the requirement setuptools" in text or \
                "NewConnectionError" in text or "No matching distribution found for setuptools" in text:
            pytest.skip(f"cannot build the wheel: its build backend cannot be fetched from PyPI here:\n{text[-1500:]}")
        pytest.fail(f"pip wheel failed:\n{text[-4000:]}", pytrace=False)
    (wheel,) = dist.glob("churnlab-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel installed into a fresh venv outside the repository: its bin folder, an
    environment without PYTHONPATH, and a working folder to run from."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    home = tmp / "home"  # no user-level Jupyter kernels or settings of whoever runs the tests
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "JUPYTER_PATH", "JUPYTER_DATA_DIR",
                                                              "JUPYTER_CONFIG_DIR", "VIRTUAL_ENV", "PYTHONHOME"}}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # the wheel first, with no PYTHONPATH and ignoring what is installed: pip would take another
    # churnlab of the same version (this environment's editable one, a checkout's egg-info on
    # PYTHONPATH) for this one and skip it
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--ignore-installed", "--quiet", str(wheel)], check=True, env=env)
    # the dependencies: this environment's site-packages, searched after the venv's own (a plain
    # path in a .pth file: the .pth files there, such as an editable churnlab's, are not run)
    (purelib / "_churnlab_test_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in site.getsitepackages() if Path(p).is_dir()))
    # and their data files, as installing them would put them in the venv: nbconvert's templates,
    # not the kernels (this environment's would run its own python, not the venv's)
    shared = Path(sys.prefix) / "share" / "jupyter"
    (venv / "share" / "jupyter").mkdir(parents=True)
    for folder in (p for p in shared.glob("*") if p.name != "kernels"):
        (venv / "share" / "jupyter" / folder.name).symlink_to(folder)
    work = tmp / "work"
    work.mkdir()
    return {"bin": venv / "bin", "python": python, "purelib": purelib, "env": env, "work": work}


def _churnlab(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(installed["bin"] / "churnlab"), *args], cwd=installed["work"], env=installed["env"],
                          capture_output=True, text=True)


def test_the_wheel_carries_the_notebooks_templates_rules_and_mappings(installed):
    package = installed["purelib"] / "churnlab"
    for name in NOTEBOOKS:
        assert (package / "notebooks" / name).is_file(), name
    for path in ("defaults/rules.yaml", "mappings/telco.yaml", "report/templates/offline/index.html.j2",
                 "report/templates/offline/conf.json"):
        assert (package / path).is_file(), path
    assert not (installed["purelib"] / "notebooks").exists()  # nothing outside the package


def test_the_installed_package_is_imported_not_the_repository(installed):
    proc = subprocess.run([str(installed["python"]), "-c",
                           "import churnlab, churnlab.report.run as r; print(churnlab.__file__); "
                           "print(r.default_notebooks_dir())"],
                          cwd=installed["work"], env=installed["env"], capture_output=True, text=True, check=True)
    module, notebooks = proc.stdout.split()
    assert Path(module).is_relative_to(installed["purelib"]), module
    assert Path(notebooks) == installed["purelib"] / "churnlab" / "notebooks"
    version = _churnlab(installed, "--version")
    assert version.returncode == 0 and version.stdout.startswith("churnlab "), version.stderr


def test_churnlab_run_works_from_the_installed_wheel(installed):
    work = installed["work"]
    demo = _churnlab(installed, "demo-data", "--out", "demo", "--customers", "200")
    assert demo.returncode == 0, demo.stderr
    checked = _churnlab(installed, "validate", "--data", "demo", "--as-of", AS_OF, "--format", "json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["tables"]["customers"] == 200
    (work / "light.yaml").write_text(LIGHT_SETTINGS)
    run = _churnlab(installed, "run", "--data", "demo", "--as-of", AS_OF, "--out", "reports", "--config", "light.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    report = work / "reports" / AS_OF
    scores = pd.read_csv(report / "scores.csv")
    assert len(scores) > 0 and "zone" in scores
    assert sorted(p.name for p in (report / "html").glob("*.html")) == sorted(n.replace(".ipynb", ".html")
                                                                          for n in NOTEBOOKS)
    assert (report / "index.html").is_file() and (report / "data_quality.csv").is_file()
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["status"] == "ok", manifest.get("status")
