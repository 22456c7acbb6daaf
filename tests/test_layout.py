"""The package's layout: stages in data-flow order, each importing only what comes before it,
and no module reaching into another module's private names."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "churnlab"

#: What each part of churnlab may import (besides itself), in data-flow order.
_SHARED = {"settings", "plotting"}  # what every stage may use
MAY_IMPORT = {
    "settings": {"settings_errors"},
    "settings_errors": set(),
    "plotting": set(),
    "settings_docs": {"settings"},
    "data": _SHARED,
    "features": _SHARED | {"data"},
    "models": _SHARED | {"data", "features"},
    "decide": _SHARED | {"data", "features", "models"},
    "report": _SHARED | {"data", "features", "models", "decide"},
    "demo": _SHARED | {"data"},
    "cli": _SHARED | {"data", "features", "models", "decide", "report", "demo"},
    "__main__": {"cli"},
    "__init__": _SHARED | {"data", "features", "models", "decide", "report", "demo"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every churnlab import in ``path`` (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _dotted(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if module == "churnlab" or module.startswith("churnlab."):
                found.append((node.lineno, module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("churnlab."):
                    found.append((node.lineno, a.name, []))
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(_dotted(p)) for p in _modules()}
    assert parts <= set(MAY_IMPORT), f"parts without a rule in MAY_IMPORT: {sorted(parts - set(MAY_IMPORT))}"


def test_stages_import_only_what_comes_before_them():
    wrong = []
    for path in _modules():
        part = _part(_dotted(path))
        for line, module, names in _imports(path):
            targets = {_part(module)} if module != "churnlab" else {_part(f"churnlab.{n}") for n in names}
            for target in targets - {part} - MAY_IMPORT[part]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module} ({target})")
    assert not wrong, "imports against the data flow:\n" + "\n".join(wrong)


def _private_imports(paths, root: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in paths:
        here = _dotted(path, root)
        for line, module, names in _imports(path, root):
            for name in names:
                if name.startswith("_") and not name.startswith("__") and module != here:
                    wrong.append(f"{path.relative_to(root.parent)}:{line} imports {module}.{name}")
    return wrong


def test_no_module_imports_a_private_name_of_another():
    wrong = _private_imports(_modules())
    assert not wrong, "private names imported from another module:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_subpackage_says_what_it_holds_and_may_import(package):
    import importlib

    doc = importlib.import_module(f"churnlab.{package}").__doc__ or ""
    assert "May import" in doc, f"churnlab.{package} has no docstring saying what it may import"


def test_the_private_name_check_can_fail(tmp_path):
    """A module written to import another's ``_name`` (absolute or relative) is caught."""
    root = tmp_path / "churnlab"
    (root / "data").mkdir(parents=True)
    probe = root / "data" / "probe.py"
    probe.write_text("from churnlab.data.loading import _check_source\nfrom .contract import _convert, CONTRACT\n",
                     encoding="utf-8")
    assert _private_imports([probe], root) == [
        "churnlab/data/probe.py:1 imports churnlab.data.loading._check_source",
        "churnlab/data/probe.py:2 imports churnlab.data.contract._convert"]
