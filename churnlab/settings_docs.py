"""``docs/settings.md`` and ``docs/mappings.md``, written from the settings models themselves.

Every key's type, default and description lives once, in :mod:`churnlab.settings`; these pages
are generated from it (``python -m churnlab.settings_docs settings > docs/settings.md``, the
same with ``mappings``) and a test keeps the committed pages in step.
"""
from __future__ import annotations

import inspect
import json
import re
import sys
import typing

from pydantic import BaseModel

from churnlab.settings import MappingSettings, Settings

__all__ = ["render_settings", "render_mappings"]


def _type(annotation) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    for noise in ("typing.", "churnlab.settings.", "pathlib.", "pydantic.types."):
        text = text.replace(noise, "")
    # the values split on the commas between them, not on a ',' value ("Literal['.', ',']")
    text = re.sub(r"Literal\[([^\]]*)\]", lambda m: " or ".join(
        v.strip() for v in re.findall(r"'[^']*'|\"[^\"]*\"|[^,\s][^,]*", m.group(1))), text)
    text = re.sub(r"Union\[str, int, float, bool, NoneType\]", "value", text)
    return text.replace("NoneType", "None").replace("|", "\\|")


def _default(field) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "none"
    if hasattr(value, "get_secret_value"):
        return "***"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"`{text}`".replace("|", "\\|")


def _model(annotation) -> tuple[type[BaseModel] | None, str]:
    """The settings model inside ``annotation`` and how its keys continue the key: ``X`` or
    ``X | None`` (``.``), ``list[X]`` (``[].``), ``dict[K, X]`` (``.<table>.`` when K is a
    contract table, else ``.<name>.``)."""
    def is_model(c):
        return inspect.isclass(c) and issubclass(c, BaseModel)

    if is_model(annotation):
        return annotation, "."
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args and is_model(args[0]):
        return args[0], "[]."
    if origin is dict and len(args) == 2 and is_model(args[1]):
        return args[1], ".<table>." if "customers" in str(args[0]) else ".<name>."
    return next(((c, ".") for c in args if is_model(c)), (None, "."))


def _table(model: type[BaseModel], prefix: str, out: list[str], nested: list) -> None:
    doc = inspect.cleandoc(model.__doc__ or "")
    if doc:
        out += [" ".join(doc.split()), ""]
    out += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        inner, joint = _model(field.annotation)
        if inner is not None and inner is not MappingSettings:
            nested.append((key + joint.rstrip("."), inner))
        about = field.description or (" ".join(inspect.cleandoc(inner.__doc__ or "").split("\n\n")[0].split())
                                      if inner is not None else "")
        meaning = " ".join(about.split()).replace("|", "\\|")
        out.append(f"| `{key}` | {_type(field.annotation)} | {_default(field)} | {meaning} |")
    out.append("")


def _render(title: str, intro: str, root: type[BaseModel], prefix: str = "") -> str:
    out = [f"# {title}", "", intro, ""]
    nested: list = []
    _table(root, prefix, out, nested)
    while nested:
        key, model = nested.pop(0)
        out += [f"## `{key}`", ""]
        _table(model, f"{key}.", out, nested)
    return "\n".join(out).rstrip() + "\n"


def render_settings() -> str:
    """``docs/settings.md``: every key of a settings file, its type, default and meaning."""
    return _render(
        "Settings",
        "Generated from `churnlab/settings.py` by `python -m churnlab.settings_docs settings`; do not edit.\n"
        "A settings file is YAML (`churnlab run --config settings.yaml`); every key is optional and\n"
        "the defaults run the demo. An unknown key or a wrong type stops the run with the key named;\n"
        "an empty file warns that the defaults are used. The `mapping` key is described in\n"
        "[`mappings.md`](mappings.md).",
        Settings)


def render_mappings() -> str:
    """``docs/mappings.md``: every key of a mapping (a source's own tables onto the contract)."""
    return _render(
        "Mappings",
        "Generated from `churnlab/settings.py` by `python -m churnlab.settings_docs mappings`; do not edit.\n"
        "A mapping reads a source's own tables and columns onto the data contract\n"
        "([`data-contract.md`](data-contract.md)): the `mapping` key of the settings, or a file given\n"
        "with `--mapping` (`churnlab/mappings/telco.yaml` is a worked example; README, \"Your own data:\n"
        "mappings\"). Under `tables`, each contract table has one entry of the keys below.",
        MappingSettings)


if __name__ == "__main__":  # pragma: no cover
    which = sys.argv[1] if len(sys.argv) > 1 else "settings"
    sys.stdout.write(render_mappings() if which == "mappings" else render_settings())
