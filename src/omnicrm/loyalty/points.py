"""Point services: earn on an order, bonus events, admin adjustments.

Each function is one business operation: it takes the member's row lock, first applies what
is due (lot expiry, tier review), changes rows through :mod:`omnicrm.loyalty.ledger` helpers
and commits once through :func:`omnicrm.loyalty.operations.finish`.

Returns are in :mod:`omnicrm.loyalty.returns`.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members, points
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules, ctx = memory_session(), load_rules(), Context("pos")
>>> m = members.enrol(session, members.MemberInput(customer_id="C-9"), ctx, rules)
>>> line = points.LineInput("SKU1", "grocery", None, Decimal(1), Decimal("99.90"), Decimal("99.90"))
>>> order = points.OrderInput("POS-1", [line], purchased_at=ctx.clock())
>>> result = points.earn(session, m["member_id"], order, ctx, rules)
>>> result["points_earned"], result["bonus_points"], result["balance"]
(99, 100, 199)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.earning import LineInput, quote_order
from omnicrm.loyalty.errors import (
    DuplicateOrderError,
    InvalidRequestError,
    LimitReachedError,
    MemberClosedError,
    NotEligibleError,
)
from omnicrm.loyalty.ledger import (
    append_entry,
    expire_due,
    member_not_found,
    new_lot,
    spendable_lots,
    take_points,
)
from omnicrm.loyalty.models import LedgerEntry, LoyaltyOrder, Member, OrderDiscount, OrderLine
from omnicrm.loyalty.rules import BonusRule, Rules
from omnicrm.loyalty.tiers import (
    EPSILON,
    qualification_decimal,
    qualification_sum,
    qualification_window,
    review_if_due,
    upgrade_if_qualified,
)

__all__ = [
    "DiscountInput",
    "LineInput",
    "OrderInput",
    "adjust",
    "bonus",
    "earn",
    "prepare",
    "record_order",
    "validate_order",
]

CLOCK_SKEW = dt.timedelta(minutes=10)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DiscountInput:
    """A discount already applied to the order (recorded for checkout pricing and reports)."""

    code: str
    amount: Decimal
    description: str | None = None


@dataclass(frozen=True)
class OrderInput:
    """A committed order. Line amounts are net amounts paid (after discounts)."""

    order_ref: str
    lines: Sequence[LineInput]
    purchased_at: dt.datetime
    currency: str | None = None
    store_id: str | None = None
    channel: str | None = None
    discounts: Sequence[DiscountInput] = ()


def prepare(
    session: Session,
    member_id: str,
    ctx: operations.Context,
    rules: Rules,
    *,
    started: operations.Started,
) -> Member:
    """Apply what is due to the member (expiry, tier review) and refuse a closed one.

    ``started`` comes from :func:`omnicrm.loyalty.operations.start_locked`, which read the
    member and took its row lock; a missing member is reported here, after the caller's own
    input checks.
    """
    now = ctx.clock()
    if started.member is None:
        raise member_not_found(member_id)
    member = started.member
    expire_due(session, member, now, actor="system")
    review_if_due(session, member, rules, now)
    if member.status != "active":
        raise MemberClosedError(
            f"member {member_id!r} is {member.status}; reopen it with PATCH status=active"
        )
    return member


def _local_bounds(at: dt.datetime, rules: Rules, unit: str) -> tuple[dt.datetime, dt.datetime]:
    tz = rules.earning.timezone
    local = at.astimezone(tz)
    if unit == "day":
        start = dt.datetime.combine(local.date(), dt.time(), tzinfo=tz)
        end = start + dt.timedelta(days=1)
    else:
        start = dt.datetime(local.year, 1, 1, tzinfo=tz)
        end = dt.datetime(local.year + 1, 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


_SUM_POINTS = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
    LedgerEntry.member_id == bindparam("member_id"),
    LedgerEntry.kind == bindparam("kind"),
    LedgerEntry.occurred_at >= bindparam("start"),
    LedgerEntry.occurred_at < bindparam("end"),
)


def _sum_points(
    session: Session, member_id: str, kind: str, start: dt.datetime, end: dt.datetime
) -> int:
    params = {"member_id": member_id, "kind": kind, "start": start, "end": end}
    return int(session.execute(_SUM_POINTS, params).scalar_one())


def _credit(
    session: Session,
    member: Member,
    points: int,
    ctx: operations.Context,
    rules: Rules,
    *,
    kind: str,
    order_id: int | None = None,
    **entry: object,
) -> LedgerEntry:
    now = ctx.clock()
    movements = []
    if points > 0:
        expires_at = rules.earning.expiry.expires_at(now, rules.earning.timezone)
        movements.append(
            new_lot(session, member, points, now=now, expires_at=expires_at, order_id=order_id)
        )
    return append_entry(
        session,
        member,
        kind=kind,
        movements=movements,
        now=now,
        actor=ctx.actor,
        order_id=order_id,
        **entry,
    )


def _award_bonus(
    session: Session,
    member: Member,
    rule: BonusRule,
    at: dt.datetime,
    ctx: operations.Context,
    rules: Rules,
    external_ref: str | None,
) -> LedgerEntry:
    """Check the rule's limits and credit its points (no commit)."""
    prefix = f"{rule.event}:"
    base = (
        select(func.count())
        .select_from(LedgerEntry)
        .where(
            LedgerEntry.member_id == member.id,
            LedgerEntry.kind == "bonus",
            LedgerEntry.reference.startswith(prefix, autoescape=True),
        )
    )
    if external_ref is not None:
        seen = session.execute(
            base.where(LedgerEntry.reference == prefix + external_ref)
        ).scalar_one()
        if seen:
            raise LimitReachedError(
                f"{rule.event} bonus for reference {external_ref!r} was already awarded",
                field="reference",
            )
    limits = [
        ("max_total", rule.max_total, None),
        ("max_per_year", rule.max_per_year, "year"),
        ("max_per_day", rule.max_per_day, "day"),
    ]
    for name, limit, unit in limits:
        if limit is None:
            continue
        stmt = base
        if unit is not None:
            start, end = _local_bounds(at, rules, unit)
            stmt = base.where(LedgerEntry.occurred_at >= start, LedgerEntry.occurred_at < end)
        if session.execute(stmt).scalar_one() >= limit:
            period = {"max_total": "in total", "max_per_year": "this year", "max_per_day": "today"}[
                name
            ]
            raise LimitReachedError(
                f"{rule.event} bonus already awarded {limit} time(s) {period} "
                f"({name} = {limit} in earning.toml)"
            )
    return _credit(
        session,
        member,
        rule.points,
        ctx,
        rules,
        kind="bonus",
        occurred_at=at,
        reference=prefix + (external_ref or f"{at:%Y%m%dT%H%M%S.%f}"),
    )


def earn(
    session: Session, member_id: str, order: OrderInput, ctx: operations.Context, rules: Rules
) -> dict:
    """Credit the points of a committed order (and the first-purchase bonus); one commit.

    Raises
    ------
    DuplicateOrderError
        ``order_ref`` already earned points.
    InvalidRequestError
        Wrong currency, empty order, future purchase time or negative amounts.
    """
    started = operations.start_locked(session, ctx, "earn", member_id)
    if started.replay is not None:
        return started.replay
    validate_order(order, ctx, rules)
    member = prepare(session, member_id, ctx, rules, started=started)
    result, _ = record_order(session, member, order, ctx, rules)
    return operations.finish(session, ctx, "earn", result, target=member.id)


def validate_order(order: OrderInput, ctx: operations.Context, rules: Rules) -> None:
    """Refuse a wrong currency, an empty order, a future purchase time, negative amounts."""
    now = ctx.clock()
    currency = order.currency or rules.earning.currency
    if currency != rules.earning.currency:
        raise InvalidRequestError(
            f"currency {currency!r} is not the programme currency "
            f"{rules.earning.currency!r}; convert the order first",
            field="currency",
        )
    if not order.lines:
        raise InvalidRequestError("the order has no lines; send at least one line", field="lines")
    if order.purchased_at > now + CLOCK_SKEW:
        raise InvalidRequestError(
            f"purchased_at {order.purchased_at.isoformat()} is in the future", field="purchased_at"
        )
    for i, line in enumerate(order.lines):
        if line.amount < 0 or line.quantity <= 0 or line.unit_price < 0:
            raise InvalidRequestError(
                f"line {i + 1}: amount, unit_price must be >= 0 and quantity > 0; "
                "send returns to /returns",
                field=f"lines[{i}]",
            )


@dataclass(frozen=True)
class OrderFacts:
    """What earning on an order needs to know beforehand, read in one statement.

    Attributes
    ----------
    owner : str or None
        The member whose order already has this ``order_ref`` (``None``: a new order).
    has_orders : bool
        Whether the member has any order yet (if not, this is the first purchase).
    earned_today : int
        Purchase points earned on the order's local day (for the daily cap).
    qualification : Decimal
        The member's qualification value for tiers (points or spend) over the period ending
        now, before this order.
    qualification_window : tuple of datetime
        That period, ``[start, end)``.
    """

    owner: str | None
    has_orders: bool
    earned_today: int
    qualification: Decimal
    qualification_window: tuple[dt.datetime, dt.datetime]


_INSERT_ORDER = insert(LoyaltyOrder.__table__)
_INSERT_LINE = insert(OrderLine.__table__)
_INSERT_DISCOUNT = insert(OrderDiscount.__table__)


@functools.cache
def _order_facts_query(metric: str) -> Select:
    """The one query of :func:`_order_facts` (built once per tier metric)."""
    member = bindparam("member_id")
    owner = select(LoyaltyOrder.member_id).where(LoyaltyOrder.order_ref == bindparam("order_ref"))
    earned = _SUM_POINTS.params(kind="earn")
    return select(
        owner.scalar_subquery(),
        select(LoyaltyOrder.id).where(LoyaltyOrder.member_id == member).exists(),
        earned.scalar_subquery(),
        qualification_sum(metric).scalar_subquery(),
    )


def _order_facts(
    session: Session, member: Member, order: OrderInput, rules: Rules, now: dt.datetime
) -> OrderFacts:
    day_start, day_end = _local_bounds(order.purchased_at, rules, "day")
    window = qualification_window(rules, now + EPSILON)
    params = {
        "member_id": member.id,
        "order_ref": order.order_ref,
        "start": day_start,
        "end": day_end,
        "window_start": window[0],
        "window_end": window[1],
    }
    row = session.execute(_order_facts_query(rules.tiers.metric), params).one()
    return OrderFacts(
        owner=row[0],
        has_orders=bool(row[1]),
        earned_today=int(row[2]),
        qualification=qualification_decimal(row[3], rules),
        qualification_window=window,
    )


def record_order(
    session: Session,
    member: Member,
    order: OrderInput,
    ctx: operations.Context,
    rules: Rules,
) -> tuple[dict, LoyaltyOrder]:
    """Store a validated order and credit its points; the caller holds the member's lock
    (:func:`prepare`) and commits. Returns the earn result and the order row."""
    now = ctx.clock()
    currency = order.currency or rules.earning.currency
    facts = _order_facts(session, member, order, rules, now)
    if facts.owner is not None:
        raise DuplicateOrderError(f"order {order.order_ref!r} already earned points")
    tier = rules.tiers.get(member.tier)
    quote = quote_order(order.lines, rules.earning, tier, earned_today=facts.earned_today)
    total = sum((line.amount for line in order.lines), ZERO)
    values = {
        "member_id": member.id,
        "order_ref": order.order_ref,
        "store_id": order.store_id,
        "channel": order.channel,
        "currency": currency,
        "purchased_at": order.purchased_at,
        "total_amount": total,
        "points_earned": quote.points,
        "qualifying_points": quote.qualifying_points,
        "returned_amount": ZERO,
        "points_clawed_back": 0,
        "clawback_shortfall": 0,
        "created_at": now,
    }
    # Plain INSERTs (see append_entry): the rows are written once and not read back here.
    order_id = session.execute(_INSERT_ORDER, values).inserted_primary_key[0]
    row = LoyaltyOrder(id=order_id, **values)
    session.execute(
        _INSERT_LINE,
        [
            {
                "order_id": order_id,
                "line_no": i + 1,
                "product_id": line.product_id,
                "category": line.category,
                "brand": line.brand,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "points": quote.line_points[i],
                "qualifying_points": quote.line_qualifying[i],
                "returned_amount": ZERO,
                "points_clawed_back": 0,
            }
            for i, line in enumerate(order.lines)
        ],
    )
    if order.discounts:
        session.execute(
            _INSERT_DISCOUNT,
            [
                {
                    "order_id": order_id,
                    "code": d.code,
                    "amount": d.amount,
                    "description": d.description,
                }
                for d in order.discounts
            ],
        )
    entry = _credit(
        session,
        member,
        quote.points,
        ctx,
        rules,
        kind="earn",
        order_id=order_id,
        occurred_at=order.purchased_at,
        qualifying_points=quote.qualifying_points,
        spend=total,
        reference=f"order:{order.order_ref}",
    )
    entries = [entry.id]
    bonus_points = 0
    rule = rules.earning.bonuses.get("first_purchase")
    if not facts.has_orders and rule is not None:
        bonus_entry = _award_bonus(
            session, member, rule, order.purchased_at, ctx, rules, external_ref=order.order_ref
        )
        bonus_points = bonus_entry.points
        entries.append(bonus_entry.id)
    window_start, window_end = facts.qualification_window
    counted = window_start <= order.purchased_at < window_end
    this_order = (
        Decimal(quote.qualifying_points if rules.tiers.metric == "qualifying_points" else total)
        if counted
        else ZERO
    )
    upgrade_if_qualified(session, member, rules, now, value=facts.qualification + this_order)
    result = {
        "member_id": member.id,
        "order_ref": order.order_ref,
        "points_earned": quote.points,
        "points_capped": quote.uncapped_points - quote.points,
        "qualifying_points": quote.qualifying_points,
        "bonus_points": bonus_points,
        "line_points": list(quote.line_points),
        "balance": member.points_balance,
        "tier": member.tier,
        "entry_ids": entries,
    }
    return result, row


def bonus(
    session: Session,
    member_id: str,
    event: str,
    ctx: operations.Context,
    rules: Rules,
    *,
    reference: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict:
    """Award the bonus of an event (``sign_in``, ``review``, ``referral``, ``birthday``)."""
    started = operations.start_locked(session, ctx, "bonus", member_id)
    if started.replay is not None:
        return started.replay
    rule = rules.earning.bonuses.get(event)
    if event == "first_purchase":
        raise InvalidRequestError(
            "first_purchase is awarded automatically with the first order", field="type"
        )
    if rule is None:
        known = ", ".join(e for e in rules.earning.bonuses if e != "first_purchase")
        raise InvalidRequestError(
            f"bonus event {event!r} is not configured; known: {known}", field="type"
        )
    member = prepare(session, member_id, ctx, rules, started=started)
    at = occurred_at or ctx.clock()
    if at > ctx.clock() + CLOCK_SKEW:
        raise InvalidRequestError(
            f"occurred_at {at.isoformat()} is in the future", field="occurred_at"
        )
    if rule.birthday_month_only:
        local = at.astimezone(rules.earning.timezone)
        if member.birthday is None or member.birthday.month != local.month:
            raise NotEligibleError(
                f"the birthday bonus is only given in the member's birthday month "
                f"(birthday: {member.birthday or 'not set'})",
                field="type",
            )
    entry = _award_bonus(session, member, rule, at, ctx, rules, reference)
    result = {
        "member_id": member.id,
        "type": event,
        "points": entry.points,
        "balance": member.points_balance,
        "entry_id": entry.id,
    }
    return operations.finish(session, ctx, "bonus", result, target=member.id)


def adjust(
    session: Session,
    member_id: str,
    points: int,
    reason: str,
    ctx: operations.Context,
    rules: Rules,
) -> dict:
    """Add (> 0) or remove (< 0) points by hand with a reason; always audited; one commit."""
    started = operations.start_locked(session, ctx, "adjust", member_id)
    if started.replay is not None:
        return started.replay
    if points == 0:
        raise InvalidRequestError("points must be a non-zero whole number", field="points")
    if not reason or not reason.strip():
        raise InvalidRequestError("a reason is required for every adjustment", field="reason")
    member = prepare(session, member_id, ctx, rules, started=started)
    now = ctx.clock()
    if points > 0:
        entry = _credit(session, member, points, ctx, rules, kind="adjust", reason=reason)
    else:
        movements = take_points(spendable_lots(session, member.id, now, points=-points), -points)
        entry = append_entry(
            session,
            member,
            kind="adjust",
            movements=movements,
            now=now,
            actor=ctx.actor,
            reason=reason,
        )
    result = {
        "member_id": member.id,
        "points": entry.points,
        "reason": reason,
        "balance": member.points_balance,
        "entry_id": entry.id,
    }
    audited = replace(ctx, audit=True)
    return operations.finish(session, audited, "adjust", result, target=member.id)
