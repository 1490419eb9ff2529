"""Checkout pricing: a quote of a cart with promotions, coupons and the points it will earn.

Pure with respect to the database: :func:`price` reads (member, promotions, coupons, usage)
and writes nothing, so a POS may call it as often as the cart changes. The same
:func:`quote` runs again inside the order commit (:mod:`omnicrm.loyalty.orders`) on the
state locked there.

For every candidate promotion the quote says whether it applied and, if not, why, as a
machine-readable code plus a text, e.g. ``min_spend_not_met: spend 180.00 of 200.00``.
Line discounts are exact decimals that add up to each promotion's amount; the points are
:func:`omnicrm.loyalty.earning.quote_order` on the discounted lines, plus the extra points
of points-multiplier promotions.

Examples
--------
>>> from decimal import Decimal
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import checkout
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.promotions import store
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules = memory_session(), load_rules()
>>> _ = store.save(session, {"id": "P1", "condition": {"min_spend": "200"},
...     "benefit": {"type": "spend_save", "every": "200", "save": "30"}}, Context("admin"))
>>> cart = checkout.CartInput([checkout.ItemInput("SKU-1", Decimal(3), Decimal("150.00"))])
>>> q = checkout.price(session, cart, rules)
>>> q["subtotal"], q["discount"], q["total"]
('450.00', '60.00', '390.00')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from omnicrm.db.base import CENT, utcnow
from omnicrm.db.engine import read_only
from omnicrm.loyalty.earning import LineInput, floor_int, quote_order
from omnicrm.loyalty.errors import InvalidRequestError, MemberClosedError, MemberNotFoundError
from omnicrm.loyalty.models import Member
from omnicrm.loyalty.points import _SUM_POINTS, _local_bounds, _sum_points
from omnicrm.loyalty.promotions import store
from omnicrm.loyalty.promotions.cart import ZERO, Cart, CartLine
from omnicrm.loyalty.promotions.conditions import Reason
from omnicrm.loyalty.promotions.coupons import CouponCheck, check_codes
from omnicrm.loyalty.promotions.engine import Pricing
from omnicrm.loyalty.promotions.engine import price as run_engine
from omnicrm.loyalty.promotions.models import Coupon, PromotionRow
from omnicrm.loyalty.rules import Rules

MAX_LINES = 1000
# The member and the purchase points it earned on the pricing day (its daily cap), one read;
# built once: hot path.
_MEMBER = select(Member, _SUM_POINTS.params(kind="earn").scalar_subquery()).where(
    Member.id == bindparam("member_id")
)
MAX_CODES = 20


@dataclass(frozen=True)
class ItemInput:
    """One cart line as sent by the POS: product, quantity and unit price before discounts."""

    product_id: str
    quantity: Decimal
    unit_price: Decimal
    category: str | None = None
    brand: str | None = None


@dataclass(frozen=True)
class CartInput:
    """A cart to price. ``segments`` add to the member's; ``at`` defaults to now."""

    items: Sequence[ItemInput]
    member_id: str | None = None
    channel: str | None = None
    store_id: str | None = None
    codes: Sequence[str] = ()
    segments: Sequence[str] = ()
    at: dt.datetime | None = None


@dataclass
class Quote:
    """A priced cart with everything the commit needs to record it."""

    pricing: Pricing
    member: Member | None
    checks: list[CouponCheck]
    rows: dict[str, PromotionRow]
    coupons: dict[str, tuple[str, Coupon]] = field(default_factory=dict)
    line_points: tuple[int, ...] = ()
    points: int = 0
    qualifying_points: int = 0
    bonus_points: dict[str, int] = field(default_factory=dict)


def validate(cart: CartInput) -> None:
    """Refuse an empty or oversized cart, bad quantities or prices, too many codes."""
    if not cart.items:
        raise InvalidRequestError("the cart has no lines; send at least one line", field="lines")
    if len(cart.items) > MAX_LINES:
        raise InvalidRequestError(f"at most {MAX_LINES} lines per cart", field="lines")
    if len(cart.codes) > MAX_CODES:
        raise InvalidRequestError(f"at most {MAX_CODES} codes per cart", field="codes")
    for i, item in enumerate(cart.items):
        if item.quantity <= 0 or item.unit_price < 0:
            raise InvalidRequestError(
                f"line {i + 1}: quantity must be > 0 and unit_price >= 0", field=f"lines[{i}]"
            )
        if item.unit_price != item.unit_price.quantize(CENT):
            raise InvalidRequestError(
                f"line {i + 1}: unit_price {item.unit_price} has more than 2 decimal places",
                field=f"lines[{i}].unit_price",
            )


def _cart(data: CartInput, member: Member | None, rules: Rules, at: dt.datetime) -> Cart:
    tier = rules.tiers.get(member.tier) if member is not None else None
    return Cart(
        lines=tuple(
            CartLine(i + 1, x.product_id, x.quantity, x.unit_price, x.category, x.brand)
            for i, x in enumerate(data.items)
        ),
        at=at,
        channel=data.channel,
        store_id=data.store_id,
        member_id=member.id if member is not None else None,
        tier=tier.code if tier is not None else None,
        tier_member_prices=bool(tier and tier.member_prices),
        segments=frozenset(data.segments),
    )


def quote(
    session: Session,
    data: CartInput,
    rules: Rules,
    at: dt.datetime,
    *,
    member: Member | None = None,
    excluded: Mapping[str, Reason] | None = None,
) -> Quote:
    """Price ``data`` at instant ``at`` on the current database state (no writes).

    ``member`` is the already loaded (or locked) member; when ``None`` and the cart names a
    member, it is read here.
    """
    earned_today = None
    if member is None and data.member_id is not None:
        start, end = _local_bounds(at, rules, "day")
        params = {"member_id": data.member_id, "start": start, "end": end}
        row = session.execute(_MEMBER, params).one_or_none()
        if row is None:
            raise MemberNotFoundError(
                f"member {data.member_id!r} does not exist; enrol it with POST /v1/members"
            )
        member, earned_today = row[0], int(row[1])
    if member is not None and member.status != "active":
        raise MemberClosedError(f"member {member.id!r} is {member.status}")
    member_id = member.id if member is not None else None
    loaded, uses = store.load_with_uses(session, member_id)
    rows = {p.id: row for p, row in loaded}
    checks = check_codes(session, list(data.codes), at, member_id)
    coupons: dict[str, tuple[str, Coupon]] = {}
    for check in checks:
        if check.usable and check.coupon.promotion_id not in coupons:
            coupons[check.coupon.promotion_id] = (check.code, check.coupon)
    states = store.availability(list(rows.values()), uses, coupons)
    pricing = run_engine(
        _cart(data, member, rules, at), [p for p, _ in loaded], states, excluded=excluded
    )
    q = Quote(pricing, member, checks, rows, coupons)
    if member is not None:
        _points(session, q, rules, at, earned_today)
    return q


def _points(
    session: Session, q: Quote, rules: Rules, at: dt.datetime, earned_today: int | None
) -> None:
    lines = q.pricing.cart.lines
    nets = [q.pricing.net(x.line_no, x.value) for x in lines]
    items = [
        LineInput(x.product_id, x.category, x.brand, x.quantity, x.unit_price, net)
        for x, net in zip(lines, nets, strict=True)
    ]
    if earned_today is None:  # a member loaded (or locked) by the caller
        earned_today = _sum_points(session, q.member.id, "earn", *_local_bounds(at, rules, "day"))
    tier = rules.tiers.get(q.member.tier)
    points = quote_order(items, rules.earning, tier, earned_today=earned_today)
    q.line_points, q.points = points.line_points, points.points
    q.qualifying_points = points.qualifying_points
    index = {x.line_no: i for i, x in enumerate(lines)}
    for a in q.pricing.applied:
        m = a.effect.points_multiplier
        if m is None:
            continue
        base = sum((points.line_points[index[n]] for n in a.effect.points_lines), 0)
        q.bonus_points[a.promotion.id] = floor_int(base * (m - 1))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def describe(q: Quote) -> dict:
    """The JSON view of a quote (what ``POST /v1/checkout/price`` answers)."""
    p = q.pricing
    reasons = {v.promotion_id: v for v in p.verdicts}
    applied_ids = {a.promotion.id for a in p.applied}
    codes = []
    for check in q.checks:
        entry = {"code": check.code, "status": check.error or "", "message": check.message}
        if check.usable:
            pid = check.coupon.promotion_id
            chosen = q.coupons.get(pid, (None,))[0] == check.code
            verdict = reasons.get(pid)
            if pid in applied_ids and chosen:
                entry.update(status="applied", message=f"unlocks {pid}")
            elif verdict is None:
                entry.update(status="promotion_inactive", message=f"{pid} is switched off")
            elif not chosen:
                entry.update(status="not_needed", message=f"another code already unlocks {pid}")
            else:
                entry.update(status="not_applied", message=str(verdict.reason))
            entry["promotion_id"] = pid
        codes.append(entry)
    lines = []
    for i, x in enumerate(p.cart.lines):
        discount = p.line_discounts.get(x.line_no, ZERO)
        lines.append(
            {
                "line_no": x.line_no,
                "product_id": x.product_id,
                "quantity": f"{x.quantity.normalize():f}",
                "unit_price": _money(x.unit_price),
                "amount": _money(x.value),
                "discount": _money(discount),
                "net_amount": _money(x.value - discount),
                "points": q.line_points[i] if q.line_points else 0,
            }
        )
    applied = [
        {
            "promotion_id": a.promotion.id,
            "name": a.promotion.name,
            "benefit": a.promotion.benefit.type,
            "amount": _money(a.effect.amount),
            "cost": _money(a.effect.cost),
            "code": a.code,
            "lines": [
                {"line_no": n, "amount": _money(v)}
                for n, v in sorted(a.effect.line_discounts.items())
            ],
            "gifts": [
                {"product_id": g.product_id, "quantity": g.quantity, "value": _money(g.value)}
                for g in a.effect.gifts
            ],
            "bonus_points": q.bonus_points.get(a.promotion.id, 0),
        }
        for a in p.applied
    ]
    return {
        "member_id": q.member.id if q.member is not None else None,
        "tier": q.member.tier if q.member is not None else None,
        "priced_at": p.cart.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "subtotal": _money(p.subtotal),
        "discount": _money(p.discount),
        "total": _money(p.total),
        "lines": lines,
        "applied": applied,
        "promotions": [
            {
                "promotion_id": v.promotion_id,
                "applied": v.applied,
                "reason": None if v.reason is None else v.reason.code,
                "message": None if v.reason is None else v.reason.message,
            }
            for v in p.verdicts
        ],
        "codes": codes,
        "points": {
            "earned": q.points,
            "bonus": sum(q.bonus_points.values()),
            "qualifying": q.qualifying_points,
        },
    }


def price(
    session: Session, data: CartInput, rules: Rules, *, now: dt.datetime | None = None
) -> dict:
    """Quote a cart (read-only): applied promotions, line discounts, totals, points, reasons.

    Raises
    ------
    InvalidRequestError
        Empty cart, bad quantities or prices, too many codes.
    MemberNotFoundError, MemberClosedError
        The cart names an unknown or closed member.
    """
    validate(data)
    at = data.at or now or utcnow()
    if not session.in_transaction():
        read_only(session)
    try:
        return describe(quote(session, data, rules, at))
    finally:
        session.rollback()


__all__ = ["CartInput", "ItemInput", "Quote", "describe", "price", "quote", "validate"]
