"""The expression language of rules and mappings: Python-like expressions over named columns.

Rules (``churnlab.decide.rules``) write conditions over features, ``usage_change_60d_pct <= -30
and is_annual == 1``; a mapping's ``compute`` (``churnlab.data.mapping``) writes values over a
source table's columns, ``Tenure * 12``. Both are parsed here and evaluated vectorised over a
frame's columns, so they read the same and fail with the same messages.

The language: comparisons (``== != < <= > >=``, chains such as ``0 < x <= 5``),
``and``/``or``/``not``, arithmetic ``+ - * /`` and parentheses, numbers, strings in quotes,
``True``/``False``, ``x in [1, 2]`` / ``x not in ["a", "b"]``, the previous value of a column as
``prev.<name>`` (rules only), and the functions ``is_missing(x)``, ``abs(x)``, ``min(a, b, ...)``,
``max(a, b, ...)`` and ``coalesce(x, default)``. A name that is not a Python identifier (a source
column ``Monthly Charges``) is written in backticks, ```Monthly Charges` * 12``, where the caller
allows it (mappings do). A comparison with a missing value is *unknown* (three-valued logic, as
in SQL); arithmetic with a missing value is missing, and so is a division by zero, which the
context counts in ``errored``.

Python's :mod:`ast` parses; a whitelist walk over its tree refuses everything else (attribute
access other than ``prev.``, calls other than the five functions, indexing, lambdas,
comprehensions, ``**``, conditional expressions). Nothing is passed to ``eval``/``exec``.

>>> expr = parse_expression("Tenure * 12")
>>> sorted(expr.names), expr.kind
(['Tenure'], 'value')
>>> evaluate(expr, ExpressionContext(pd.DataFrame({"Tenure": [1.0, 2.5]}))).tolist()
[12.0, 30.0]
"""
from __future__ import annotations

import ast
import functools
import math
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FUNCTIONS", "Expression", "ExpressionError", "ExpressionContext", "NotEvaluable", "parse_expression",
           "parse_condition", "evaluate", "literal", "boolean"]

#: The functions an expression may call, with how many arguments each takes (min, max).
FUNCTIONS = {"is_missing": (1, 1), "abs": (1, 1), "min": (2, None), "max": (2, None), "coalesce": (2, 2)}


class ExpressionError(Exception):
    """An expression that does not parse, is not allowed or cannot be evaluated: ``message`` in
    words and ``column``, the 1-based position in the expression (None when it is the whole)."""

    def __init__(self, message: str, column: int | None):
        super().__init__(message)
        self.message, self.column = message, column


@dataclass(frozen=True)
class Expression:
    """A checked expression: its tree, the names it reads now and as ``prev.``, where each name
    stands (``(name, is_prev, column)``, for messages) and its ``kind``: ``"bool"`` for a
    condition, ``"value"`` for a number or text."""

    node: ast.expr
    names: frozenset[str]          # columns read now
    prev_names: frozenset[str]     # columns read as prev.<name>
    positions: tuple[tuple[str, bool, int], ...]  # (name, is_prev, column) for messages
    kind: str = "bool"


_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in"}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FORBIDDEN = {
    ast.Attribute: "attribute access is not allowed (only prev.<feature>)",
    ast.Subscript: "indexing with [...] is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "'... if ... else ...' is not allowed; combine conditions with and/or",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "':=' is not allowed", ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed", ast.YieldFrom: "yield is not allowed",
    ast.JoinedStr: "f-strings are not allowed", ast.Starred: "'*' unpacking is not allowed",
    ast.Dict: "dictionaries are not allowed", ast.Set: "sets are not allowed; use [...] after in",
    ast.List: "a list is only allowed after 'in' / 'not in'",
    ast.Tuple: "a list is only allowed after 'in' / 'not in'",
}


def _col(node: ast.AST) -> int:
    return node.col_offset + 1


_QUOTED = re.compile(r"`([^`]+)`")


def _unquote(text: str) -> tuple[str, dict[str, str]]:
    """Backticked names replaced by identifiers of the same length (so columns in messages stay
    right), and those identifiers -> the names."""
    names: dict[str, str] = {}

    def swap(match: re.Match) -> str:
        width = len(match.group(0))
        ident = f"_q{len(names)}_".ljust(width, "_")
        if len(ident) > width:  # a one-letter name in backticks: `x` needs no quoting
            raise ExpressionError(f"write {match.group(1)} without backticks", match.start() + 1)
        names[ident] = match.group(1)
        return ident

    return _QUOTED.sub(swap, text), names


@functools.lru_cache(maxsize=1024)
def parse_expression(expression: str, quoted_names: bool = False, allow_prev: bool = True) -> Expression:
    """Parse and check one expression (a condition or a value).

    ``quoted_names``: names may be written in backticks (```Monthly Charges```).
    ``allow_prev``: ``prev.<name>`` is allowed (rules); a mapping has no previous frame.
    Raises :class:`ExpressionError` with the 1-based column of the fault.
    """
    if "\n" in expression.strip():
        raise ExpressionError("an expression must be on one line (use YAML's folded style '>' to wrap it)", None)
    text = expression.strip()
    if not text:
        raise ExpressionError("the expression is empty", None)
    quoted: dict[str, str] = {}
    if quoted_names:
        text, quoted = _unquote(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        # Python's hints ("Perhaps you forgot a comma?") speak of Python, not of expressions
        msg = exc.msg.split(". Perhaps")[0].split(" (detected at")[0]
        if not exc.offset or exc.offset > len(text):
            raise ExpressionError("syntax error: the expression ends too early", len(text) + 1) from None
        raise ExpressionError(f"syntax error: {msg}", exc.offset) from None
    if quoted:
        tree = _Requote(quoted).visit(tree)
    names: set[str] = set()
    prev: set[str] = set()
    positions: list[tuple[str, bool, int]] = []
    kind = _check(tree.body, names, prev, positions)
    if prev and not allow_prev:
        name = next(n for n, is_prev, _ in positions if is_prev)
        column = next(c for n, is_prev, c in positions if is_prev)
        raise ExpressionError(f"prev.{name}: there is no previous value here; name the column itself", column)
    return Expression(tree.body, frozenset(names), frozenset(prev), tuple(positions), kind)


@functools.lru_cache(maxsize=1024)
def parse_condition(expression: str) -> Expression:
    """:func:`parse_expression` of a condition, which must be true or false: a bare number
    (``vocal_detractor``) is refused with the hint to compare it (``vocal_detractor == 1``)."""
    parsed = parse_expression(expression)
    if parsed.kind != "bool":
        raise ExpressionError("the condition must be true or false: compare the value, e.g. "
                              f"'{ast.unparse(parsed.node)} == 1'", _col(parsed.node))
    return parsed


class _Requote(ast.NodeTransformer):
    """Puts the backticked names back in place of their stand-in identifiers."""

    def __init__(self, quoted: dict[str, str]):
        self.quoted = quoted

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.quoted:
            node.id = self.quoted[node.id]
        return node


def _check(node: ast.expr, names: set, prev: set, positions: list) -> str:
    """Whitelist walk; returns "bool" or "value"."""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _need_bool(v, names, prev, positions, "and/or")
        return "bool"
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _need_bool(node.operand, names, prev, positions, "not")
            return "bool"
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            _need_value(node.operand, names, prev, positions)
            return "value"
        raise ExpressionError("'~' is not allowed; use not", _col(node))
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITH:
            op = {ast.Pow: "**", ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|",
                  ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@"}.get(type(node.op), "?")
            hint = "; use and/or" if op in ("&", "|") else ""
            raise ExpressionError(f"operator '{op}' is not allowed (only + - * /){hint}", _col(node))
        _need_value(node.left, names, prev, positions)
        _need_value(node.right, names, prev, positions)
        return "value"
    if isinstance(node, ast.Compare):
        left = node.left
        _need_value(left, names, prev, positions)
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.Is, ast.IsNot)):
                raise ExpressionError("'is' is not allowed; use is_missing(x) or ==", _col(node))
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)) or not right.elts:
                    raise ExpressionError("'in' needs a list of values, e.g. plan in [\"pro\", \"enterprise\"]",
                                     _col(right))
                kinds = set()
                for elt in right.elts:
                    value = literal(elt)
                    if value is None:
                        raise ExpressionError("a list after 'in' may hold only numbers and strings", _col(elt))
                    kinds.add(isinstance(value, str))
                if len(kinds) > 1:
                    raise ExpressionError("a list after 'in' must hold only numbers or only strings", _col(right))
            else:
                _need_value(right, names, prev, positions)
        return "bool"
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            raise ExpressionError(f"calling a method ('.{func.attr}(...)') is not allowed; the functions are "
                             + ", ".join(sorted(FUNCTIONS)), _col(node))
        if not isinstance(func, ast.Name):
            raise ExpressionError(_FORBIDDEN.get(type(func), "only the functions " + ", ".join(sorted(FUNCTIONS))
                                            + " may be called"), _col(func))
        if func.id not in FUNCTIONS:
            raise ExpressionError(f"function '{func.id}' is not allowed; allowed: " + ", ".join(sorted(FUNCTIONS)),
                             _col(node))
        if node.keywords:
            raise ExpressionError(f"{func.id}() takes no keyword arguments", _col(node.keywords[0].value) - 1)
        lo, hi = FUNCTIONS[func.id]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = str(lo) if lo == hi else f"{lo} or more"
            raise ExpressionError(f"{func.id}() takes {want} argument{'s' if want != '1' else ''}, got {n}", _col(node))
        for arg in node.args:
            _need_value(arg, names, prev, positions)
        if func.id == "is_missing":
            if literal(node.args[0]) is not None:
                raise ExpressionError("is_missing() needs a column or an expression, not a constant", _col(node.args[0]))
            return "bool"
        return "value"
    if isinstance(node, ast.Name):
        if node.id == "prev":
            raise ExpressionError("prev needs a feature: prev.<feature>", _col(node))
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: call it, e.g. {node.id}(x)", _col(node))
        names.add(node.id)
        positions.append((node.id, False, _col(node)))
        return "value"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "prev":
        prev.add(node.attr)
        positions.append((node.attr, True, _col(node)))
        return "value"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "bool"
        if isinstance(node.value, (int, float, str)):
            return "value"
        raise ExpressionError(f"the constant {node.value!r} is not allowed; use is_missing(x) for missing values"
                         if node.value is None else f"the constant {node.value!r} is not allowed", _col(node))
    message = _FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed in an expression")
    raise ExpressionError(message, _col(node))


def _need_bool(node, names, prev, positions, where: str) -> None:
    if _check(node, names, prev, positions) != "bool":
        raise ExpressionError(f"'{where}' combines conditions: compare the value, e.g. '{ast.unparse(node)} == 1'",
                              _col(node))


def _need_value(node, names, prev, positions) -> None:
    if _check(node, names, prev, positions) != "value":
        raise ExpressionError("a condition cannot be used as a number here", _col(node))


def literal(node: ast.expr) -> Any:
    """A number or string constant (a negative number too), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = literal(node.operand)
        return -inner if isinstance(inner, (int, float)) else None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


# --------------------------------------------------------------------------------------------
# evaluation


class NotEvaluable(Exception):
    """The expression reads ``prev.<name>`` and there is no previous frame."""


class ExpressionContext:
    """The columns an expression reads: ``current`` and, for ``prev.<name>``, ``previous`` (aligned
    row by row with ``current``). ``errored`` marks the rows where arithmetic turned numbers into
    infinity or "not a number" (a division by zero): reset it before each expression."""

    def __init__(self, current: pd.DataFrame, previous: pd.DataFrame | None = None):
        self.current, self.previous, self.n = current, previous, len(current)
        #: rows where arithmetic of the expression being evaluated turned numbers into inf/nan
        self.errored = np.zeros(self.n, dtype=bool)

    def column(self, name: str, prev: bool) -> pd.Series:
        frame = self.previous if prev else self.current
        if frame is None:
            raise NotEvaluable()
        s = frame[name]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
            return s.astype(object).where(s.notna(), np.nan)
        return pd.to_numeric(s, errors="coerce").astype("float64")


def _is_text(v) -> bool:
    if isinstance(v, pd.Series):
        return v.dtype == object
    return isinstance(v, str)


def _isna(v) -> np.ndarray | bool:
    if isinstance(v, pd.Series):
        return v.isna().to_numpy()
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def boolean(values, missing, n: int) -> pd.arrays.BooleanArray:
    """A pandas ``boolean`` array of length ``n``: ``values`` where not ``missing`` (each a
    scalar or an array), ``<NA>`` where missing."""
    values = np.broadcast_to(np.asarray(values, dtype=bool), (n,)).copy()
    missing = np.broadcast_to(np.asarray(missing, dtype=bool), (n,)).copy()
    return pd.arrays.BooleanArray(values, missing)


def evaluate(expression: Expression, ctx: ExpressionContext):
    """The value of a checked expression over the context's rows: a pandas ``boolean`` array for a
    condition (``<NA>`` where unknown), a Series (float64 for numbers, object for text) or a
    constant for a value. Raises :class:`ExpressionError` when it mixes text and numbers."""
    return _eval(expression.node, ctx)


def _eval(node: ast.expr, ctx: ExpressionContext):
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, ctx) for v in node.values]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if isinstance(node.op, ast.And) else (out | p)
        return out
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, ctx)
        if isinstance(node.op, ast.Not):
            return ~value
        _need_number(value, node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, ctx), _eval(node.right, ctx)
        _need_number(left, node.left)
        _need_number(right, node.right)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if isinstance(node.op, ast.Div) and not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
                out = float("nan") if right == 0 else left / right
            else:
                out = _ARITH[type(node.op)](left, right)
        # numbers in, no number out: a division by zero (or an overflow), not a missing value
        bad = np.logical_and(np.logical_and(_finite(left), _finite(right)), np.logical_not(_finite(out)))
        ctx.errored |= np.broadcast_to(bad, (ctx.n,))
        if isinstance(out, pd.Series):
            out = out.replace([np.inf, -np.inf], np.nan)
        return out
    if isinstance(node, ast.Compare):
        result = None
        left = _eval(node.left, ctx)
        for op, right_node in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                values = [literal(e) for e in right_node.elts]
                if _is_text(values[0]) != _is_text(left) and not _all_missing(left):
                    raise ExpressionError(f"compares {_describe(left)} with a list of "
                                     f"{'text' if _is_text(values[0]) else 'numbers'}", _col(node.left))
                series = left if isinstance(left, pd.Series) else pd.Series([left] * ctx.n)
                hit = series.isin(values).to_numpy()
                part = boolean(hit if isinstance(op, ast.In) else ~hit, _isna(left), ctx.n)
                right = left
            else:
                right = _eval(right_node, ctx)
                if _is_text(left) != _is_text(right) and not _all_missing(left) and not _all_missing(right):
                    raise ExpressionError(f"compares {_describe(left)} with {_describe(right)}", _col(right_node))
                fn = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                      ast.Gt: operator.gt, ast.GtE: operator.ge}[type(op)]
                missing = np.logical_or(_isna(left), _isna(right))
                try:
                    raw = fn(_fill(left), _fill(right))
                except TypeError as exc:
                    raise ExpressionError(f"cannot compare: {exc}", _col(right_node)) from None
                part = boolean(np.asarray(raw, dtype=bool), missing, ctx.n)
            result = part if result is None else (result & part)
            left = right
        return result
    if isinstance(node, ast.Call):
        args = [_eval(a, ctx) for a in node.args]
        name = node.func.id
        if name == "is_missing":
            return boolean(_isna(args[0]), False, ctx.n)
        if name == "coalesce":
            first, default = args
            if isinstance(first, pd.Series):
                return first.where(first.notna(), default)
            return default if _isna(first) else first
        for a, arg_node in zip(args, node.args):
            _need_number(a, arg_node)
        if name == "abs":
            return abs(args[0])
        series = [pd.Series(np.broadcast_to(np.asarray(a, dtype=float), (ctx.n,))) if not isinstance(a, pd.Series)
                  else a.reset_index(drop=True) for a in args]
        stacked = pd.concat(series, axis=1)
        out = stacked.min(axis=1, skipna=False) if name == "min" else stacked.max(axis=1, skipna=False)
        return out.set_axis(ctx.current.index)
    if isinstance(node, ast.Name):
        return ctx.column(node.id, prev=False)
    if isinstance(node, ast.Attribute):
        return ctx.column(node.attr, prev=True)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return boolean(node.value, False, ctx.n)
        return node.value
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression", _col(node))  # pragma: no cover


def _finite(v) -> np.ndarray | bool:
    """Where ``v`` (a column or a constant) is a finite number."""
    if isinstance(v, pd.Series):
        return np.isfinite(pd.to_numeric(v, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _all_missing(v) -> bool:
    return isinstance(v, pd.Series) and bool(v.isna().all())


def _fill(v):
    """Operands with missing values replaced by a harmless value of their kind (masked afterwards)."""
    if isinstance(v, pd.Series):
        if v.dtype == object:
            return v.where(v.notna(), "").to_numpy()
        return v.fillna(0.0).to_numpy()
    return v


def _describe(v) -> str:
    if isinstance(v, pd.Series):
        return ("text" if v.dtype == object else "a number") + (f" ('{v.name}')" if v.name else "")
    return f"the text {v!r}" if isinstance(v, str) else f"the number {v!r}"


def _need_number(value, node) -> None:
    if _is_text(value) and not _all_missing(value):
        raise ExpressionError(f"arithmetic needs numbers, got {_describe(value)}", _col(node))
