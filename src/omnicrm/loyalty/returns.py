"""Returns: claw back the points earned on returned order lines.

A return claws back the points its lines earned, in proportion to the amount
returned (cumulatively per line, so returning a whole line in parts claws back exactly what
it earned). Points come first from the lots the order created, then oldest-expiring first.
When the member has already spent them, only what remains is taken — the balance never goes
negative — and the difference is recorded on the order as ``clawback_shortfall`` for finance
to follow up. Qualifying points and spend are always reversed in full, dated at the original
purchase.

Examples
--------
>>> from decimal import Decimal
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members, points, returns
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules, ctx = memory_session(), load_rules(), Context("pos")
>>> m = members.enrol(session, members.MemberInput(customer_id="C-5"), ctx, rules)["member_id"]
>>> line = points.LineInput("SKU1", None, None, Decimal(2), Decimal("25.00"), Decimal("50.00"))
>>> _ = points.earn(session, m, points.OrderInput("O-1", [line], ctx.clock()), ctx, rules)
>>> ret = returns.ReturnInput("O-1", "R-1", [returns.ReturnLine(Decimal("25.00"), line_no=1)])
>>> r = returns.return_lines(session, m, ret, ctx, rules)
>>> r["points_clawed_back"], r["balance"]
(25, 125)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.earning import floor_int
from omnicrm.loyalty.errors import DuplicateReturnError, InvalidRequestError, OrderNotFoundError
from omnicrm.loyalty.ledger import append_entry, spendable_lots, take_points
from omnicrm.loyalty.models import LedgerEntry, LoyaltyOrder, OrderLine
from omnicrm.loyalty.points import ZERO, prepare
from omnicrm.loyalty.rules import Rules

__all__ = ["ReturnInput", "ReturnLine", "return_lines"]


@dataclass(frozen=True)
class ReturnLine:
    """Amount refunded on one line, found by ``line_no`` (1-based) or ``product_id``."""

    amount: Decimal
    line_no: int | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class ReturnInput:
    order_ref: str
    return_ref: str
    lines: Sequence[ReturnLine] = field(default_factory=tuple)


def _find_line(lines: Sequence[OrderLine], ret: ReturnLine, index: int) -> OrderLine:
    if ret.line_no is not None:
        found = [line for line in lines if line.line_no == ret.line_no]
    elif ret.product_id is not None:
        found = [line for line in lines if line.product_id == ret.product_id]
        if len(found) > 1:
            raise InvalidRequestError(
                f"product {ret.product_id!r} is on several lines of the order; "
                "send line_no instead",
                field=f"lines[{index}].product_id",
            )
    else:
        raise InvalidRequestError(
            "give line_no or product_id for each returned line", field=f"lines[{index}]"
        )
    if not found:
        raise InvalidRequestError(
            f"returned line {ret.line_no or ret.product_id!r} is not on the order",
            field=f"lines[{index}]",
        )
    return found[0]


def return_lines(
    session: Session, member_id: str, ret: ReturnInput, ctx: operations.Context, rules: Rules
) -> dict:
    """Claw back the points earned on returned lines (see the module's return policy)."""
    started = operations.start_locked(session, ctx, "return", member_id)
    if started.replay is not None:
        return started.replay
    if not ret.lines:
        raise InvalidRequestError("the return has no lines", field="lines")
    member = prepare(session, member_id, ctx, rules, started=started)
    now = ctx.clock()
    order = session.scalar(
        select(LoyaltyOrder).where(
            LoyaltyOrder.order_ref == ret.order_ref, LoyaltyOrder.member_id == member.id
        )
    )
    if order is None:
        raise OrderNotFoundError(f"order {ret.order_ref!r} of member {member_id!r} is not known")
    reference = f"return:{ret.order_ref}:{ret.return_ref}"
    if session.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.member_id == member.id, LedgerEntry.reference == reference
        )
    ):
        raise DuplicateReturnError(
            f"return {ret.return_ref!r} of order {ret.order_ref!r} was already processed"
        )
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    claw = claw_q = 0
    refunded = ZERO
    for i, r in enumerate(ret.lines):
        line = _find_line(lines, r, i)
        left = line.amount - line.returned_amount
        if r.amount <= 0 or r.amount > left:
            raise InvalidRequestError(
                f"line {line.line_no}: return amount {r.amount} must be > 0 and "
                f"<= {left} not yet returned",
                field=f"lines[{i}].amount",
            )
        before = line.returned_amount
        line.returned_amount = before + r.amount
        if line.amount > 0:
            target = floor_int(line.points * line.returned_amount / line.amount)
            claw += target - line.points_clawed_back
            line.points_clawed_back = target
            q_now = floor_int(line.qualifying_points * line.returned_amount / line.amount)
            claw_q += q_now - floor_int(line.qualifying_points * before / line.amount)
        refunded += r.amount
    lots = spendable_lots(session, member.id, now, first_order_id=order.id)
    available = sum(lot.remaining for lot in lots)
    taken = min(claw, available)
    entry = append_entry(
        session,
        member,
        kind="clawback",
        movements=take_points(lots, taken),
        now=now,
        actor=ctx.actor,
        occurred_at=order.purchased_at,
        qualifying_points=-claw_q,
        spend=-refunded,
        order_id=order.id,
        reference=reference,
        reason=None if taken == claw else f"{claw - taken} points already spent",
    )
    order.returned_amount += refunded
    order.points_clawed_back += taken
    order.clawback_shortfall += claw - taken
    result = {
        "member_id": member.id,
        "order_ref": order.order_ref,
        "return_ref": ret.return_ref,
        "refunded_amount": f"{refunded:.2f}",
        "points_due": claw,
        "points_clawed_back": taken,
        "shortfall": claw - taken,
        "qualifying_points_reversed": claw_q,
        "balance": member.points_balance,
        "entry_id": entry.id,
    }
    return operations.finish(session, ctx, "return", result, target=member.id)
