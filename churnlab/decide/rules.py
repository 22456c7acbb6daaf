"""Rule-based risk factors, symptoms and alerts, read from a YAML file that analysts edit.

A rules file has two lists (the starter set is ``churnlab/defaults/rules.yaml``; the settings key
``rules.path`` points to another file)::

    rules:
      - name: renewal_with_usage_drop     # lower-case letters, digits and _
        kind: risk_factor                 # risk_factor (current state) or symptom (change)
        severity: critical                # critical: alerts on its own; recapitulative: counts
        when: is_annual == 1 and days_to_renewal <= 60 and usage_change_60d_pct <= -30
        message: "annual contract renews in {days_to_renewal} days, usage {usage_change_60d_pct:+.0f}%"
      - name: poor_fit                    # a rule may set a flag the zones read:
        kind: risk_factor                 # not_worth_saving puts an at-risk customer in the Dead
        severity: recapitulative          # Zone (an exit interview, not a rescue)
        when: satisfaction_mean <= 0.2 and tenure_days >= 365
        message: "surveys average {satisfaction_mean:.2f} after a year"
        flag: not_worth_saving
      - name: nps_promoter_to_detractor
        kind: symptom
        severity: critical
        when: prev.nps_promoter == 1 and nps_detractor == 1
        without_previous: nps_detractor == 1 and last_nps - nps_change >= 9
        message: "NPS fell from promoter to detractor (now {last_nps})"
    alerts:
      - name: several_warning_signs       # a recapitulative alert
        min: 3                            # fires when at least 3 of these fired together
        of: [renewal_with_usage_drop, nps_promoter_to_detractor, ...]
        message: "several warning signs at once"

**Expressions** are Python-like conditions over feature names (``docs/features.md``):
comparisons (``== != < <= > >=``, chains such as ``0 < x <= 5``), ``and``/``or``/``not``,
arithmetic ``+ - * /`` and parentheses, numbers, strings in quotes, ``True``/``False``,
``x in [1, 2]`` / ``x not in ["a", "b"]``, the previous value of a feature as
``prev.<feature>``, and the functions ``is_missing(x)``, ``abs(x)``, ``min(a, b, ...)``,
``max(a, b, ...)`` and ``coalesce(x, default)``. A condition must be true or false: a bare
number (``vocal_detractor``) is refused; write ``vocal_detractor == 1``.

**Missing values.** A comparison with a missing value is false: it never makes a rule fire.
Precisely, it is *unknown* under three-valued logic, as in SQL: ``unknown or true`` is true,
``unknown and x`` is never true, and ``not unknown`` stays unknown, so ``not (last_nps >= 7)``
does not fire for a customer without an NPS answer either. A rule whose condition ends unknown
does not fire. Arithmetic with a missing value is missing, and so is a division by zero.
``is_missing(x)`` tests for a missing value explicitly; ``coalesce(x, 0)`` replaces one.

**Division by zero is said, not hidden.** A missing value is unknown by design; a division by zero
(or any arithmetic that turns numbers into infinity or "not a number") is not, yet it leaves the
rule unknown for that customer just the same. :func:`evaluate_rules` counts, per rule, the
customers whose condition ended unknown because of such an error, keeps the counts in
``result.attrs["errored"]`` (and :func:`rule_counts` in its ``errored`` column), and warns
(:class:`RuleWarning`) naming the rule, the count and the expression. Guard the divisor
(``y > 0 and x / y > 2``) to make the rule's intent explicit.

**Previous values.** ``prev.<feature>`` reads the feature frame of the previous run or window
(``previous=`` of :func:`evaluate_rules`, matched by ``customer_id``; a customer without a row
there has missing previous values). Without a previous frame, a rule that reads ``prev.`` is
evaluated with its ``without_previous`` condition (a window inside the current features, e.g.
``nps_change``) when it has one, and otherwise is **not evaluated**: its column is missing
(``<NA>``) for everyone and it is listed by :func:`rules_not_evaluated` and in
``result.attrs["rules_not_evaluated"]`` — never silently false.

**Messages** may quote feature values as ``{feature}``, ``{prev.feature}`` or with a format
specification, ``{usage_change_60d_pct:+.0f}``; a missing value reads ``unknown``. A message may
not contain ``;`` (it separates the messages in ``symptom_text``).

**Why Python's ``ast`` and not a grammar library.** The expression language is a strict subset of
Python's expression syntax, so :func:`ast.parse` gives a maintained parser with exact line and
column positions and readable syntax errors for free, and a whitelist walk over its tree refuses
everything else (attribute access other than ``prev.``, calls other than the five functions,
indexing, lambdas, comprehensions, ``**``, conditional expressions). lark or pyparsing would add a
dependency and a grammar of our own to keep in step with the documentation, and the error
messages would be ours to write anyway. Nothing is ever passed to ``eval``/``exec``/``compile``:
the checked tree is evaluated by ``churnlab.data.expressions`` (which mappings share), vectorised
over pandas columns.

Public surface: :func:`load_rules`, :func:`parse_rules`, :func:`check_rules`,
:func:`evaluate_rules`, :func:`rules_not_evaluated`, :func:`rule_counts`,
:func:`render_markdown`, and the models :class:`RuleSet`, :class:`Rule`, :class:`Alert`, the
error :class:`RuleError` (with :class:`RuleProblem` items) and the warning :class:`RuleWarning`.
"""
from __future__ import annotations

import difflib
import functools
import re
import string
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from churnlab.data.expressions import (
    FUNCTIONS, ExpressionContext, ExpressionError, boolean, evaluate, parse_condition,
)
from churnlab.features.catalogue import FEATURES

__all__ = [
    "Alert", "Rule", "RuleError", "RuleProblem", "RuleSet", "RuleWarning", "RESULT_COLUMNS", "FUNCTIONS",
    "load_rules", "parse_rules", "check_rules", "evaluate_rules", "rules_not_evaluated",
    "rule_counts", "render_markdown", "DEFAULT_RULES", "FLAGS",
]

#: Where the starter rule set lives inside the package (label used in messages).
DEFAULT_RULES = "churnlab/defaults/rules.yaml"
#: The columns :func:`evaluate_rules` adds after the per-rule and per-alert columns.
RESULT_COLUMNS = ["symptoms", "alerts", "critical", "symptom_text", "alert_text", "not_worth_saving"]
#: Flags a rule may set on the customers it fires for; the zones read them
#: (:func:`churnlab.decide.zones.assign_zones`), so rules are evaluated before zones.
FLAGS = ("not_worth_saving",)
_RESERVED = {"customer_id", "prev", *RESULT_COLUMNS, *FUNCTIONS}
_NAME = r"^[a-z][a-z0-9_]*$"


# --------------------------------------------------------------------------------------------
# the rules file as data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One risk factor or symptom."""

    name: str = Field(pattern=_NAME, description="Unique name: lower-case letters, digits and _.")
    kind: Literal["risk_factor", "symptom"] = Field(
        description="risk_factor: a condition on the current state; symptom: a trigger on change.")
    severity: Literal["critical", "recapitulative"] = Field(
        description="critical: fires an alert on its own; recapitulative: counts towards alerts.")
    when: str = Field(description="The condition, an expression over feature names.")
    without_previous: str | None = Field(
        None, description="Condition used when no previous frame is given (for rules reading prev.).")
    message: str = Field(description="What fired, in words; may quote {feature} values.")
    flag: Literal["not_worth_saving"] | None = Field(
        None, description="A flag set on the customers the rule fires for: not_worth_saving puts an at-risk "
                          "customer in the Dead Zone (an exit interview, not a rescue).")

    def reads_previous(self) -> bool:
        """Whether ``when`` reads ``prev.<feature>``."""
        return bool(parse_condition(self.when).prev_names)


class Alert(_Strict):
    """A recapitulative alert: fires when at least ``min`` of the named rules fired together."""

    name: str = Field(pattern=_NAME, description="Unique name, not shared with a rule.")
    min: int = Field(ge=1, description="How many of the rules must fire together.")
    of: list[str] = Field(min_length=2, description="Names of the rules (risk factors and symptoms) counted.")
    message: str = Field(description="What the alert means, in words.")


class RuleSet(_Strict):
    """A checked rules file: its rules and alerts in file order, and where it came from."""

    rules: list[Rule] = Field(min_length=1)
    alerts: list[Alert] = []
    source: str = Field(DEFAULT_RULES, description="The file the rules were read from (for messages).")
    lines: dict[str, int] = Field({}, repr=False, exclude=True,
                                  description="Line in the file of each '<rule>.<field>' (for messages).")

    @property
    def names(self) -> list[str]:
        """Rule names, then alert names, in file order."""
        return [r.name for r in self.rules] + [a.name for a in self.alerts]

    def feature_names(self) -> list[str]:
        """Every feature an expression or a message reads (``prev.`` ones without the prefix), sorted."""
        names: set[str] = set()
        for rule in self.rules:
            for expr in (rule.when, rule.without_previous):
                if expr is not None:
                    parsed = parse_condition(expr)
                    names |= parsed.names | parsed.prev_names
            names |= {n.removeprefix("prev.") for n, _ in _message_fields(rule.message)}
        return sorted(names)


# --------------------------------------------------------------------------------------------
# problems


@dataclass(frozen=True)
class RuleProblem:
    """One problem of a rules file: where it is and what is wrong.

    ``line`` is the line in the file (1-based), ``column`` the position in the expression
    (1-based) when the problem is inside one; ``field`` is the key (``when``, ``message``, ...).
    """

    source: str
    rule: str | None
    field: str | None
    line: int | None
    column: int | None
    message: str
    expression: str | None = None

    def __str__(self) -> str:
        where = [self.source + (f" line {self.line}" if self.line else "")]
        if self.rule:
            where.append(f"rule '{self.rule}'")
        if self.field:
            where.append(self.field + (f" column {self.column}" if self.column else ""))
        text = ", ".join(where) + ": " + self.message
        if self.expression is not None and self.column:
            text += f"\n      {self.expression}\n      {' ' * (self.column - 1)}^"
        return text


class RuleError(ValueError):
    """Every problem of a rules file (or of evaluating it) at once; ``problems`` lists them."""

    def __init__(self, problems: list[RuleProblem]):
        self.problems = list(problems)
        source = problems[0].source if problems else "rules"
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"{count} in {source}:\n" + "\n".join(f"  - {p}" for p in problems))


class RuleWarning(UserWarning):
    """A rule that could be evaluated for some customers only: a division by zero (or another
    arithmetic error) left its condition unknown for the others."""


# --------------------------------------------------------------------------------------------
# messages (the expressions are parsed and evaluated by churnlab.data.expressions)


_FIELD = re.compile(r"^(prev\.)?[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=1024)
def _message_fields(message: str) -> tuple[tuple[str, str], ...]:
    """The ``(field, format_spec)`` placeholders of a message; raises ValueError when malformed."""
    out = []
    for _, field, spec, conversion in string.Formatter().parse(message):
        if field is None:
            continue
        if not _FIELD.match(field):
            raise ValueError(f"placeholder {{{field}}} must name a feature, e.g. {{last_nps}} or {{prev.last_nps}}")
        if conversion:
            raise ValueError(f"placeholder {{{field}!{conversion}}}: conversions are not allowed")
        if "{" in (spec or ""):
            raise ValueError(f"placeholder {{{field}}}: nested placeholders are not allowed")
        if spec:
            try:
                format(1.5, spec)
            except ValueError:
                try:
                    format("x", spec)
                except ValueError:
                    raise ValueError(f"placeholder {{{field}:{spec}}}: '{spec}' is not a format "
                                     "specification (e.g. .0f, +.1f, ,.0f)") from None
        out.append((field, spec or ""))
    return tuple(out)


def _format_column(values: pd.Series, spec: str) -> np.ndarray:
    """Each value as message text (see :func:`_format_value`), in one pass over plain Python values."""
    missing = values.isna().to_numpy()
    out = np.full(len(values), "unknown", dtype=object)
    present = values[~missing]
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        out[~missing] = [_format_value(v, spec) for v in present.to_numpy(dtype=float).tolist()]
    else:
        out[~missing] = [_format_value(v, spec) for v in present.tolist()]
    return out


def _format_value(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and value != value) or (
            not isinstance(value, (str, float, int)) and pd.isna(value)):
        return "unknown"
    if spec:
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer():
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


# --------------------------------------------------------------------------------------------
# loading


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and check a rules file; ``None`` reads the starter set shipped with churnlab.

    Checks the file's shape (keys, kinds, severities, unique names, alert members and ``min``),
    every expression's syntax and allowed constructs, and every message's placeholders, and
    raises one :class:`RuleError` listing every problem with the rule's name, the line in the
    file and the column in the expression. Feature names are checked later against the data by
    :func:`check_rules` (which :func:`evaluate_rules` calls).

    >>> ruleset = load_rules()                    # the starter set
    >>> ruleset = load_rules("my_rules.yaml")     # an analyst's own file
    """
    if path is None:
        text = resources.files("churnlab").joinpath("defaults", "rules.yaml").read_text(encoding="utf-8")
        return parse_rules(text, source=DEFAULT_RULES)
    path = Path(path)
    if not path.is_file():
        raise RuleError([RuleProblem(str(path), None, None, None, None, "no such rules file")])
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path))


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Check the YAML text of a rules file (see :func:`load_rules`); ``source`` names it in messages."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" (column {mark.column + 1})" if mark is not None else ""
        raise RuleError([RuleProblem(source, None, None, line, None,
                                     f"not valid YAML{where}: {problem}; put a value that contains ': ' or "
                                     "starts with a quote or bracket in double quotes")]) from None
    problems: list[RuleProblem] = []
    if not isinstance(data, dict):
        raise RuleError([RuleProblem(source, None, None, None, None,
                                     "a rules file is a mapping with the keys 'rules' and 'alerts'")])
    for key in data:
        if key not in ("rules", "alerts"):
            problems.append(RuleProblem(source, None, None, _key_line(root, key), None,
                                        f"unknown key '{key}' (a rules file has 'rules' and 'alerts')"))
    items: dict[str, list] = {}
    for section in ("rules", "alerts"):
        raw = data.get(section) or []
        if not isinstance(raw, list):
            problems.append(RuleProblem(source, None, section, _key_line(root, section), None,
                                        f"'{section}' must be a list of entries"))
            raw = []
        items[section] = raw
    if not items["rules"]:
        problems.append(RuleProblem(source, None, None, None, None, "the file has no rules"))

    nodes = {s: _section_nodes(root, s) for s in ("rules", "alerts")}
    rules: list[Rule] = []
    alerts: list[Alert] = []
    seen: dict[str, int] = {}
    item_nodes: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    for section, model, out in (("rules", Rule, rules), ("alerts", Alert, alerts)):
        for i, raw in enumerate(items[section]):
            node = nodes[section][i] if i < len(nodes[section]) else None
            label = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
            label = label or f"{section}[{i + 1}]"
            line = node.start_mark.line + 1 if node is not None else None
            if not isinstance(raw, dict):
                problems.append(RuleProblem(source, label, None, line, None, "an entry must be a mapping of keys"))
                continue
            name = raw.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(RuleProblem(source, label, "name", line, None,
                                                f"the name is used twice (first on line {seen[name]})"))
                elif name in _RESERVED:
                    problems.append(RuleProblem(source, label, "name", line, None,
                                                f"'{name}' is reserved; choose another name"))
                seen.setdefault(name, line)
            try:
                item = model.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or None
                    problems.append(RuleProblem(source, label, field, _field_line(node, err["loc"], line),
                                                None, _pydantic_message(err)))
                problems += _entry_problems(raw, label, source, node, line)
                continue
            problems += _entry_problems(raw, item.name, source, node, line)
            item_nodes.setdefault(item.name, node)
            for field in ("name", "when", "without_previous", "message"):
                lines.setdefault(f"{item.name}.{field}", _field_line(node, (field,), line))
            out.append(item)

    # names as written, so that a rule with another mistake is not also called unknown here
    rule_names = [r["name"] for r in items["rules"] if isinstance(r, dict) and isinstance(r.get("name"), str)]
    for alert in alerts:
        node = item_nodes.get(alert.name)
        line = _field_line(node, ("of",), node.start_mark.line + 1 if node is not None else None)
        for member in alert.of:
            if member not in rule_names:
                problems.append(RuleProblem(source, alert.name, "of", line, None,
                                            f"'{member}' is not a rule of this file" + _suggest(member, rule_names)))
        if len(set(alert.of)) != len(alert.of):
            problems.append(RuleProblem(source, alert.name, "of", line, None, "a rule is named twice"))
        if alert.min > len(alert.of):
            problems.append(RuleProblem(source, alert.name, "min", line, None,
                                        f"min is {alert.min} but only {len(alert.of)} rules are named"))
    if problems:
        raise RuleError(problems)
    return RuleSet(rules=rules, alerts=alerts, source=source,
                   lines={k: v for k, v in lines.items() if v is not None})


def _entry_problems(raw: dict, label: str, source: str, node, line: int | None) -> list[RuleProblem]:
    """Problems of an entry's expressions and message (checked even when its other keys are wrong)."""
    out = []
    parsed = {}
    for field in ("when", "without_previous"):
        expr = raw.get(field)
        if not isinstance(expr, str):
            continue
        try:
            parsed[field] = parse_condition(expr)
        except ExpressionError as exc:
            out.append(RuleProblem(source, label, field, _field_line(node, (field,), line), exc.column,
                                   exc.message, expr.strip()))
    wline = _field_line(node, ("without_previous",), line)
    if "without_previous" in parsed:
        if parsed["without_previous"].prev_names:
            out.append(RuleProblem(source, label, "without_previous", wline, None,
                                   "without_previous is used when there is no previous frame: "
                                   "it cannot read prev.<feature>"))
        if "when" in parsed and not parsed["when"].prev_names:
            out.append(RuleProblem(source, label, "without_previous", wline, None,
                                   "without_previous is only used when 'when' reads prev.<feature>"))
    message = raw.get("message")
    if isinstance(message, str):
        mline = _field_line(node, ("message",), line)
        try:
            _message_fields(message)
        except ValueError as exc:
            out.append(RuleProblem(source, label, "message", mline, None, str(exc)))
        if ";" in message:
            out.append(RuleProblem(source, label, "message", mline, None,
                                   "a message may not contain ';' (it separates the messages in symptom_text)"))
    return out


def _pydantic_message(err: dict) -> str:
    if err["type"] == "missing":
        return "this key is required"
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "string_pattern_mismatch":
        return f"{err['input']!r} is not a valid name: use lower-case letters, digits and _, starting with a letter"
    return f"{err['msg']} (got {err['input']!r})"


def _key_line(root, key: str) -> int | None:
    if isinstance(root, yaml.MappingNode):
        for k, _ in root.value:
            if k.value == key:
                return k.start_mark.line + 1
    return None


def _section_nodes(root, section: str) -> list:
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == section and isinstance(v, yaml.SequenceNode):
                return list(v.value)
    return []


def _field_line(node, loc: tuple, default: int | None) -> int | None:
    if isinstance(node, yaml.MappingNode) and loc:
        for k, v in node.value:
            if k.value == str(loc[0]):
                return v.start_mark.line + 1
    return default


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --------------------------------------------------------------------------------------------
# checking against the data


def check_rules(ruleset: RuleSet, feature_names: Iterable[str]) -> None:
    """Check that every feature the rules read exists; raise one :class:`RuleError` listing all.

    ``feature_names`` are the columns of the feature frame (e.g. ``features.columns``). A name
    that is not there is reported with the rule, the field, the column in the expression and the
    closest real name (difflib): ``unknown feature 'usage_chnge_60d_pct'; did you mean
    'usage_change_60d_pct'?``.
    """
    known = [str(n) for n in feature_names if str(n) != "customer_id"]
    known_set = set(known)
    problems: list[RuleProblem] = []
    for rule in ruleset.rules:
        for field in ("when", "without_previous"):
            expr = getattr(rule, field)
            if expr is None:
                continue
            for name, is_prev, column in parse_condition(expr).positions:
                if name not in known_set:
                    shown = ("prev." if is_prev else "") + name
                    problems.append(RuleProblem(ruleset.source, rule.name, field, ruleset.lines.get(f"{rule.name}.{field}"),
                                                column, f"unknown feature '{shown}'" + _suggest(name, known),
                                                expr.strip()))
        for field, _ in _message_fields(rule.message):
            name = field.removeprefix("prev.")
            if name not in known_set:
                problems.append(RuleProblem(ruleset.source, rule.name, "message",
                                            ruleset.lines.get(f"{rule.name}.message"), None,
                                            f"unknown feature '{field}' in {{{field}}}" + _suggest(name, known)))
    for alert in ruleset.alerts:
        if _message_fields(alert.message):
            problems.append(RuleProblem(ruleset.source, alert.name, "message", None, None,
                                        "an alert's message cannot quote feature values"))
    if problems:
        raise RuleError(problems)


# --------------------------------------------------------------------------------------------
# evaluation


def evaluate_rules(ruleset: RuleSet, features: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Evaluate every rule and alert for every customer, vectorised.

    ``features``: one row per customer with ``customer_id`` and the feature columns (e.g.
    :func:`churnlab.build_features`). ``previous``: the feature frame of the previous run or
    window (e.g. features 30 days earlier), matched by ``customer_id``, or None.

    Returns one row per row of ``features``, in its order, with columns:

    - ``customer_id``;
    - one column per rule, then one per alert, in file order, pandas ``boolean``: True when it
      fired; a rule that could not be evaluated (it reads ``prev.`` with no previous frame and
      has no ``without_previous``) is ``<NA>`` for everyone;
    - ``symptoms``: names of the fired risk factors and symptoms, ``;``-separated, in rule order;
    - ``alerts``: names of the fired critical rules and recapitulative alerts, ``;``-separated;
    - ``critical``: True when a critical rule fired;
    - ``symptom_text``: the messages of the fired rules with their values, ``; ``-separated;
    - ``alert_text``: the messages of the fired recapitulative alerts, ``; ``-separated;
    - ``not_worth_saving``: True when a rule with ``flag: not_worth_saving`` fired (read by
      :func:`churnlab.decide.zones.assign_zones` through :func:`churnlab.decide.zones.zone_frame`).

    ``result.attrs`` holds ``rules_not_evaluated`` (names), ``basis`` (rule name -> how it
    was evaluated: ``current``, ``previous``, ``window``, ``not evaluated``, or ``no data`` when
    it reads a catalogue feature of a table the source does not have) and ``errored`` (rule or
    alert name -> customers whose condition ended unknown because of a division by zero or
    another arithmetic error; each rule with such customers also gives a :class:`RuleWarning`
    naming the rule, the count and the expression). An alert counts the members that were
    evaluated; it is not evaluated itself when fewer than ``min`` were.

    Raises :class:`RuleError` for unknown feature names (all at once, see :func:`check_rules`),
    a missing or duplicated ``customer_id``, or a comparison of text with a number.
    """
    _check_frame(features, "features", ruleset.source)
    # a catalogue feature absent from the frame comes from a table the source does not have (a
    # flat export has customers only): its rules cannot be evaluated, which is said, not an error
    no_data = {f.name for f in FEATURES} - set(map(str, features.columns))
    check_rules(ruleset, [*features.columns, *sorted(no_data)])
    # only the columns the rules read are copied: a feature frame has ~80
    current = features[["customer_id", *[c for c in ruleset.feature_names() if c in features.columns]]]
    current = current.reset_index(drop=True)
    prev_aligned = None
    if previous is not None:
        _check_frame(previous, "previous", ruleset.source)
        needed = sorted({n for r in ruleset.rules for n in parse_condition(r.when).prev_names}
                        | {f.removeprefix("prev.") for r in ruleset.rules for f, _ in _message_fields(r.message)
                           if f.startswith("prev.")})
        needed = [n for n in needed if n not in no_data]
        absent = [n for n in needed if n not in previous.columns]
        if absent:
            raise RuleError([RuleProblem(ruleset.source, None, None, None, None,
                                         "the previous frame lacks the features " + ", ".join(absent))])
        # only the columns the rules read are aligned: a feature frame has ~80
        prev_aligned = (previous[["customer_id", *needed]].set_index("customer_id")
                        .reindex(current["customer_id"]).reset_index(drop=True))
    ctx = ExpressionContext(current, prev_aligned)
    n = len(current)

    fired: dict[str, pd.arrays.BooleanArray] = {}
    basis: dict[str, str] = {}
    errored: dict[str, int] = {}
    problems: list[RuleProblem] = []
    for rule in ruleset.rules:
        expr, how = rule.when, ("previous" if rule.reads_previous() else "current")
        if _rule_names(rule) & no_data:
            expr, how = None, "no data"
        elif how == "previous" and prev_aligned is None:
            expr, how = (rule.without_previous, "window") if rule.without_previous else (None, "not evaluated")
        basis[rule.name] = how
        errored[rule.name] = 0
        if expr is None:
            fired[rule.name] = boolean(False, True, n)
            continue
        field = "when" if expr == rule.when else "without_previous"
        ctx.errored[:] = False
        try:
            value = evaluate(parse_condition(expr), ctx)
        except ExpressionError as exc:
            problems.append(RuleProblem(ruleset.source, rule.name, field, ruleset.lines.get(f"{rule.name}.{field}"),
                                        exc.column, exc.message, expr.strip()))
            continue
        if ctx.errored.any():
            # only the customers the error left unknown: "x / y > 1 or z == 1" still fires where z == 1
            unknown = np.asarray(pd.isna(pd.array(value, dtype="boolean")), dtype=bool)
            errored[rule.name] = count = int((ctx.errored & unknown).sum())
            if count:
                line = ruleset.lines.get(f"{rule.name}.{field}")
                where = f"{ruleset.source}" + (f", line {line}" if line else "")
                warnings.warn(
                    f"rule {rule.name} ({where}): {count:,} of {n:,} customers could not be evaluated, a division "
                    f"by zero (or another arithmetic error) in {field}: {expr.strip()}; the rule does not fire "
                    f"for them", RuleWarning, stacklevel=2)
        fired[rule.name] = value.fillna(False).astype("boolean") if hasattr(value, "fillna") else value
    if problems:
        raise RuleError(problems)

    alert_fired: dict[str, pd.arrays.BooleanArray] = {}
    for alert in ruleset.alerts:
        members = [fired[m] for m in alert.of if basis[m] not in ("not evaluated", "no data")]
        if len(members) < alert.min:
            alert_fired[alert.name] = boolean(False, True, n)
            basis[alert.name] = "not evaluated"
            continue
        count = np.sum([m.to_numpy(dtype=bool, na_value=False) for m in members], axis=0)
        alert_fired[alert.name] = boolean(count >= alert.min, False, n)
        basis[alert.name] = "current"
    errored |= {alert.name: 0 for alert in ruleset.alerts}

    out = pd.DataFrame({"customer_id": current["customer_id"].to_numpy()})
    for name, values in {**fired, **alert_fired}.items():
        out[name] = pd.Series(values, dtype="boolean")
    is_true = {k: np.asarray(v.to_numpy(dtype=bool, na_value=False)) for k, v in {**fired, **alert_fired}.items()}

    # texts grow only on the rows where a rule fired: most rows get no symptom at all
    symptoms, texts, alerts, alert_texts = (np.full(n, "", dtype=object) for _ in range(4))
    critical = np.zeros(n, dtype=bool)
    flagged = {flag: np.zeros(n, dtype=bool) for flag in FLAGS}
    for rule in ruleset.rules:
        rows = np.flatnonzero(is_true[rule.name])
        if not len(rows):
            continue
        if rule.flag is not None:
            flagged[rule.flag][rows] = True
        symptoms[rows] = symptoms[rows] + (";" + rule.name)
        texts[rows] = texts[rows] + _messages(rule, rows, current, prev_aligned)
        if rule.severity == "critical":
            alerts[rows] = alerts[rows] + (";" + rule.name)
            critical[rows] = True
    for alert in ruleset.alerts:
        rows = np.flatnonzero(is_true[alert.name])
        alerts[rows] = alerts[rows] + (";" + alert.name)
        alert_texts[rows] = alert_texts[rows] + ("; " + alert.message)
    out["symptoms"] = _strip(symptoms, 1)
    out["alerts"] = _strip(alerts, 1)
    out["critical"] = critical
    out["symptom_text"] = _strip(texts, 2)
    out["alert_text"] = _strip(alert_texts, 2)
    for flag, values in flagged.items():
        out[flag] = values
    out.attrs["rules_not_evaluated"] = [k for k, v in basis.items() if v in ("not evaluated", "no data")]
    out.attrs["basis"] = basis
    out.attrs["errored"] = errored
    return out


def _rule_names(rule: Rule) -> set[str]:
    """Every feature a rule reads, in its conditions and its message."""
    names = {name for expr in (rule.when, rule.without_previous) if expr for name, _, _ in parse_condition(expr).positions}
    return names | {field.removeprefix("prev.") for field, _ in _message_fields(rule.message)}


def _check_frame(frame: pd.DataFrame, label: str, source: str) -> None:
    if "customer_id" not in frame.columns:
        raise RuleError([RuleProblem(source, None, None, None, None, f"the {label} frame has no column customer_id")])
    dup = frame["customer_id"][frame["customer_id"].duplicated()]
    if len(dup):
        examples = ", ".join(map(str, dup.unique()[:3]))
        raise RuleError([RuleProblem(source, None, None, None, None,
                                     f"the {label} frame has {len(dup)} duplicated customer_id (e.g. {examples})")])


def _messages(rule: Rule, rows: np.ndarray, current: pd.DataFrame, previous: pd.DataFrame | None) -> np.ndarray:
    """``"; " + message`` for each of ``rows``, placeholders filled from those rows only."""
    joined = np.full(len(rows), "; ", dtype=object)
    for literal, field, spec, _ in string.Formatter().parse(rule.message):
        if literal:
            joined = joined + literal
        if field is None:
            continue
        frame = previous if field.startswith("prev.") else current
        if frame is None:
            joined = joined + "unknown"
            continue
        joined = joined + _format_column(frame[field.removeprefix("prev.")].iloc[rows], spec or "")
    return joined


def _strip(texts: np.ndarray, width: int) -> np.ndarray:
    """Drop the leading separator of the non-empty texts."""
    out = texts.copy()
    rows = np.flatnonzero(out != "")
    out[rows] = [t[width:] for t in out[rows]]
    return out


def rules_not_evaluated(result: pd.DataFrame) -> list[str]:
    """Rules and alerts of an :func:`evaluate_rules` result that could not be evaluated."""
    if "rules_not_evaluated" in result.attrs:
        return list(result.attrs["rules_not_evaluated"])
    return [c for c in _rule_columns(result) if result[c].isna().all() and len(result)]


def _rule_columns(result: pd.DataFrame) -> list[str]:
    """The per-rule and per-alert columns: between customer_id and symptoms."""
    cols = list(result.columns)
    return cols[cols.index("customer_id") + 1: cols.index("symptoms")]


def rule_counts(result: pd.DataFrame, ruleset: RuleSet | None = None) -> pd.DataFrame:
    """How often each rule and alert fired, for the notebook.

    Columns: ``rule``, ``fired`` (customers), ``share`` (of customers, 0..1), ``basis``
    (``current``, ``previous``, ``window`` or ``not evaluated``; missing when the result lost its
    attrs), ``errored`` (customers the rule could not be evaluated for because of a division by
    zero or another arithmetic error; missing when the result lost its attrs), and with
    ``ruleset`` also ``kind`` (risk_factor, symptom or alert) and ``severity``.
    One row per rule then alert, in file order.
    """
    columns = _rule_columns(result)
    basis = result.attrs.get("basis", {})
    errored = result.attrs.get("errored")
    not_evaluated = set(rules_not_evaluated(result))
    rows = []
    for name in columns:
        fired = int(result[name].fillna(False).astype(bool).sum())
        rows.append({"rule": name, "fired": fired, "share": fired / len(result) if len(result) else 0.0,
                     "basis": basis.get(name, "not evaluated" if name in not_evaluated else None),
                     "errored": None if errored is None else int(errored.get(name, 0))})
    out = pd.DataFrame(rows, columns=["rule", "fired", "share", "basis", "errored"])
    if ruleset is not None:
        kinds = {r.name: (r.kind, r.severity) for r in ruleset.rules}
        kinds |= {a.name: ("alert", "recapitulative") for a in ruleset.alerts}
        out.insert(1, "kind", [kinds.get(n, (None, None))[0] for n in out["rule"]])
        out.insert(2, "severity", [kinds.get(n, (None, None))[1] for n in out["rule"]])
    return out


# --------------------------------------------------------------------------------------------
# documentation


def render_markdown(ruleset: RuleSet | None = None) -> str:
    """The text of ``docs/rules.md``: the rules and alerts of a rule set (the starter set by default)."""
    ruleset = ruleset or load_rules()
    lines = [
        "# Starter rules",
        "",
        f"Generated from `{ruleset.source}` and the demo by",
        "`python -m churnlab.decide.rule_evidence data/demo > docs/rules.md`; do not edit by hand.",
        "How to write rules: the README's section \"Writing rules\". A **critical** rule",
        "fires an alert on its own; a **recapitulative** one counts towards the alerts below.",
        "Rules reading `prev.` compare with the previous run's features; without them they use",
        "their `without_previous` condition, or are reported as not evaluated.",
        "",
    ]
    for kind, title in (("risk_factor", "Risk factors (current state)"), ("symptom", "Symptoms (change)")):
        lines += [f"## {title}", "", "| rule | severity | fires when | without previous | message |",
                  "|---|---|---|---|---|"]
        for r in ruleset.rules:
            if r.kind == kind:
                without = f"`{_md(r.without_previous)}`" if r.without_previous else (
                    "not evaluated" if r.reads_previous() else "")
                flag = f" (sets `{r.flag}`)" if r.flag else ""
                lines.append(f"| `{r.name}` | {r.severity} | `{_md(r.when)}` | {without} | {_md(r.message)}{flag} |")
        lines.append("")
    if ruleset.alerts:
        lines += ["## Recapitulative alerts", "", "| alert | fires when at least | of | message |",
                  "|---|---|---|---|"]
        for a in ruleset.alerts:
            lines.append(f"| `{a.name}` | {a.min} | {', '.join(f'`{m}`' for m in a.of)} | {_md(a.message)} |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
