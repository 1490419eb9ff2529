"""Contract checks as vectorised per-row reasons a person understands.

Each function returns a string array with one message per row where a problem was found and
null elsewhere; :func:`join_reasons` combines them into one reason per row (``"; "`` between
problems), null for valid rows.

Examples
--------
>>> import pyarrow as pa
>>> from decimal import Decimal
>>> from omnicrm.schema import NotZero
>>> q = pa.array([Decimal("2"), Decimal("0")])
>>> check_problems("quantity", q, pa.array(["2", "0"]), (NotZero(),)).to_pylist()
[None, "quantity: '0' must be != 0"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.schema.types import Check, NotZero, OneOf, Range


def message(mask: pa.Array, *parts: str | pa.Array | Callable[[], pa.Array]) -> pa.Array | None:
    """Concatenate ``parts`` where ``mask`` is true, null elsewhere; None if it never is.

    A part is text, an array, or a function returning an array (computed only when needed).
    """
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return None
    arrays = [p() if callable(p) else p for p in parts]
    joined = pc.binary_join_element_wise(
        *[p.filter(mask) if isinstance(p, pa.Array) else pa.scalar(p) for p in arrays], ""
    )
    if not isinstance(joined, pa.Array):  # only text parts: one message for every hit
        joined = pa.repeat(joined, pc.sum(mask).as_py())
    return pc.replace_with_mask(pa.nulls(len(mask), pa.string()), mask, joined)


def quoted(text: pa.Array) -> pa.Array:
    """Values shown in reasons: ``'value'``."""
    return pc.binary_join_element_wise("'", pc.fill_null(text, ""), "'", "")


def missing_problem(name: str, values: pa.Array) -> pa.Array | None:
    """``name: missing (required)`` where the value is empty."""
    return message(pc.is_null(values), f"{name}: missing (required)")


def parse_problem(
    name: str, text: pa.Array, failed: pa.Array, expected: str | pa.Array
) -> pa.Array | None:
    """``name: 'text' <expected>`` where a value could not be parsed."""
    return message(failed, f"{name}: ", lambda: quoted(text), " ", expected)


def check_problems(
    name: str, values: pa.Array, shown: pa.Array, checks: Sequence[Check]
) -> pa.Array | None:
    """Messages for the contract checks (Range, NotZero, OneOf) on non-null ``values``."""
    found = []
    for check in checks:
        bad = _violations(values, check)
        if bad is not None:
            found.append(
                message(bad, f"{name}: ", lambda: quoted(shown), f" must be {check.describe()}")
            )
    return join_reasons(found) if found else None


def reference_problem(
    name: str, values: pa.Array, allowed: pa.Array, target: str
) -> pa.Array | None:
    """``name: 'x' not found in products.product_id`` for values missing from ``allowed``."""
    absent = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=allowed)))
    return message(
        absent, f"{name}: ", lambda: quoted(pc.cast(values, pa.string())), f" not found in {target}"
    )


def join_reasons(problems: Iterable[pa.Array | None]) -> pa.Array | None:
    """One reason per row: the problems separated by ``"; "``, null where there are none.

    Returns None when no row has a problem.
    """
    arrays = [p for p in problems if p is not None and p.null_count < len(p)]
    if not arrays:
        return None
    joined = arrays[0]
    for more in arrays[1:]:
        both = pc.binary_join_element_wise(joined, more, "; ")
        joined = pc.coalesce(both, joined, more)
    return joined


def _bound(values: pa.Array, bound: float) -> pa.Scalar:
    if pa.types.is_decimal(values.type):
        return pa.scalar(Decimal(str(bound)), pa.decimal128(38, values.type.scale))
    return pa.scalar(bound if not float(bound).is_integer() else int(bound))


def _violations(values: pa.Array, check: Check) -> pa.Array | None:
    if isinstance(check, Range):
        bad = []
        if check.min is not None:
            bad.append(pc.less(values, _bound(values, check.min)))
        if check.max is not None:
            bad.append(pc.greater(values, _bound(values, check.max)))
        return bad[0] if len(bad) == 1 else pc.or_(*bad)
    if isinstance(check, NotZero):
        return pc.equal(values, _bound(values, 0))
    if isinstance(check, OneOf):
        return pc.and_(
            pc.is_valid(values), pc.invert(pc.is_in(values, value_set=pa.array(check.values)))
        )
    raise TypeError(f"no vectorised rule for check {type(check).__name__}")
