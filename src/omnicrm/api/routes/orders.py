"""``/v1/orders/{order_id}/commit``: commit an order with its promotions and coupons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import IdemKey, State, context, require
from omnicrm.api.routes.checkout import cart_input
from omnicrm.api.schemas.checkout import CommitPublic, CommitRequest
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.loyalty import orders

router = APIRouter(prefix="/orders", tags=["checkout"], responses=ERROR_RESPONSES)


@router.post("/{order_id}/commit", status_code=status.HTTP_201_CREATED, response_model=CommitPublic)
def commit(
    order_id: Annotated[str, Path(min_length=1, max_length=100)],
    body: CommitRequest,
    state: State,
    key: IdemKey,
    who: Annotated[Principal, Depends(require("orders:commit"))],
) -> dict:
    """Re-price the cart, use its coupons, consume promotion budgets and limits, record the
    discounts and earn the member's points — one transaction. Without an Idempotency-Key the
    order id is the key; an order is committed once."""
    data = orders.CommitInput(
        cart_input(body), body.purchased_at, body.currency, body.expected_total
    )
    ctx = context(who, key, "order_commit", {"order_id": order_id, **body.model_dump(mode="json")})
    return state.db.run(lambda s: orders.commit(s, order_id, data, ctx, state.rules))
