"""Ships the top-level ``notebooks/`` inside the wheel as ``churnlab/notebooks/``.

Everything else about the package is declared in pyproject.toml. The notebooks stay where
analysts open them in JupyterLab and where nbval collects them (their defaults read
``../data/demo``); an installed churnlab has no source tree, so its ``churnlab run`` finds them
in the package instead (``churnlab.report.run.default_notebooks_dir``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class build_py_with_notebooks(build_py):
    """``build_py`` that also copies ``notebooks/*.ipynb`` into ``<build>/churnlab/notebooks/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install runs the source tree's notebooks/ itself
            return
        notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no notebooks in {NOTEBOOKS}: the wheel would not run")
        target = Path(self.build_lib) / "churnlab" / "notebooks"
        shutil.rmtree(target, ignore_errors=True)  # no stale notebook from an earlier build
        target.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copyfile(notebook, target / notebook.name)


setup(cmdclass={"build_py": build_py_with_notebooks})
