"""``/v1/members/{member_id}/…``: earn, redeem, returns, bonus events, adjustments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import IdemKey, State, context, require
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.api.schemas.points import (
    AdjustmentPublic,
    AdjustmentRequest,
    EarnPublic,
    EarnRequest,
    EventPublic,
    EventRequest,
    RedeemPublic,
    RedeemRequest,
    ReturnPublic,
    ReturnRequest,
)
from omnicrm.loyalty import points, redemption, returns
from omnicrm.loyalty.earning import LineInput
from omnicrm.loyalty.points import DiscountInput, OrderInput
from omnicrm.loyalty.returns import ReturnInput, ReturnLine

router = APIRouter(prefix="/members/{member_id}", tags=["points"], responses=ERROR_RESPONSES)
MemberId = Annotated[str, Path(min_length=1, max_length=40)]


def _payload(member_id: str, body) -> dict:
    return {"member_id": member_id, **body.model_dump(mode="json")}


@router.post("/earn", status_code=status.HTTP_201_CREATED, response_model=EarnPublic)
def earn(
    member_id: MemberId,
    body: EarnRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("points:earn"))],
) -> dict:
    """Credit the points of a committed order (once per ``order_ref``)."""
    order = OrderInput(
        order_ref=body.order_ref,
        purchased_at=body.purchased_at,
        currency=body.currency,
        store_id=body.store_id,
        channel=body.channel,
        lines=[
            LineInput(x.product_id, x.category, x.brand, x.quantity, x.unit_price, x.amount)
            for x in body.lines
        ],
        discounts=[DiscountInput(d.code, d.amount, d.description) for d in body.discounts],
    )
    ctx = context(who, key, "earn", _payload(member_id, body))
    return state.db.run(lambda s: points.earn(s, member_id, order, ctx, state.rules))


@router.post("/redeem", status_code=status.HTTP_201_CREATED, response_model=RedeemPublic)
def redeem(
    member_id: MemberId,
    body: RedeemRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("points:redeem"))],
) -> dict:
    """Exchange points for a reward of the catalogue; returns the voucher."""
    ctx = context(who, key, "redeem", _payload(member_id, body))
    return state.db.run(
        lambda s: redemption.redeem(
            s,
            member_id,
            body.reward,
            ctx,
            state.rules,
            quantity=body.quantity,
            order_ref=body.order_ref,
        )
    )


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=ReturnPublic)
def return_lines(
    member_id: MemberId,
    body: ReturnRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("points:return"))],
) -> dict:
    """Claw back the points earned on returned lines (once per ``return_ref``)."""
    ret = ReturnInput(
        order_ref=body.order_ref,
        return_ref=body.return_ref,
        lines=[ReturnLine(x.amount, x.line_no, x.product_id) for x in body.lines],
    )
    ctx = context(who, key, "return", _payload(member_id, body))
    return state.db.run(lambda s: returns.return_lines(s, member_id, ret, ctx, state.rules))


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=EventPublic)
def bonus_event(
    member_id: MemberId,
    body: EventRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("points:events"))],
) -> dict:
    """Award the bonus of an event (sign_in, review, referral, birthday) within its limits."""
    ctx = context(who, key, "bonus", _payload(member_id, body))
    return state.db.run(
        lambda s: points.bonus(
            s,
            member_id,
            body.type,
            ctx,
            state.rules,
            reference=body.reference,
            occurred_at=body.occurred_at,
        )
    )


@router.post("/adjustments", status_code=status.HTTP_201_CREATED, response_model=AdjustmentPublic)
def adjust(
    member_id: MemberId,
    body: AdjustmentRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("points:adjust"))],
) -> dict:
    """Add or remove points by hand with a reason (admin only, audited)."""
    ctx = context(who, key, "adjust", _payload(member_id, body))
    return state.db.run(
        lambda s: points.adjust(s, member_id, body.points, body.reason, ctx, state.rules)
    )
