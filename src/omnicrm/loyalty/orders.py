"""Order commit: coupons, promotion budgets and limits, applied discounts and points — one
transaction.

``commit`` re-prices the cart inside the transaction on the live state (it never trusts an
earlier quote), then consumes what the applied promotions need with conditional updates:

* each presented coupon: ``UPDATE loyalty_coupons SET uses = uses + 1 WHERE id = :id AND
  (max_uses IS NULL OR uses < max_uses)`` — a single-use code is used exactly once;
* each applied promotion: ``UPDATE loyalty_promotions SET uses = uses + 1, budget_used =
  budget_used + :cost WHERE id = :id AND (max_uses IS NULL OR uses < max_uses) AND (budget IS
  NULL OR budget_used + :cost <= budget)`` — the budget is never exceeded;
* per-member limits are counted under the member's row lock, taken first.

Rows are always taken in the same order (member, coupons by id, promotions by id), so
concurrent commits cannot deadlock; coupons and promotions — the rows every till shares — are
taken last, after the order, ledger and discounts are written, so each commit holds them only
for the end of its transaction (one round trip and the commit). When a promotion loses a
race for its budget or its last use, the whole attempt is rolled back and the order is
priced and written again without it; the promotion is reported ``budget_exhausted`` /
``uses_exhausted``.

**Price changes.** A commit always re-prices. If a promotion ran out between the quote and
the commit, the order is committed at the new price and says so (``repriced: true``,
``excluded`` lists the promotions that ran out) — unless the caller sends
``expected_total``: then a different total is refused with ``409 price_changed`` and nothing
is written, so the POS can show the new price first. Coupon codes are strict: an unknown,
expired, used or foreign code refuses the commit (nothing written); a valid code whose
promotion does not apply is not consumed.

Idempotency: the ``Idempotency-Key`` (or, when none is sent, ``order:<order_ref>``) replays
the stored result; an ``order_ref`` is committed once.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members, orders
>>> from omnicrm.loyalty.checkout import CartInput, ItemInput
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.promotions import store
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules, ctx = memory_session(), load_rules(), Context("pos")
>>> _ = store.save(session, {"id": "P1", "budget": "100.00",
...     "benefit": {"type": "amount_off", "amount": "30"}}, Context("admin"))
>>> m = members.enrol(session, members.MemberInput("C-7"), ctx, rules)["member_id"]
>>> cart = CartInput([ItemInput("SKU-1", Decimal(1), Decimal("99.90"))], member_id=m)
>>> r = orders.commit(session, "POS-1", orders.CommitInput(cart, ctx.clock()), ctx, rules)
>>> r["total"], r["points"]["earned"], r["applied"][0]["cost"]
('69.90', 69, '30.00')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import bindparam, insert, or_, select, union_all, update
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.checkout import CartInput, Quote, describe, quote, validate
from omnicrm.loyalty.earning import LineInput
from omnicrm.loyalty.errors import (
    DuplicateOrderError,
    IdempotencyConflictError,
    InvalidRequestError,
    LoyaltyError,
)
from omnicrm.loyalty.models import LoyaltyOrder, Member
from omnicrm.loyalty.operations import request_fingerprint
from omnicrm.loyalty.points import (
    CLOCK_SKEW,
    DiscountInput,
    OrderInput,
    _credit,
    prepare,
    record_order,
)
from omnicrm.loyalty.promotions.conditions import Reason
from omnicrm.loyalty.promotions.coupons import CouponError
from omnicrm.loyalty.promotions.models import AppliedPromotion, Coupon, CouponUse, PromotionRow
from omnicrm.loyalty.rules import Rules


class PriceChangedError(LoyaltyError):
    """The committed total differs from the total the caller expected (nothing written)."""

    code = "price_changed"
    field = "expected_total"


@dataclass(frozen=True)
class CommitInput:
    """An order to commit: the cart, when it was bought, and optionally the expected total."""

    cart: CartInput
    purchased_at: dt.datetime
    currency: str | None = None
    expected_total: Decimal | None = None


class _LostRaceError(Exception):
    """A conditional update found the promotion exhausted (another order got there first)."""

    def __init__(self, promotion_id: str, reason: Reason) -> None:
        super().__init__(promotion_id)
        self.promotion_id, self.reason = promotion_id, reason


def _refuse_bad_codes(q: Quote) -> None:
    for check in q.checks:
        if not check.usable:
            raise CouponError(check.error, f"code {check.code!r}: {check.message}")


# Built once with bound parameters (see omnicrm.loyalty.ledger): every commit runs them.
_COMMITTED = union_all(
    select(LoyaltyOrder.id).where(LoyaltyOrder.order_ref == bindparam("order_ref")),
    select(CouponUse.id).where(CouponUse.order_ref == bindparam("order_ref")),
    select(AppliedPromotion.id).where(AppliedPromotion.order_ref == bindparam("order_ref")),
).limit(1)
_TAKE_COUPON = (
    update(Coupon)
    .where(
        Coupon.id == bindparam("coupon_id"),
        or_(Coupon.max_uses.is_(None), Coupon.uses < Coupon.max_uses),
    )
    .values(uses=Coupon.uses + 1)
)
_COST = bindparam("cost", type_=PromotionRow.budget_used.type)
_TAKE_PROMOTION = (
    update(PromotionRow)
    .where(
        PromotionRow.id == bindparam("promotion_id"),
        or_(PromotionRow.max_uses.is_(None), PromotionRow.uses < PromotionRow.max_uses),
        or_(PromotionRow.budget.is_(None), PromotionRow.budget_used + _COST <= PromotionRow.budget),
    )
    .values(uses=PromotionRow.uses + 1, budget_used=PromotionRow.budget_used + _COST)
)
_INSERT_APPLIED = insert(AppliedPromotion.__table__)
_INSERT_COUPON_USE = insert(CouponUse.__table__)


def _consume(session: Session, q: Quote) -> None:
    """Take one use of every coupon and promotion the quote applies, in id order."""
    applied = sorted(q.pricing.applied, key=lambda a: a.promotion.id)
    coupons = sorted(
        (q.coupons[a.promotion.id][1] for a in applied if a.promotion.id in q.coupons),
        key=lambda c: c.id,
    )
    for coupon in coupons:
        taken = session.execute(_TAKE_COUPON, {"coupon_id": coupon.id}).rowcount
        if taken != 1:
            raise CouponError("coupon_used", f"code …{coupon.hint} was just used by another order")
    for a in applied:
        cost = a.effect.cost
        params = {"promotion_id": a.promotion.id, "cost": cost}
        taken = session.execute(_TAKE_PROMOTION, params).rowcount
        if taken != 1:
            row = session.execute(
                select(
                    PromotionRow.budget,
                    PromotionRow.budget_used,
                    PromotionRow.max_uses,
                    PromotionRow.uses,
                ).where(PromotionRow.id == a.promotion.id)
            ).one()
            if row.max_uses is not None and row.uses >= row.max_uses:
                reason = Reason("uses_exhausted", f"all {row.max_uses} uses are taken")
            else:
                left = Decimal(str(row.budget)) - Decimal(str(row.budget_used))
                reason = Reason(
                    "budget_exhausted", f"costs {cost:.2f}, only {left:.2f} of the budget is left"
                )
            raise _LostRaceError(a.promotion.id, reason)


def _record(
    session: Session, q: Quote, order_ref: str, order_id: int | None, now: dt.datetime
) -> None:
    member_id = q.member.id if q.member is not None else None
    applied, uses = [], []
    for a in q.pricing.applied:
        coupon = q.coupons.get(a.promotion.id, (None, None))[1]
        applied.append(
            {
                "order_ref": order_ref,
                "order_id": order_id,
                "member_id": member_id,
                "promotion_id": a.promotion.id,
                "coupon_id": coupon.id if coupon is not None else None,
                "benefit": a.promotion.benefit.type,
                "amount": a.effect.amount,
                "cost": a.effect.cost,
                "bonus_points": q.bonus_points.get(a.promotion.id, 0),
                "lines": {str(n): f"{v:.2f}" for n, v in sorted(a.effect.line_discounts.items())},
                "created_at": now,
            }
        )
        if coupon is not None:
            uses.append(
                {
                    "coupon_id": coupon.id,
                    "promotion_id": a.promotion.id,
                    "order_ref": order_ref,
                    "member_id": member_id,
                    "used_at": now,
                }
            )
    # Plain INSERTs of rows written once (see omnicrm.loyalty.ledger.append_entry).
    if applied:
        session.execute(_INSERT_APPLIED, applied)
    if uses:
        session.execute(_INSERT_COUPON_USE, uses)


def commit(
    session: Session, order_ref: str, data: CommitInput, ctx: operations.Context, rules: Rules
) -> dict:
    """Commit an order: re-price, consume coupons/budgets/limits, record discounts, earn points.

    One transaction, one commit. Returns the quote of what was committed plus ``order_ref``,
    ``repriced``, the member's ``balance`` and ``entry_ids``.

    Raises
    ------
    DuplicateOrderError
        ``order_ref`` was already committed.
    CouponError
        A presented code is unknown, expired, used or issued to another member.
    PriceChangedError
        ``expected_total`` was given and the re-priced total differs.
    InvalidRequestError, MemberNotFoundError, MemberClosedError
        Bad input or member.
    """
    implicit_key = ctx.idempotency_key is None
    if implicit_key:
        fingerprint = request_fingerprint("order_commit", {"order": order_ref, "data": repr(data)})
        ctx = replace(ctx, idempotency_key=f"order:{order_ref}", request_hash=fingerprint)
    excluded: dict[str, Reason] = {}
    while True:
        try:
            return _attempt(session, order_ref, data, ctx, rules, excluded, implicit_key)
        except _LostRaceError as lost:
            # Another order took the promotion's last budget or use between our read and our
            # update: start again from a clean transaction, without that promotion.
            session.rollback()
            excluded[lost.promotion_id] = lost.reason


def _attempt(
    session: Session,
    order_ref: str,
    data: CommitInput,
    ctx: operations.Context,
    rules: Rules,
    excluded: dict[str, Reason],
    implicit_key: bool,
) -> dict:
    """One try of :func:`commit`; raises :class:`_LostRaceError` if a promotion ran out."""
    member_id = data.cart.member_id
    try:
        if member_id is None:
            started = operations.Started(operations.start(session, ctx, "order_commit"), None)
        else:
            started = operations.start_locked(session, ctx, "order_commit", member_id)
    except IdempotencyConflictError:
        if not implicit_key:
            raise
        raise DuplicateOrderError(
            f"order {order_ref!r} was already committed with other contents", field="order_id"
        ) from None
    if started.replay is not None:
        return started.replay
    validate(data.cart)
    now = ctx.clock()
    if data.purchased_at > now + CLOCK_SKEW:
        raise InvalidRequestError(
            f"purchased_at {data.purchased_at.isoformat()} is in the future", field="purchased_at"
        )
    currency = data.currency or rules.earning.currency
    if currency != rules.earning.currency:
        raise InvalidRequestError(
            f"currency {currency!r} is not the programme currency {rules.earning.currency!r}",
            field="currency",
        )
    member = None
    if member_id is not None:
        member = prepare(session, member_id, ctx, rules, started=started)
    if session.scalar(_COMMITTED, {"order_ref": order_ref}) is not None:
        raise DuplicateOrderError(f"order {order_ref!r} was already committed", field="order_id")
    q = quote(session, data.cart, rules, data.purchased_at, member=member, excluded=excluded)
    _refuse_bad_codes(q)
    if data.expected_total is not None and data.expected_total != q.pricing.total:
        raise PriceChangedError(
            f"the order now totals {q.pricing.total:.2f}, not the expected "
            f"{data.expected_total:.2f} (a promotion changed, ended or ran out); "
            "price it again and confirm"
        )
    result = _write(session, q, order_ref, data, member, currency, ctx, rules, now)
    order_id = result.pop("order_id")
    result.update(repriced=bool(excluded), excluded=sorted(excluded))

    def last() -> None:
        # The applied discounts and coupon uses are unique per order: written inside
        # finish(), a concurrent commit of the same order resolves like a retried request.
        _record(session, q, order_ref, order_id, now)
        # Budgets and coupons are shared by every till: their rows are updated last, just
        # before the commit, so that each order holds their locks for one round trip.
        _consume(session, q)

    return operations.finish(session, ctx, "order_commit", result, target=order_ref, last=last)


def _write(
    session: Session,
    q: Quote,
    order_ref: str,
    data: CommitInput,
    member: Member | None,
    currency: str,
    ctx: operations.Context,
    rules: Rules,
    now: dt.datetime,
) -> dict:
    """Record the priced order: its points (when a member buys) and the applied discounts."""
    result = describe(q)
    order_id, entry_ids, balance = None, [], None
    if member is not None:
        lines = [
            LineInput(
                x.product_id,
                x.category,
                x.brand,
                x.quantity,
                x.unit_price,
                q.pricing.net(x.line_no, x.value),
            )
            for x in q.pricing.cart.lines
        ]
        discounts = [
            DiscountInput(a.promotion.id, a.effect.amount, a.promotion.name[:200])
            for a in q.pricing.applied
            if a.effect.amount > 0
        ]
        order = OrderInput(
            order_ref,
            lines,
            purchased_at=data.purchased_at,
            currency=currency,
            store_id=data.cart.store_id,
            channel=data.cart.channel,
            discounts=discounts,
        )
        earned, row = record_order(session, member, order, ctx, rules)
        order_id, entry_ids = row.id, list(earned["entry_ids"])
        for pid, extra in sorted(q.bonus_points.items()):
            if extra > 0:
                entry = _credit(
                    session,
                    member,
                    extra,
                    ctx,
                    rules,
                    kind="bonus",
                    order_id=row.id,
                    occurred_at=data.purchased_at,
                    reference=f"promotion:{pid}:{order_ref}",
                )
                entry_ids.append(entry.id)
        result["points"]["earned"] = earned["points_earned"]
        result["points"]["first_purchase_bonus"] = earned["bonus_points"]
        balance = member.points_balance
        result["tier"] = member.tier
    result.update(order_ref=order_ref, balance=balance, entry_ids=entry_ids, order_id=order_id)
    return result
