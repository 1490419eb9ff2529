"""A tiny, safe arithmetic language for computed columns (``[expressions]`` in a mapping).

Grammar: numbers, column names, ``+ - * /``, unary minus and parentheses. The text is parsed
with :mod:`ast` and only those nodes are accepted; nothing is ever passed to ``eval``.
Evaluation is vectorised with pyarrow on exact decimals: every intermediate value is kept at
6 decimals (``DECIMAL(18,6)``), division by zero gives an empty value, and the result is rounded
half away from zero to the scale of the target column.

Examples
--------
>>> import pyarrow as pa
>>> from decimal import Decimal
>>> expr = Expression.parse("quantity * unit_price - discount_amount", target="amount")
>>> expr.names
('quantity', 'unit_price', 'discount_amount')
>>> cols = {"quantity": pa.array([Decimal("0.333")]), "unit_price": pa.array([Decimal("12.99")]),
...         "discount_amount": pa.array([Decimal("0.10")])}
>>> expr.evaluate(cols, pa.decimal128(18, 2)).to_pylist()
[Decimal('4.23')]
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.errors import InputError

WORKING = pa.decimal128(18, 6)
"""Type of every intermediate value."""

_OPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_ROUND = "half_towards_infinity"


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression computing one column."""

    text: str
    target: str
    tree: ast.Expression
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, target: str) -> Expression:
        """Parse ``text``; raise :class:`InputError` naming the column for anything else than
        numbers, names, ``+ - * /`` and parentheses."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(
                f'[expressions] {target}: give the formula as text, e.g. "quantity * unit_price"'
            )
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise InputError(
                f"[expressions] {target} = {text!r} is not a valid formula "
                f"({exc.msg}); use numbers, column names, + - * / and "
                "parentheses"
            ) from None
        names = [
            n.id
            for n in sorted(
                (n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: n.col_offset
            )
        ]
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                continue
            if isinstance(node, ast.Constant):
                if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                    raise InputError(
                        f"[expressions] {target} = {text!r}: {node.value!r} is not a number"
                    )
            elif isinstance(node, ast.BinOp):
                if type(node.op) not in _OPS:
                    raise InputError(f"[expressions] {target} = {text!r}: only + - * / are allowed")
            elif isinstance(node, ast.UnaryOp):
                if not isinstance(node.op, (ast.USub, ast.UAdd)):
                    raise InputError(
                        f"[expressions] {target} = {text!r}: only unary - and + are allowed"
                    )
            elif not isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
                raise InputError(
                    f"[expressions] {target} = {text!r}: "
                    f"{type(node).__name__.lower()} is not allowed; use numbers, "
                    "column names, + - * / and parentheses"
                )
        return cls(text.strip(), target, tree, tuple(dict.fromkeys(names)))

    def evaluate(self, columns: Mapping[str, pa.Array], result_type: pa.DataType) -> pa.Array:
        """Compute the expression over ``columns`` (decimal or integer arrays by name) and
        return it as ``result_type`` (a decimal or integer type)."""
        value = self._eval(self.tree.body, columns)
        scale = result_type.scale if pa.types.is_decimal(result_type) else 0
        value = pc.round(value, ndigits=scale, round_mode=_ROUND) if scale < 6 else value
        try:
            return pc.cast(value, result_type)
        except pa.ArrowInvalid as exc:
            raise InputError(
                f"[expressions] {self.target} = {self.text!r} gives values too "
                f"large for {result_type}: {exc}"
            ) from exc

    def _eval(self, node: ast.AST, columns: Mapping[str, pa.Array]):
        if isinstance(node, ast.Constant):
            segment = ast.unparse(node)
            try:
                return pa.scalar(Decimal(segment), WORKING)
            except (InvalidOperation, pa.ArrowInvalid):
                raise InputError(
                    f"[expressions] {self.target}: the number {segment} does not fit DECIMAL(18,6)"
                ) from None
        if isinstance(node, ast.Name):
            return _working(columns[node.id])
        if isinstance(node, ast.UnaryOp):
            inner = self._eval(node.operand, columns)
            return pc.negate(inner) if isinstance(node.op, ast.USub) else inner
        left = self._eval(node.left, columns)
        right = self._eval(node.right, columns)
        if isinstance(node.op, ast.Div):
            zero = pc.equal(right, pa.scalar(Decimal(0), WORKING))
            right = pc.if_else(zero, pa.scalar(None, WORKING), right)
        result = getattr(pc, _OPS[type(node.op)])(left, right)
        return _working(result)


def _working(values: pa.Array) -> pa.Array:
    if values.type == WORKING:
        return values
    if pa.types.is_integer(values.type):
        values = pc.cast(values, pa.decimal128(38, 0))
    if pa.types.is_decimal(values.type) and values.type.scale > WORKING.scale:
        values = pc.round(values, ndigits=WORKING.scale, round_mode=_ROUND)
    try:
        return pc.cast(values, WORKING)
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"a value in a computed column is too large for DECIMAL(18,6): {exc}"
        ) from exc
