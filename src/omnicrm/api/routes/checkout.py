"""``/v1/checkout/price``: quote a cart — promotions, coupons, line discounts, points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from omnicrm.api.core.security import Principal
from omnicrm.api.deps import State, require
from omnicrm.api.schemas.checkout import CartIn, PricePublic, PriceRequest
from omnicrm.api.schemas.common import ERROR_RESPONSES
from omnicrm.loyalty import checkout
from omnicrm.loyalty.checkout import CartInput, ItemInput

router = APIRouter(prefix="/checkout", tags=["checkout"], responses=ERROR_RESPONSES)


def cart_input(body: CartIn, at=None) -> CartInput:
    """The service's cart from a request body."""
    return CartInput(
        items=[
            ItemInput(x.product_id, x.quantity, x.unit_price, x.category, x.brand)
            for x in body.lines
        ],
        member_id=body.member_id,
        channel=body.channel,
        store_id=body.store_id,
        codes=list(body.codes),
        segments=list(body.segments),
        at=at,
    )


@router.post("/price", response_model=PricePublic)
def price(
    body: PriceRequest,
    state: State,
    who: Annotated[Principal, Depends(require("checkout:price"))],
) -> dict:
    """Price a cart: applied promotions, exact line discounts, totals, the points it will
    earn, and for every candidate promotion why it did or did not apply. Writes nothing."""
    cart = cart_input(body, body.at)
    return state.db.read(lambda s: checkout.price(s, cart, state.rules))
