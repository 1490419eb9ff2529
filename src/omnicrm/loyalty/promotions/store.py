"""Promotions in the operational database: save, change, list, and load for pricing.

The stored ``definition`` (canonical JSON) is the source of truth; the row's columns mirror
what pricing filters on and hold the live counters (``uses``, ``budget_used``), which only
the order commit moves (:mod:`omnicrm.loyalty.orders`).

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.promotions import store
>>> session = memory_session()
>>> spec = {"id": "P10", "benefit": {"type": "percent_off", "percent": "10"}}
>>> store.save(session, spec, Context("admin"))["id"]
'P10'
>>> [p.id for p, _ in store.load(session)]
['P10']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.errors import InvalidRequestError
from omnicrm.loyalty.ledger import iso_utc
from omnicrm.loyalty.promotions.coupons import PromotionNotFoundError
from omnicrm.loyalty.promotions.definition import Promotion, parse_promotion
from omnicrm.loyalty.promotions.engine import Availability
from omnicrm.loyalty.promotions.models import AppliedPromotion, Coupon, PromotionRow

PATCHABLE = frozenset({"name", "active", "ends_at", "starts_at", "budget", "max_uses", "priority"})


def view(row: PromotionRow) -> dict:
    """The public view of a promotion: definition and live counters."""
    return {
        "id": row.id,
        "name": row.name,
        "definition": row.definition,
        "active": row.active,
        "priority": row.priority,
        "exclusive": row.exclusive,
        "group": row.stack_group,
        "requires_code": row.requires_code,
        "starts_at": iso_utc(row.starts_at),
        "ends_at": iso_utc(row.ends_at),
        "budget": None if row.budget is None else f"{row.budget:.2f}",
        "budget_used": f"{row.budget_used:.2f}",
        "max_uses": row.max_uses,
        "uses": row.uses,
        "per_customer": row.per_customer,
    }


def _mirror(row: PromotionRow, p: Promotion) -> None:
    row.name = p.name
    row.definition = dict(p.spec)
    row.priority = p.priority
    row.exclusive = p.exclusive
    row.stack_group = p.group
    row.requires_code = p.requires_code
    row.active = p.active
    row.starts_at = p.starts_at
    row.ends_at = p.ends_at
    row.budget = p.budget
    row.max_uses = p.max_uses
    row.per_customer = p.per_customer


def _check_counters(row: PromotionRow) -> None:
    if row.budget is not None and row.budget < row.budget_used:
        raise InvalidRequestError(
            f"budget {row.budget:.2f} is below what was already spent ({row.budget_used:.2f})",
            field="budget",
        )
    if row.max_uses is not None and row.max_uses < row.uses:
        raise InvalidRequestError(
            f"max_uses {row.max_uses} is below the uses so far ({row.uses})", field="max_uses"
        )


def save(
    session: Session,
    spec: Mapping[str, Any],
    ctx: operations.Context,
    *,
    replace_existing: bool = False,
) -> dict:
    """Create a promotion (or replace its definition, keeping its counters); audited, one commit.

    Raises
    ------
    InvalidRequestError
        Invalid definition, or the id exists and ``replace_existing`` is false.
    """
    replay = operations.start(session, ctx, "promotion")
    if replay is not None:
        return replay
    try:
        promotion = parse_promotion(spec)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), field="promotion") from None
    now = ctx.clock()
    row = session.get(PromotionRow, promotion.id, with_for_update=True)
    if row is not None and not replace_existing:
        raise InvalidRequestError(
            f"promotion {promotion.id!r} already exists; PATCH it or choose another id", field="id"
        )
    if row is None:
        row = PromotionRow(
            id=promotion.id, budget_used=Decimal("0.00"), uses=0, created_at=now, updated_at=now
        )
        session.add(row)
    _mirror(row, promotion)
    row.updated_at = now
    _check_counters(row)
    session.flush()
    return operations.finish(session, _audited(ctx), "promotion", view(row), target=promotion.id)


def _audited(ctx: operations.Context) -> operations.Context:
    return replace(ctx, audit=True)


def update(
    session: Session, promotion_id: str, changes: Mapping[str, Any], ctx: operations.Context
) -> dict:
    """Change a promotion's schedule, budget, limits, priority or name; audited, one commit."""
    replay = operations.start(session, ctx, "promotion_update")
    if replay is not None:
        return replay
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise InvalidRequestError(
            f"cannot change {', '.join(sorted(unknown))}; "
            f"changeable: {', '.join(sorted(PATCHABLE))} (create a new promotion for new rules)",
            field=sorted(unknown)[0],
        )
    row = session.get(PromotionRow, promotion_id, with_for_update=True)
    if row is None:
        raise PromotionNotFoundError(f"promotion {promotion_id!r} does not exist")
    spec = {**row.definition, **changes}
    spec = {k: v for k, v in spec.items() if v is not None}
    try:
        promotion = parse_promotion(spec)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), field="promotion") from None
    _mirror(row, promotion)
    row.updated_at = ctx.clock()
    _check_counters(row)
    return operations.finish(
        session, _audited(ctx), "promotion_update", view(row), target=promotion_id
    )


def get(session: Session, promotion_id: str) -> dict:
    row = session.get(PromotionRow, promotion_id)
    if row is None:
        raise PromotionNotFoundError(f"promotion {promotion_id!r} does not exist")
    return view(row)


def list_all(session: Session) -> list[dict]:
    rows = session.scalars(select(PromotionRow).order_by(PromotionRow.id))
    return [view(row) for row in rows]


# Built once (see omnicrm.loyalty.ledger): pricing runs these on every request.
_USES = (
    select(AppliedPromotion.promotion_id, func.count().label("uses"))
    .where(AppliedPromotion.member_id == bindparam("member_id"))
    .group_by(AppliedPromotion.promotion_id)
    .subquery()
)
_ACTIVE_WITH_USES = (
    select(PromotionRow, func.coalesce(_USES.c.uses, 0))
    .outerjoin(_USES, _USES.c.promotion_id == PromotionRow.id)
    .where(PromotionRow.active.is_(True))
    .order_by(PromotionRow.id)
    .execution_options(populate_existing=True)
)


def load(session: Session) -> list[tuple[Promotion, PromotionRow]]:
    """Every active promotion with its row, by id."""
    return load_with_uses(session, None)[0]


def load_with_uses(
    session: Session, member_id: str | None
) -> tuple[list[tuple[Promotion, PromotionRow]], dict[str, int]]:
    """:func:`load` and how often ``member_id`` already used each promotion, in one query.

    The uses count the member's applied promotions (what per-customer limits cap); a member
    who never used a promotion, or no member, has none. Pricing runs this on every request.
    """
    loaded: list[tuple[Promotion, PromotionRow]] = []
    uses: dict[str, int] = {}
    for row, n in session.execute(_ACTIVE_WITH_USES, {"member_id": member_id}):
        loaded.append((parse_promotion(row.definition), row))
        if n:
            uses[row.id] = int(n)
    return loaded, uses


def availability(
    rows: Sequence[PromotionRow],
    uses: Mapping[str, int],
    codes: Mapping[str, tuple[str, Coupon]],
) -> dict[str, Availability]:
    """Live limits of each promotion: what is left of its budget and uses, the member's own
    ``uses`` of it (from :func:`load_with_uses`), and the code presented for it (``codes``
    maps promotion id to (presented code, coupon row))."""
    return {
        row.id: Availability(
            budget_left=None if row.budget is None else row.budget - row.budget_used,
            uses_left=None if row.max_uses is None else row.max_uses - row.uses,
            customer_uses=uses.get(row.id, 0),
            code=codes[row.id][0] if row.id in codes else None,
        )
        for row in rows
    }
