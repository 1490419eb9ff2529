"""Computed columns: a safe arithmetic language evaluated on exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.expressions import Expression

MONEY = pa.decimal128(18, 2)


def dec(*values):
    return pa.array([None if v is None else Decimal(v) for v in values], pa.decimal128(18, 3))


def test_line_amount_is_exact_and_rounded_half_away_from_zero():
    expr = Expression.parse("quantity * unit_price - discount_amount", target="amount")
    out = expr.evaluate(
        {
            "quantity": dec("0.333", "-2", "1"),
            "unit_price": dec("12.99", "3.35", "0.005"),
            "discount_amount": dec("0", "0", "0"),
        },
        MONEY,
    )
    # 0.333 * 12.99 = 4.32567 -> 4.33 ; -6.70 ; 0.005 -> 0.01 (half away from zero)
    assert out.to_pylist() == [Decimal("4.33"), Decimal("-6.70"), Decimal("0.01")]


def test_numbers_parentheses_unary_minus_and_division():
    expr = Expression.parse("-(a + 0.5) / b * 100", target="x")
    out = expr.evaluate({"a": dec("1", "1"), "b": dec("4", "3")}, MONEY)
    assert out.to_pylist() == [Decimal("-37.50"), Decimal("-50.00")]


def test_division_by_zero_and_missing_operands_give_empty_values():
    expr = Expression.parse("a / b", target="x")
    assert expr.evaluate({"a": dec("1", None), "b": dec("0", "2")}, MONEY).to_pylist() == [
        None,
        None,
    ]


def test_integer_columns_and_integer_results():
    expr = Expression.parse("a * 2", target="n")
    out = expr.evaluate({"a": pa.array([3, 4], pa.int64())}, pa.int64())
    assert out.to_pylist() == [6, 8]


def test_names_are_listed_in_reading_order():
    assert Expression.parse("c * (a - b)", target="x").names == ("c", "a", "b")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a ** 2", r"only \+ - \* / are allowed"),
        ("abs(a)", "call is not allowed"),
        ("a.b", "attribute is not allowed"),
        ("'x' + a", "'x' is not a number"),
        ("a +", "is not a valid formula"),
        ("a if b else c", "ifexp is not allowed"),
        ("", "give the formula as text"),
        ("__import__('os')", "call is not allowed"),
    ],
)
def test_anything_but_arithmetic_is_refused(text, match):
    with pytest.raises(InputError, match=match):
        Expression.parse(text, target="amount")
