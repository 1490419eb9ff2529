"""Checkout pricing and order commit schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from omnicrm.api.schemas.common import Money, Request, Text
from omnicrm.api.schemas.points import Quantity

Code = Annotated[str, Field(min_length=1, max_length=60)]


class CartLineIn(Request):
    product_id: Text
    category: Text | None = None
    brand: Text | None = None
    quantity: Quantity
    unit_price: Money = Field(description="Price of one unit before promotions")


class CartIn(Request):
    member_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    channel: Text | None = None
    store_id: Text | None = None
    lines: list[CartLineIn] = Field(min_length=1, max_length=1000)
    codes: list[Code] = Field(default_factory=list, max_length=20, description="Coupon codes")
    segments: list[Text] = Field(
        default_factory=list, max_length=50, description="Customer segments (e.g. from scores)"
    )


class PriceRequest(CartIn):
    at: AwareDatetime | None = Field(default=None, description="Price as of; default now")


class CommitRequest(CartIn):
    purchased_at: AwareDatetime
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    expected_total: Money | None = Field(
        default=None,
        description="Total the customer was shown; a different total is refused (409 "
        "price_changed) instead of committed",
    )


class LineQuote(BaseModel):
    line_no: int
    product_id: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    discount: Decimal
    net_amount: Decimal
    points: int


class LineDiscount(BaseModel):
    line_no: int
    amount: Decimal


class GiftOut(BaseModel):
    product_id: str
    quantity: int
    value: Decimal


class AppliedOut(BaseModel):
    promotion_id: str
    name: str
    benefit: str
    amount: Decimal = Field(description="Money off the cart")
    cost: Decimal = Field(description="Money off + gift value (for ROI)")
    code: str | None
    lines: list[LineDiscount]
    gifts: list[GiftOut]
    bonus_points: int


class VerdictOut(BaseModel):
    promotion_id: str
    applied: bool
    reason: str | None = Field(description="Machine-readable, e.g. min_spend_not_met")
    message: str | None = Field(description="e.g. spend 180.00 of 200.00")


class CodeOut(BaseModel):
    code: str
    status: str = Field(description="applied, not_applied, unknown_code, coupon_expired …")
    message: str | None
    promotion_id: str | None = None


class PointsOut(BaseModel):
    earned: int
    bonus: int = Field(description="Extra points of points-multiplier promotions")
    qualifying: int
    first_purchase_bonus: int | None = None


class PricePublic(BaseModel):
    member_id: str | None
    tier: str | None
    priced_at: dt.datetime
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    lines: list[LineQuote]
    applied: list[AppliedOut]
    promotions: list[VerdictOut]
    codes: list[CodeOut]
    points: PointsOut


class CommitPublic(PricePublic):
    order_ref: str
    repriced: bool = Field(description="A promotion ran out between quote and commit")
    excluded: list[str] = Field(description="Promotions that ran out during the commit")
    balance: int | None
    entry_ids: list[int]
