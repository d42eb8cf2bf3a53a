"""Safe arithmetic / boolean expressions over named values (sweep ``derived`` and ``constraints``).

Evaluates numbers, strings and booleans (``true``/``false`` as well as ``True``/``False``),
names (bare names and dotted config paths such as ``datacenters[0].hosts[0].count``, looked up
in a mapping), ``+ - * / // % **``, unary ``- + not``, comparisons (``== != < <= > >=``, chained),
``and or``, ``x if c else y`` and calls of ``min max abs round floor ceil int float sqrt log
exp`` with positional arguments.

Refuses everything else when the expression is parsed: attribute calls, keyword arguments,
lambdas, comprehensions, subscripts other than an integer index in a path, containers (lists,
dicts, tuples), constants other than numbers and strings, ``in`` / ``is``, any other function,
and texts longer than :data:`MAX_TEXT` characters. When evaluated it refuses unknown names,
exponents larger than 64 in magnitude, and any value too large to be a config value: integers
beyond :data:`MAX_INT_BITS` bits, strings beyond :data:`MAX_STR` characters (both refused
*before* they are computed: ``((9**64)**64)**64`` or ``'a' * 10**9`` never allocate), and
floats that are ``inf`` or ``nan``. Type errors and arithmetic errors (division by zero,
overflow) are reported as ``ValueError`` too.
Expressions are parsed with :mod:`ast` and walked by a whitelist evaluator: nothing is ever
passed to ``eval`` or ``exec``.

Imports: ast, math, operator (standard library only; no dcsim module).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Expression"]

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil,
    "int": int, "float": float, "sqrt": math.sqrt, "log": math.log, "exp": math.exp,
}
_CONSTS: dict[str, Any] = {"true": True, "false": False, "True": True, "False": False}
MAX_TEXT = 2000
"""Longest expression text (characters)."""
MAX_INT_BITS = 256
"""Largest integer an expression may produce (bits); config integers fit in 64."""
MAX_STR = 10_000
"""Longest string an expression may produce (characters)."""


def _size_bits(x: Any) -> int:
    return abs(int(x)).bit_length() if isinstance(x, int) and not isinstance(x, bool) else 64


def _precheck(op: ast.operator, left: Any, right: Any, text: str) -> None:
    """Refuse a ``*`` or ``**`` whose result would be too large, before computing it."""
    if isinstance(op, ast.Mult):
        for s, n in ((left, right), (right, left)):
            if isinstance(s, str) and isinstance(n, int) and len(s) * max(n, 0) > MAX_STR:
                raise ValueError(f"string longer than {MAX_STR} characters in {text!r}")
    if (isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int)
            and right > 0 and _size_bits(left) * right > 4 * MAX_INT_BITS):
        raise ValueError(f"value larger than {MAX_INT_BITS} bits in {text!r}")


def _checked(value: Any, text: str) -> Any:
    """``value`` if it is small enough and finite; else ``ValueError``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"value larger than {MAX_INT_BITS} bits in {text!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"value is not a finite number ({value!r}) in {text!r}")
    if isinstance(value, str) and len(value) > MAX_STR:
        raise ValueError(f"string longer than {MAX_STR} characters in {text!r}")
    return value


def _name_of(node: ast.expr) -> str | None:
    """``datacenters[0].hosts[0].count`` written in an expression → that dotted path."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name_of(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and type(node.slice.value) is int):
        base = _name_of(node.value)
        return None if base is None else f"{base}[{node.slice.value}]"
    return None


class Expression:
    """A safe arithmetic / boolean expression over named values (parsed once, evaluated often).

    Parameters
    ----------
    text : the expression, e.g. ``"consolidation_ratio * 20"``.

    Raises
    ------
    ValueError
        On a syntax error or a construct outside the whitelist (attribute calls, lambdas, ...).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        if len(text) > MAX_TEXT:
            raise ValueError(f"expression longer than {MAX_TEXT} characters")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"cannot parse expression {text!r}: {exc.msg}") from None
        except (ValueError, RecursionError, MemoryError) as exc:  # 5000-digit literal, nesting
            raise ValueError(f"cannot parse expression {text!r}: {type(exc).__name__}") from None
        self._root = tree.body
        self.names: list[str] = []
        try:
            self._check(self._root)
        except RecursionError:
            raise ValueError(f"expression nested too deeply: {text!r}") from None

    def _check(self, node: ast.expr) -> None:
        name = _name_of(node)
        if name is not None:
            if name not in _CONSTS and name not in self.names:
                self.names.append(name)
            return
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool):
                raise ValueError(f"unsupported constant {node.value!r} in {self.text!r}")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            self._check(node.operand)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self._check(v)
        elif isinstance(node, ast.Compare) and all(type(o) in _CMPOPS for o in node.ops):
            self._check(node.left)
            for c in node.comparators:
                self._check(c)
        elif isinstance(node, ast.IfExp):
            for part in (node.test, node.body, node.orelse):
                self._check(part)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in _FUNCS and not node.keywords):
            for a in node.args:
                self._check(a)
        else:
            what = type(node).__name__
            if isinstance(node, ast.Call):
                what = "call of anything but " + ", ".join(sorted(_FUNCS))
            raise ValueError(f"unsupported construct ({what}) in {self.text!r}")

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """The value of the expression with names looked up in ``env``.

        Raises
        ------
        ValueError
            On an unknown name, a type mismatch, division by zero or a huge power.
        """
        try:
            return _checked(self._eval(self._root, env), self.text)
        except ValueError:
            raise
        except (TypeError, ArithmeticError, RecursionError, MemoryError) as exc:
            raise ValueError(f"cannot evaluate {self.text!r}: {exc or type(exc).__name__}") \
                from None

    def _eval(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        name = _name_of(node)
        if name is not None:
            if name in env:
                return env[name]
            if name in _CONSTS:
                return _CONSTS[name]
            raise ValueError(f"unknown name {name!r} in {self.text!r}")
        if isinstance(node, ast.Constant):
            return _checked(node.value, self.text)
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, env), self._eval(node.right, env)
            if isinstance(node.op, ast.Pow) and abs(float(right)) > 64:
                raise ValueError(f"exponent {right!r} too large in {self.text!r}")
            _precheck(node.op, left, right, self.text)
            return _checked(_BINOPS[type(node.op)](left, right), self.text)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not):
                return not operand
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            val: Any = is_and
            for v in node.values:
                val = self._eval(v, env)
                if bool(val) != is_and:
                    return val
            return val
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comp, env)
                if not _CMPOPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            branch = node.body if self._eval(node.test, env) else node.orelse
            return self._eval(branch, env)
        assert isinstance(node, ast.Call)
        assert isinstance(node.func, ast.Name)
        args = [self._eval(a, env) for a in node.args]
        return _checked(_FUNCS[node.func.id](*args), self.text)
