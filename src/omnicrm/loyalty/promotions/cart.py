"""The cart a checkout prices and the exact-money helpers every benefit shares.

Money is :class:`~decimal.Decimal` with two places. A line's value is
``quantity x unit_price`` rounded half-up to the cent. Discounts spread over several lines
are allocated in proportion to the lines' values, every part rounded down to the cent and
the rounding remainder put on the last line, so the parts add up to the total exactly
(django-oscar ``AbsoluteDiscountBenefit``).

Examples
--------
>>> from decimal import Decimal
>>> from omnicrm.loyalty.promotions.cart import allocate
>>> allocate(Decimal("10.00"), [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
[Decimal('3.33'), Decimal('3.33'), Decimal('3.34')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over lines in proportion to ``weights``; the parts add up exactly.

    Every part but the last is rounded down to the cent; the last takes the remainder. No
    part exceeds its weight (the weights are the lines' values): should the remainder push the
    last part over its line's value, the excess moves to earlier lines that have room.

    Parameters
    ----------
    total : Decimal
        The amount to split, ``0 <= total <= sum(weights)``.
    weights : sequence of Decimal
        Line values (>= 0).

    Examples
    --------
    >>> from decimal import Decimal
    >>> allocate(Decimal("30.00"), [Decimal("100.00"), Decimal("50.00"), Decimal("50.00")])
    [Decimal('15.00'), Decimal('7.50'), Decimal('7.50')]
    >>> allocate(Decimal("0.05"), [Decimal("1.00")] * 3)
    [Decimal('0.01'), Decimal('0.01'), Decimal('0.03')]
    """
    weight_sum = sum(weights, ZERO)
    if total <= 0 or weight_sum <= 0:
        return [ZERO] * len(weights)
    if total > weight_sum:
        raise ValueError(f"cannot allocate {total} over lines worth {weight_sum}")
    last = max(i for i, w in enumerate(weights) if w > 0)
    parts = [
        (total * w / weight_sum).quantize(CENT, rounding=ROUND_DOWN) if i != last else ZERO
        for i, w in enumerate(weights)
    ]
    parts[last] = total - sum(parts, ZERO)
    excess = parts[last] - weights[last]
    if excess > 0:
        parts[last] = weights[last]
        for i in range(last - 1, -1, -1):
            room = weights[i] - parts[i]
            move = min(room, excess)
            parts[i] += move
            excess -= move
            if excess == 0:
                break
    return parts


@dataclass(frozen=True)
class CartLine:
    """One line of a cart: what is bought, how many, at what unit price."""

    line_no: int
    product_id: str
    quantity: Decimal
    unit_price: Decimal
    category: str | None = None
    brand: str | None = None

    @property
    def value(self) -> Decimal:
        """``quantity x unit_price`` rounded to the cent."""
        return cents(self.quantity * self.unit_price)


@dataclass(frozen=True)
class Cart:
    """Everything pricing depends on besides the promotions themselves.

    ``tier`` and ``tier_member_prices`` come from the member record (``None`` for a guest);
    ``segments`` from the member's segments or the caller.
    """

    lines: tuple[CartLine, ...]
    at: dt.datetime
    channel: str | None = None
    store_id: str | None = None
    member_id: str | None = None
    tier: str | None = None
    tier_member_prices: bool = False
    segments: frozenset[str] = field(default_factory=frozenset)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.value for line in self.lines), ZERO)
