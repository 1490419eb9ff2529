"""Promotion and coupon schemas (Create / Update / Public)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

from omnicrm.api.schemas.common import Money, Request

PromotionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]


class PromotionCreate(Request):
    id: PromotionId
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    exclusive: bool = False
    group: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    requires_code: bool = False
    active: bool = True
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    budget: Money | None = None
    max_uses: int | None = Field(default=None, ge=1)
    per_customer: int | None = Field(default=None, ge=1)
    condition: dict[str, Any] = Field(
        default_factory=dict, description='e.g. {"categories": ["wine"], "min_spend": "200"}'
    )
    benefit: dict[str, Any] = Field(
        description='e.g. {"type": "spend_save", "every": "200", "save": "30"}'
    )


class PromotionUpdate(Request):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    active: bool | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    budget: Money | None = None
    max_uses: int | None = Field(default=None, ge=1)


class PromotionPublic(BaseModel):
    id: str
    name: str
    definition: dict[str, Any]
    active: bool
    priority: int
    exclusive: bool
    group: str | None
    requires_code: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    budget: Decimal | None
    budget_used: Decimal
    max_uses: int | None
    uses: int
    per_customer: int | None


class CouponCreate(Request):
    count: int = Field(default=1, ge=1, le=100_000, description="Single-use codes to generate")
    prefix: Annotated[str, Field(max_length=8)] = ""
    code: Annotated[str, Field(min_length=4, max_length=40)] | None = Field(
        default=None, description="A shared code instead of generated single-use codes"
    )
    max_uses: int | None = Field(default=None, ge=1, description="Uses of a shared code")
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    member_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class CouponBatchPublic(BaseModel):
    promotion_id: str
    batch: str
    kind: str
    max_uses: int | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    codes: list[str] = Field(description="Shown once; only their hashes are stored")
