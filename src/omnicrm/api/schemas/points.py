"""Point operation schemas: earn, redeem, returns, bonus events, adjustments, ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from omnicrm.api.schemas.common import Money, Request, Text

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]


class OrderLineIn(Request):
    product_id: Text
    category: Text | None = None
    brand: Text | None = None
    quantity: Quantity
    unit_price: Money
    amount: Money = Field(description="Net amount paid for the line, after discounts")


class DiscountIn(Request):
    code: Text
    amount: Money
    description: Annotated[str, Field(max_length=200)] | None = None


class EarnRequest(Request):
    order_ref: Text = Field(description="The POS/e-shop order id; earns once")
    purchased_at: AwareDatetime
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    store_id: Text | None = None
    channel: Text | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=100)


class EarnPublic(BaseModel):
    member_id: str
    order_ref: str
    points_earned: int
    points_capped: int
    qualifying_points: int
    bonus_points: int
    line_points: list[int]
    balance: int
    tier: str
    entry_ids: list[int]


class RedeemRequest(Request):
    reward: Text = Field(description="Code from the rewards catalogue, e.g. CASH10")
    quantity: int = Field(default=1, ge=1, le=100)
    order_ref: Text | None = None


class RedeemPublic(BaseModel):
    member_id: str
    reward: str
    kind: str
    name: str
    quantity: int
    points: int
    value: Decimal | None
    product_id: str | None
    coupon: str | None
    voucher_code: str
    valid_until: dt.datetime | None
    balance: int
    entry_id: int


class ReturnLineIn(Request):
    line_no: int | None = Field(default=None, ge=1)
    product_id: Text | None = None
    amount: Money = Field(description="Amount refunded on this line")

    @model_validator(mode="after")
    def _one_locator(self) -> ReturnLineIn:
        if self.line_no is None and self.product_id is None:
            raise ValueError("give line_no or product_id")
        return self


class ReturnRequest(Request):
    order_ref: Text
    return_ref: Text = Field(description="The POS return id; processed once")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=1000)


class ReturnPublic(BaseModel):
    member_id: str
    order_ref: str
    return_ref: str
    refunded_amount: Decimal
    points_due: int
    points_clawed_back: int
    shortfall: int
    qualifying_points_reversed: int
    balance: int
    entry_id: int


class EventRequest(Request):
    type: Literal["sign_in", "review", "referral", "birthday"]
    reference: Text | None = Field(default=None, description="External id (review id …); once")
    occurred_at: AwareDatetime | None = None


class EventPublic(BaseModel):
    member_id: str
    type: str
    points: int
    balance: int
    entry_id: int


class AdjustmentRequest(Request):
    points: int = Field(
        description="Points to add (> 0) or remove (< 0)", ge=-10_000_000, le=10_000_000
    )
    reason: Annotated[str, Field(min_length=3, max_length=500)]

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentRequest:
        if self.points == 0:
            raise ValueError("points must not be 0")
        return self


class AdjustmentPublic(BaseModel):
    member_id: str
    points: int
    reason: str
    balance: int
    entry_id: int


class LotMovement(BaseModel):
    lot_id: int
    points: int


class LedgerEntryPublic(BaseModel):
    id: int
    seq: int
    kind: str
    points: int
    balance_after: int
    qualifying_points: int
    spend: Decimal
    occurred_at: dt.datetime
    created_at: dt.datetime
    reference: str | None
    reason: str | None
    actor: str
    lots: list[LotMovement]
    hash: str
    prev_hash: str


class LedgerPage(BaseModel):
    member_id: str
    entries: list[LedgerEntryPublic]
    next_before_seq: int | None
