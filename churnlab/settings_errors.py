"""Settings and mapping errors a user can act on: the file, the line, the key, what was expected,
what came in, and the allowed keys or a "did you mean".

pydantic's own message names the key but not the file or the line, lists no allowed keys and ends
in a link to its documentation. :func:`explain` turns a ``ValidationError`` of a settings or
mapping model into a :class:`SettingsError`, one line per problem, such as::

    settings.yaml, line 2: zones.risk_treshold is not a setting; did you mean risk_threshold?
    (allowed: risk_threshold, dead_probability, ...)

Lines come from the YAML node positions (``yaml.compose``), suggestions from :mod:`difflib`,
allowed keys from the pydantic model at that place.
"""
from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["SettingsError", "Problem", "explain", "yaml_problem"]


class Problem(typing.NamedTuple):
    """One problem of a settings or mapping file: ``key`` dotted (``zones.risk_treshold``),
    ``line`` 1-based (None when the key is not in the file), ``message`` in words."""

    key: str
    line: int | None
    message: str


class SettingsError(ValueError):
    """Every problem of a settings or mapping file at once; ``source`` is the file as given,
    ``problems`` the :class:`Problem` list. Its text is one line per problem, no traceback."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}" + (f", line {p.line}" if p.line else "") + f": {p.message}" for p in self.problems]
        super().__init__("\n".join(lines))


def _unwrap(annotation) -> list:
    """The pydantic models a field annotation can hold, with how many key or index steps lead into
    each (``dict[str, Model]``: one step, the key; ``list[Model]``: one, the index)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _unwrap(a)]
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return [(steps + 1, m) for a in typing.get_args(annotation) for steps, m in _unwrap(a)]
    if origin is dict:
        return [(steps + 1, m) for steps, m in _unwrap(typing.get_args(annotation)[1])]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(0, annotation)]
    return []


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc``, or None when the path leaves models."""
    steps = list(loc[:-1])
    while steps:
        name = steps.pop(0)
        field = model.model_fields.get(str(name))
        if field is None:
            continue  # a union's tag or a key of a dict of models
        inner = _unwrap(field.annotation)
        if not inner:
            return None
        skip, model = inner[0]
        del steps[:skip]
    return model


def _node_line(root, loc: tuple) -> tuple[int | None, bool]:
    """``(line, found)``: the line of the deepest key of ``loc`` in the YAML node tree (1-based),
    and whether the whole path was found. Steps that are not in the file (a union's tag) are skipped."""
    node, line, found = root, None, True
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(step)), None)
            if match is None:
                found = False
                continue
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            found = False
    return line, found


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(error: dict) -> str:
    message = error["msg"]
    for lead in ("Input should be ", "Value error, ", "Assertion failed, "):
        if message.startswith(lead):
            message = message[len(lead):]
    return message


def _dotted(loc: tuple) -> str:
    """``campaigns.proactive[0].cadence_days``: keys dotted, list positions in brackets."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _problem(error: dict, model: type[BaseModel], root, what: str) -> Problem:
    loc = tuple(error["loc"])
    key = _dotted(loc)
    line, _ = _node_line(root, loc)
    kind = error["type"]
    if loc and loc[-1] == "[key]":  # a key of a dict that only takes some names (contract tables)
        key = _dotted(loc[:-1])
        allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        close = difflib.get_close_matches(str(error.get("input")), allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return Problem(key, line, f"{key} is not {what}{hint}{listed}")
    if kind == "extra_forbidden":
        holder = _model_at(model, loc)
        allowed = list(holder.model_fields) if holder is not None else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return Problem(key, line, f"{key} is not {what}{hint}{listed}")
    if kind == "missing":
        holder = _model_at(model, loc)
        field = holder.model_fields.get(str(loc[-1])) if holder is not None else None
        meaning = f" ({field.description.rstrip('.')})" if field is not None and field.description else ""
        parent = _dotted(loc[:-1]) or "the file"
        return Problem(key, line, f"{parent} needs {loc[-1]}{meaning}, and it is not there")
    if kind in ("value_error", "assertion_error") or not loc:
        words = _expected(error)
        return Problem(key, line, words if not key or words.startswith(key) else f"{key}: {words}")
    return Problem(key, line, f"{key} should be {_expected(error)}; got {_shown(error.get('input'))}")


def explain(err: ValidationError, model: type[BaseModel], source: str | Path, text: str | None,
            what: str = "a setting", prefix: tuple = ()) -> SettingsError:
    """A :class:`SettingsError` for ``err`` raised by ``model.model_validate`` of the YAML ``text``
    read from ``source`` (``text`` None: no file, so no lines). ``what`` names a key of this kind
    ("a setting", "a mapping key"); ``prefix`` is where the file's content sits in the model."""
    try:
        root = yaml.compose(text) if text else None
    except yaml.YAMLError:
        root = None
    problems = []
    for error in err.errors(include_url=False):
        error = {**error, "loc": (*prefix, *error["loc"])}
        problems.append(_problem(error, model, root, what))
    problems.sort(key=lambda p: p.line or 0)  # stable: pydantic's order within a line
    return SettingsError(str(source), problems)


def yaml_problem(err: yaml.YAMLError, source: str | Path, what: str) -> SettingsError:
    """A YAML syntax error of ``source`` as one line: where (line, column) and what the parser saw."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    words = f"{what} file is not valid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        words += f" at column {mark.column + 1}"
    return SettingsError(str(source), [Problem("", mark.line + 1 if mark is not None else None, words)])
