"""Points earned on an order: a pure calculation on the order lines and the rules.

Policy (documented in ``docs/loyalty.md``):

* raw points of a line = ``amount * points_per_unit * line multiplier * tier multiplier``,
  where the line multiplier is the highest matching category/brand rule (1 when none, 0
  excludes the line);
* the order earns ``floor(sum of raw points)`` (rounding once per order, so small lines are
  not lost), then the per-order cap and what is left of the per-day cap apply;
* qualifying points (for tiers) = ``floor(sum of amount * points_per_unit * line multiplier)``,
  without the tier multiplier and not capped;
* integer points are split back onto lines by largest remainder, so line points add up to
  the order exactly; returns claw back what their lines earned.

Examples
--------
>>> from decimal import Decimal
>>> from omnicrm.loyalty.earning import LineInput, quote_order
>>> from omnicrm.loyalty.rules import load_rules
>>> rules = load_rules()
>>> line = LineInput("SKU1", "grocery", None, Decimal(1), Decimal("128.50"), Decimal("128.50"))
>>> quote = quote_order([line], rules.earning, rules.tiers.get("gold"), earned_today=0)
>>> quote.points, quote.qualifying_points
(192, 128)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from omnicrm.loyalty.rules import EarnRules, Tier


@dataclass(frozen=True)
class LineInput:
    """One order line as sent by the POS (amount = net amount paid for the line)."""

    product_id: str
    category: str | None
    brand: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class OrderQuote:
    """Points of an order and their split over lines."""

    points: int
    qualifying_points: int
    uncapped_points: int
    line_points: tuple[int, ...]
    line_qualifying: tuple[int, ...]


def floor_int(value: Decimal) -> int:
    """``value`` rounded down to a whole number."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def split_by_weight(total: int, weights: Sequence[Decimal]) -> list[int]:
    """Split ``total`` integer points over ``weights`` by largest remainder.

    The parts add up to ``total`` exactly; ties go to the earlier line.

    Examples
    --------
    >>> from decimal import Decimal
    >>> split_by_weight(10, [Decimal(1), Decimal(1), Decimal(1)])
    [4, 3, 3]
    >>> split_by_weight(0, [Decimal(0), Decimal(0)])
    [0, 0]
    """
    weight_sum = sum(weights, Decimal(0))
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [floor_int(x) for x in exact]
    short = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:short]:
        parts[i] += 1
    return parts


def quote_order(
    lines: Sequence[LineInput], rules: EarnRules, tier: Tier, *, earned_today: int
) -> OrderQuote:
    """Compute the points an order earns.

    Parameters
    ----------
    lines : sequence of LineInput
        The order lines (amounts >= 0).
    rules : EarnRules
        Points per unit, multipliers and caps.
    tier : Tier
        The member's tier at the time of the order (its earn multiplier applies).
    earned_today : int
        Purchase points the member already earned on the order's local day (for the day cap).

    Returns
    -------
    OrderQuote
    """
    base = [
        line.amount * rules.points_per_unit * rules.line_multiplier(line.category, line.brand)
        for line in lines
    ]
    raw = [b * tier.earn_multiplier for b in base]
    uncapped = floor_int(sum(raw, Decimal(0)))
    points = uncapped
    if rules.cap_per_order is not None:
        points = min(points, rules.cap_per_order)
    if rules.cap_per_day is not None:
        points = min(points, max(rules.cap_per_day - earned_today, 0))
    qualifying = floor_int(sum(base, Decimal(0)))
    return OrderQuote(
        points=points,
        qualifying_points=qualifying,
        uncapped_points=uncapped,
        line_points=tuple(split_by_weight(points, raw)),
        line_qualifying=tuple(split_by_weight(qualifying, base)),
    )
