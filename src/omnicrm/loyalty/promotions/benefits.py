"""Benefits of a promotion: small classes in a registry, configured as data.

A promotion's ``benefit`` table has a ``type`` naming one class of :data:`BENEFITS`:

==================== ========================================================================
type                 what the covered lines get
==================== ========================================================================
``percent_off``      ``percent`` off (optional ``max_discount``)
``amount_off``       ``amount`` off, spread over the lines by value
``spend_save``       spend X save Y: ``thresholds = [{spend, save}, …]`` (the highest reached)
                     or repeatable ``every`` / ``save`` (e.g. every 200 save 30, optional
                     ``max_times``) — 满减
``buy_x_get_y``      buy ``buy`` get ``get`` units (cheapest) free, or ``percent`` off them
``gift``             a gift ``product_id`` x ``quantity``; its cost is ``value`` each
``member_price``     member prices ``prices = {sku = "8.90"}`` for tiers with member prices
``points_multiplier`` the covered lines earn ``multiplier`` x their points
==================== ========================================================================

Every money benefit yields exact per-line discounts (:class:`Effect`); never more than a
line's current value, so a line is never priced below zero.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> from omnicrm.loyalty.promotions.benefits import parse_benefit
>>> from omnicrm.loyalty.promotions.cart import Cart, CartLine
>>> benefit = parse_benefit({"type": "spend_save", "every": "200", "save": "30"}, "P1")
>>> cart = Cart((CartLine(1, "A", Decimal(1), Decimal("450.00")),), dt.datetime(2026, 1, 1))
>>> benefit.apply(cart, cart.lines, {1: Decimal("450.00")}).amount
Decimal('60.00')
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, ClassVar

from omnicrm.errors import InputError
from omnicrm.loyalty.promotions.cart import ZERO, Cart, CartLine, allocate, cents
from omnicrm.loyalty.promotions.conditions import Reason, money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Gift:
    product_id: str
    quantity: int
    value: Decimal


@dataclass(frozen=True)
class Effect:
    """What one promotion gives: per-line discounts, gifts, a points multiplier."""

    line_discounts: Mapping[int, Decimal] = field(default_factory=dict)
    gifts: tuple[Gift, ...] = ()
    points_multiplier: Decimal | None = None
    points_lines: tuple[int, ...] = ()

    @property
    def amount(self) -> Decimal:
        """Money taken off the cart."""
        return sum(self.line_discounts.values(), ZERO)

    @property
    def cost(self) -> Decimal:
        """What the promotion costs the retailer in money (discounts + gifts)."""
        return self.amount + sum((g.value * g.quantity for g in self.gifts), ZERO)

    @property
    def empty(self) -> bool:
        return self.cost == 0 and self.points_multiplier is None


def _spread(total: Decimal, lines: Sequence[CartLine], values: Mapping[int, Decimal]) -> Effect:
    weights = [values[line.line_no] for line in lines]
    total = min(total, sum(weights, ZERO))
    parts = allocate(total, weights)
    return Effect({line.line_no: p for line, p in zip(lines, parts, strict=True) if p > 0})


def _percent(value: Any, where: str, key: str = "percent") -> Decimal:
    pct = money(value, where, key, positive=True)
    if pct > HUNDRED:
        raise InputError(f"{where}: {key} = {value!r} must be at most 100")
    return pct


def _whole(value: Any, where: str, key: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{where}: {key} = {value!r}; expected a whole number >= {minimum}")
    return value


class Benefit(ABC):
    """What a promotion gives. Subclasses register under their ``type``."""

    type: ClassVar[str]
    keys: ClassVar[frozenset[str]]

    @classmethod
    @abstractmethod
    def parse(cls, spec: Mapping[str, Any], where: str) -> Benefit:
        """Build the benefit from its table (``InputError`` naming the key if invalid)."""

    @abstractmethod
    def apply(
        self, cart: Cart, lines: Sequence[CartLine], values: Mapping[int, Decimal]
    ) -> Effect | Reason:
        """The effect on the covered ``lines`` at their current ``values``, or why none."""


@dataclass(frozen=True)
class PercentOff(Benefit):
    percent: Decimal
    max_discount: Decimal | None = None
    type: ClassVar[str] = "percent_off"
    keys: ClassVar[frozenset[str]] = frozenset({"percent", "max_discount"})

    @classmethod
    def parse(cls, spec, where):
        cap = spec.get("max_discount")
        return cls(
            _percent(spec.get("percent"), where),
            None if cap is None else money(cap, where, "max_discount", positive=True),
        )

    def apply(self, cart, lines, values):
        total = cents(sum((values[x.line_no] for x in lines), ZERO) * self.percent / HUNDRED)
        if self.max_discount is not None:
            total = min(total, self.max_discount)
        return _spread(total, lines, values)


@dataclass(frozen=True)
class AmountOff(Benefit):
    amount: Decimal
    type: ClassVar[str] = "amount_off"
    keys: ClassVar[frozenset[str]] = frozenset({"amount"})

    @classmethod
    def parse(cls, spec, where):
        return cls(money(spec.get("amount"), where, "amount", positive=True))

    def apply(self, cart, lines, values):
        return _spread(self.amount, lines, values)


@dataclass(frozen=True)
class SpendSave(Benefit):
    """满减: the highest threshold reached, or ``save`` for every ``every`` spent."""

    thresholds: tuple[tuple[Decimal, Decimal], ...] = ()
    every: Decimal | None = None
    save: Decimal | None = None
    max_times: int | None = None
    type: ClassVar[str] = "spend_save"
    keys: ClassVar[frozenset[str]] = frozenset({"thresholds", "every", "save", "max_times"})

    @classmethod
    def parse(cls, spec, where):
        if "every" in spec:
            every = money(spec["every"], where, "every", positive=True)
            save = money(spec.get("save"), where, "save", positive=True)
            if save > every:
                raise InputError(f"{where}: save {save} is more than every {every}")
            times = spec.get("max_times")
            return cls(
                every=every,
                save=save,
                max_times=None if times is None else _whole(times, where, "max_times"),
            )
        raw = spec.get("thresholds")
        if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
            raise InputError(
                f'{where}: give thresholds = [{{spend = "200", save = "30"}}, …] '
                'or every = "200" with save = "30"'
            )
        steps = tuple(
            sorted(
                (
                    money(t.get("spend"), where, f"thresholds[{i}].spend", positive=True),
                    money(t.get("save"), where, f"thresholds[{i}].save", positive=True),
                )
                for i, t in enumerate(raw)
            )
        )
        for spend, save in steps:
            if save > spend:
                raise InputError(f"{where}: threshold spend {spend} saves {save}, more than spent")
        return cls(thresholds=steps)

    def apply(self, cart, lines, values):
        spend = sum((values[x.line_no] for x in lines), ZERO)
        if self.every is not None:
            times = int((spend / self.every).to_integral_value(rounding=ROUND_FLOOR))
            if self.max_times is not None:
                times = min(times, self.max_times)
            total, first = self.save * times, self.every
        else:
            reached = [save for threshold, save in self.thresholds if spend >= threshold]
            total, first = (reached[-1] if reached else ZERO), self.thresholds[0][0]
        if total == 0:
            return Reason("min_spend_not_met", f"spend {spend:.2f} of {first:.2f}")
        return _spread(total, lines, values)


@dataclass(frozen=True)
class BuyXGetY(Benefit):
    """For every ``buy + get`` whole units, the ``get`` cheapest are free (or ``percent`` off)."""

    buy: int
    get: int
    percent: Decimal = HUNDRED
    type: ClassVar[str] = "buy_x_get_y"
    keys: ClassVar[frozenset[str]] = frozenset({"buy", "get", "percent"})

    @classmethod
    def parse(cls, spec, where):
        pct = spec.get("percent")
        return cls(
            _whole(spec.get("buy"), where, "buy"),
            _whole(spec.get("get"), where, "get"),
            HUNDRED if pct is None else _percent(pct, where),
        )

    def apply(self, cart, lines, values):
        whole = [x for x in lines if x.quantity == x.quantity.to_integral_value()]
        units = int(sum((x.quantity for x in whole), Decimal(0)))
        free = units // (self.buy + self.get) * self.get
        if free == 0:
            return Reason(
                "min_quantity_not_met",
                f"{units} of {self.buy + self.get} units (buy {self.buy} get {self.get})",
            )
        discounts = {}
        for x in sorted(whole, key=lambda x: (x.unit_price, x.line_no)):
            if free == 0:
                break
            take = min(free, int(x.quantity))
            free -= take
            amount = min(cents(x.unit_price * take * self.percent / HUNDRED), values[x.line_no])
            if amount > 0:
                discounts[x.line_no] = amount
        return Effect(discounts)


@dataclass(frozen=True)
class GiftWithPurchase(Benefit):
    product_id: str
    value: Decimal
    quantity: int = 1
    type: ClassVar[str] = "gift"
    keys: ClassVar[frozenset[str]] = frozenset({"product_id", "value", "quantity"})

    @classmethod
    def parse(cls, spec, where):
        product = spec.get("product_id")
        if not isinstance(product, str) or not product:
            raise InputError(f'{where}: product_id = {product!r}; name the gift, e.g. "SKU-BAG"')
        return cls(
            product,
            money(spec.get("value"), where, "value"),
            _whole(spec.get("quantity", 1), where, "quantity"),
        )

    def apply(self, cart, lines, values):
        return Effect(gifts=(Gift(self.product_id, self.quantity, self.value),))


@dataclass(frozen=True)
class MemberPrice(Benefit):
    """Member prices per product, for members whose tier has ``member_prices = true``."""

    prices: Mapping[str, Decimal]
    type: ClassVar[str] = "member_price"
    keys: ClassVar[frozenset[str]] = frozenset({"prices"})

    @classmethod
    def parse(cls, spec, where):
        raw = spec.get("prices")
        if not isinstance(raw, dict) or not raw:
            raise InputError(f'{where}: give prices = {{ "SKU-1" = "8.90" }} (product -> price)')
        return cls({str(k): money(v, where, f"prices.{k}") for k, v in raw.items()})

    def apply(self, cart, lines, values):
        if cart.member_id is None:
            return Reason("member_required", "member prices need an identified member")
        if not cart.tier_member_prices:
            return Reason("tier_without_member_prices", f"tier {cart.tier} has no member prices")
        discounts = {}
        for x in lines:
            price = self.prices.get(x.product_id)
            if price is None or price >= x.unit_price:
                continue
            amount = min(cents((x.unit_price - price) * x.quantity), values[x.line_no])
            if amount > 0:
                discounts[x.line_no] = amount
        return Effect(discounts)


@dataclass(frozen=True)
class PointsMultiplier(Benefit):
    multiplier: Decimal
    type: ClassVar[str] = "points_multiplier"
    keys: ClassVar[frozenset[str]] = frozenset({"multiplier"})

    @classmethod
    def parse(cls, spec, where):
        m = money(spec.get("multiplier"), where, "multiplier", positive=True)
        if m <= 1:
            raise InputError(f"{where}: multiplier = {m} must be above 1 (2 = double points)")
        return cls(m)

    def apply(self, cart, lines, values):
        covered = tuple(x.line_no for x in lines)
        return Effect(points_multiplier=self.multiplier, points_lines=covered)


BENEFITS: dict[str, type[Benefit]] = {
    b.type: b
    for b in (
        PercentOff,
        AmountOff,
        SpendSave,
        BuyXGetY,
        GiftWithPurchase,
        MemberPrice,
        PointsMultiplier,
    )
}


def parse_benefit(spec: Mapping[str, Any], where: str) -> Benefit:
    """Parse a ``benefit`` table (``type`` + that type's keys).

    Raises
    ------
    InputError
        Unknown type, unknown key or invalid value, named with ``where``.
    """
    if not isinstance(spec, Mapping):
        raise InputError(f'{where}: benefit must be a table with type = "percent_off" …')
    kind = BENEFITS.get(spec.get("type"))
    if kind is None:
        raise InputError(
            f"{where}: benefit type {spec.get('type')!r} is unknown; "
            f"choose one of {', '.join(BENEFITS)}"
        )
    extra = set(spec) - kind.keys - {"type"}
    if extra:
        raise InputError(
            f"{where}: benefit {kind.type} does not know {', '.join(sorted(extra))}; "
            f"its keys are {', '.join(sorted(kind.keys))}"
        )
    return kind.parse(spec, f"{where} benefit")
