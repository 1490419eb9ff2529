"""Conditions of a promotion: small classes in a registry, configured as data.

A promotion's ``condition`` table names which lines it covers (its *range*: ``products``,
``categories``, ``brands``; every key given must match, any value of a key may) and what the
cart must satisfy. Each other key is one :class:`Condition` class from :data:`CONDITIONS`:

======================  =========================================================
key                     the cart must …
======================  =========================================================
``min_spend``           spend at least this much on covered lines (after the
                        discounts of promotions applied before this one)
``min_quantity``        hold at least this many covered units
``channels``            come from one of these channels (``pos``, ``app`` …)
``stores``              come from one of these stores
``segments``            belong to a member in one of these segments
``tiers``               belong to a member of one of these tiers
``members_only``        belong to a member (``true``)
======================  =========================================================

A failed condition answers a :class:`Reason` with a machine-readable code and a text, e.g.
``min_spend_not_met: spend 180.00 of 200.00``.

Examples
--------
>>> from decimal import Decimal
>>> import datetime as dt
>>> from omnicrm.loyalty.promotions.cart import Cart, CartLine
>>> from omnicrm.loyalty.promotions.conditions import parse_conditions
>>> line_range, conditions = parse_conditions({"min_spend": "200"}, "P1")
>>> cart = Cart((CartLine(1, "SKU", Decimal(1), Decimal("180.00")),), dt.datetime(2026, 1, 1))
>>> values = {1: Decimal("180.00")}
>>> print(conditions[0].check(cart, cart.lines, values))
min_spend_not_met: spend 180.00 of 200.00
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from omnicrm.errors import InputError
from omnicrm.loyalty.promotions.cart import CENT, ZERO, Cart, CartLine


@dataclass(frozen=True)
class Reason:
    """Why a promotion did not apply: a stable code and a human text."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def money(value: Any, where: str, key: str, *, positive: bool = False) -> Decimal:
    """Parse a money amount written as a string (or integer): >= 0, at most 2 decimals."""
    if isinstance(value, float):
        raise InputError(f'{where}: {key} = {value!r}; write money as a string, e.g. "{value}"')
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InputError(f'{where}: {key} = {value!r} is not an amount; write e.g. "200.00"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InputError(
            f'{where}: {key} = {value!r} is not an amount; write e.g. "200.00"'
        ) from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        sign = "> 0" if positive else ">= 0"
        raise InputError(f"{where}: {key} = {value!r} must be {sign}")
    if amount != amount.quantize(CENT):
        raise InputError(f"{where}: {key} = {value!r} has more than 2 decimal places")
    return amount.quantize(CENT)


def strings(value: Any, where: str, key: str) -> frozenset[str]:
    """A non-empty list of non-empty strings."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InputError(f'{where}: {key} = {value!r}; expected a list of names, e.g. ["a", "b"]')
    return frozenset(value)


@dataclass(frozen=True)
class LineRange:
    """Which lines a promotion covers; an empty range covers every line."""

    products: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()

    def covers(self, line: CartLine) -> bool:
        return (
            (not self.products or line.product_id in self.products)
            and (not self.categories or line.category in self.categories)
            and (not self.brands or line.brand in self.brands)
        )

    def describe(self) -> str:
        parts = [
            f"{name} {', '.join(sorted(values))}"
            for name, values in (
                ("products", self.products),
                ("categories", self.categories),
                ("brands", self.brands),
            )
            if values
        ]
        return "; ".join(parts) or "any line"


class Condition(ABC):
    """One requirement on the cart. Subclasses register under their ``key``."""

    key: ClassVar[str]

    @classmethod
    @abstractmethod
    def parse(cls, value: Any, where: str) -> Condition:
        """Build the condition from its configured value (``InputError`` if invalid)."""

    @abstractmethod
    def check(
        self, cart: Cart, lines: Sequence[CartLine], values: Mapping[int, Decimal]
    ) -> Reason | None:
        """``None`` if ``cart`` satisfies it, else the reason. ``lines`` are covered lines;
        ``values`` their current values by ``line_no``."""


@dataclass(frozen=True)
class MinSpend(Condition):
    amount: Decimal
    key: ClassVar[str] = "min_spend"

    @classmethod
    def parse(cls, value: Any, where: str) -> MinSpend:
        return cls(money(value, where, cls.key, positive=True))

    def check(self, cart, lines, values):
        spend = sum((values[line.line_no] for line in lines), ZERO)
        if spend >= self.amount:
            return None
        return Reason("min_spend_not_met", f"spend {spend:.2f} of {self.amount:.2f}")


@dataclass(frozen=True)
class MinQuantity(Condition):
    quantity: Decimal
    key: ClassVar[str] = "min_quantity"

    @classmethod
    def parse(cls, value: Any, where: str) -> MinQuantity:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{where}: min_quantity = {value!r}; expected a whole number >= 1")
        return cls(Decimal(value))

    def check(self, cart, lines, values):
        have = sum((line.quantity for line in lines), Decimal(0))
        if have >= self.quantity:
            return None
        return Reason("min_quantity_not_met", f"{have.normalize():f} of {self.quantity} units")


@dataclass(frozen=True)
class _OneOf(Condition):
    """The cart attribute ``attr`` must be one of ``allowed``."""

    allowed: frozenset[str]
    attr: ClassVar[str]
    noun: ClassVar[str]

    @classmethod
    def parse(cls, value: Any, where: str) -> _OneOf:
        return cls(strings(value, where, cls.key))

    def check(self, cart, lines, values):
        have = getattr(cart, self.attr)
        if have in self.allowed:
            return None
        return Reason(
            f"{self.noun}_not_eligible",
            f"{self.noun} {have or 'not given'} is not one of {', '.join(sorted(self.allowed))}",
        )


class Channels(_OneOf):
    key, attr, noun = "channels", "channel", "channel"


class Stores(_OneOf):
    key, attr, noun = "stores", "store_id", "store"


class Tiers(_OneOf):
    key, attr, noun = "tiers", "tier", "tier"


@dataclass(frozen=True)
class Segments(Condition):
    allowed: frozenset[str]
    key: ClassVar[str] = "segments"

    @classmethod
    def parse(cls, value: Any, where: str) -> Segments:
        return cls(strings(value, where, cls.key))

    def check(self, cart, lines, values):
        if cart.segments & self.allowed:
            return None
        have = ", ".join(sorted(cart.segments)) or "none"
        return Reason(
            "segment_not_eligible",
            f"segments {have}; needs one of {', '.join(sorted(self.allowed))}",
        )


@dataclass(frozen=True)
class MembersOnly(Condition):
    key: ClassVar[str] = "members_only"

    @classmethod
    def parse(cls, value: Any, where: str) -> MembersOnly:
        if value is not True:
            raise InputError(
                f"{where}: members_only = {value!r}; write members_only = true or omit it"
            )
        return cls()

    def check(self, cart, lines, values):
        if cart.member_id is not None:
            return None
        return Reason("member_required", "only for members; identify the member first")


CONDITIONS: dict[str, type[Condition]] = {
    c.key: c for c in (MinSpend, MinQuantity, Channels, Stores, Tiers, Segments, MembersOnly)
}
RANGE_KEYS = ("products", "categories", "brands")


def parse_conditions(
    spec: Mapping[str, Any], where: str
) -> tuple[LineRange, tuple[Condition, ...]]:
    """Parse a ``condition`` table into its line range and its conditions.

    Raises
    ------
    InputError
        An unknown key or an invalid value, named with ``where``.
    """
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: condition must be a table of keys such as min_spend")
    ranges = {k: strings(spec[k], where, k) for k in RANGE_KEYS if k in spec}
    conditions = []
    for key, value in spec.items():
        if key in RANGE_KEYS:
            continue
        kind = CONDITIONS.get(key)
        if kind is None:
            known = ", ".join([*RANGE_KEYS, *CONDITIONS])
            raise InputError(f"{where}: condition key {key!r} is unknown; known keys: {known}")
        conditions.append(kind.parse(value, f"{where} condition"))
    return LineRange(**ranges), tuple(conditions)
