"""Redeem points against the rewards catalogue (``rewards.toml``).

A redemption takes ``points * quantity`` from the member's lots, oldest-expiring first, and
issues a voucher code the POS or app hands to the customer (cash-off amount, coupon type and
validity, or the product to give). Checkout pricing will honour these vouchers later; the
voucher code is unique and stored with the redemption.

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members, points, redemption
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules, ctx = memory_session(), load_rules(), Context("admin")
>>> m = members.enrol(session, members.MemberInput(customer_id="C-2"), ctx, rules)
>>> _ = points.adjust(session, m["member_id"], 1500, "welcome gift", ctx, rules)
>>> r = redemption.redeem(session, m["member_id"], "CASH10", ctx, rules)
>>> r["points"], r["value"], r["balance"]
(1000, '10.00', 500)
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import insert
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.errors import InsufficientPointsError, InvalidRequestError, NotEligibleError
from omnicrm.loyalty.ledger import append_entry, iso_utc, spendable_lots, take_points
from omnicrm.loyalty.models import Redemption
from omnicrm.loyalty.points import prepare
from omnicrm.loyalty.rules import Rules

MAX_QUANTITY = 100


def voucher_code() -> str:
    """A fresh, unguessable voucher code such as ``V-7K2M9QX4TB3D``."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "V-" + "".join(secrets.choice(alphabet) for _ in range(12))


_INSERT_REDEMPTION = insert(Redemption.__table__)


def redeem(
    session: Session,
    member_id: str,
    reward_code: str,
    ctx: operations.Context,
    rules: Rules,
    *,
    quantity: int = 1,
    order_ref: str | None = None,
) -> dict:
    """Exchange points for ``quantity`` of a reward; one commit.

    Raises
    ------
    InvalidRequestError
        Unknown reward or quantity out of range.
    NotEligibleError
        The member's tier is below the reward's ``min_tier``.
    InsufficientPointsError
        The member's spendable balance is below the price.
    """
    started = operations.start_locked(session, ctx, "redeem", member_id)
    if started.replay is not None:
        return started.replay
    reward = rules.rewards.get(reward_code)
    if reward is None:
        known = ", ".join(sorted(rules.rewards))
        raise InvalidRequestError(
            f"reward {reward_code!r} is not in the catalogue; known: {known}", field="reward"
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidRequestError(
            f"quantity {quantity} must be between 1 and {MAX_QUANTITY}", field="quantity"
        )
    member = prepare(session, member_id, ctx, rules, started=started)
    now = ctx.clock()
    if reward.min_tier is not None:
        needed = rules.tiers.get(reward.min_tier)
        if rules.tiers.get(member.tier).rank < needed.rank:
            raise NotEligibleError(
                f"reward {reward.code} needs tier {needed.code} or above; "
                f"the member is {member.tier}",
                field="reward",
            )
    cost = reward.points * quantity
    lots = spendable_lots(session, member.id, now, points=cost)
    have = sum(lot.remaining for lot in lots)
    if have < cost:
        raise InsufficientPointsError(
            f"member {member.id} has {have} spendable points; "
            f"{quantity} x {reward.code} costs {cost}"
        )
    entry = append_entry(
        session,
        member,
        kind="redeem",
        movements=take_points(lots, cost),
        now=now,
        actor=ctx.actor,
        reference=f"reward:{reward.code}",
    )
    value = reward.value * quantity if reward.value is not None else None
    voucher = voucher_code()
    session.execute(
        _INSERT_REDEMPTION,
        {
            "member_id": member.id,
            "entry_id": entry.id,
            "reward_code": reward.code,
            "kind": reward.kind,
            "quantity": quantity,
            "points": cost,
            "value": value,
            "voucher_code": voucher,
            "order_ref": order_ref,
            "created_at": now,
        },
    )
    valid_until = now + dt.timedelta(days=reward.valid_days) if reward.valid_days else None
    result = {
        "member_id": member.id,
        "reward": reward.code,
        "kind": reward.kind,
        "name": reward.name,
        "quantity": quantity,
        "points": cost,
        "value": f"{value:.2f}" if value is not None else None,
        "product_id": reward.product_id,
        "coupon": reward.coupon,
        "voucher_code": voucher,
        "valid_until": iso_utc(valid_until),
        "balance": member.points_balance,
        "entry_id": entry.id,
    }
    return operations.finish(session, ctx, "redeem", result, target=member.id)
