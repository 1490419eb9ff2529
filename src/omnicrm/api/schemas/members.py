"""Member schemas: Create / Update (requests) and Public (responses)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from omnicrm.api.schemas.common import ConsentIn, ConsentState, Request, Text

Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9 ()-]{5,39}$")]


class MemberCreate(Request):
    customer_id: Text = Field(description="Warehouse customers.customer_id of this person")
    member_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{3,40}$")] | None = Field(
        default=None, description="Optional id to use (e.g. a card number); generated if absent"
    )
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    birthday: dt.date | None = None
    consents: list[ConsentIn] = Field(default_factory=list, max_length=20)


class MemberUpdate(Request):
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    birthday: dt.date | None = None
    status: Literal["active", "closed"] | None = None
    consents: list[ConsentIn] = Field(default_factory=list, max_length=20)


class ConsentChange(BaseModel):
    channel: str
    granted: bool
    source: str
    recorded_at: dt.datetime


class TierPublic(BaseModel):
    code: str
    name: str
    since: dt.datetime
    review_at: dt.datetime | None
    grace_until: dt.datetime | None
    earn_multiplier: str
    member_prices: bool


class ExpiringPoints(BaseModel):
    points: int
    expires_at: dt.datetime


class PointsPublic(BaseModel):
    balance: int = Field(description="Spendable points now (unexpired lots)")
    qualifying: int | str = Field(description="Qualifying points (or spend) in the tier period")
    qualification_metric: str
    expiring_soon: list[ExpiringPoints]
    expiring_within_days: int


class MemberPublic(BaseModel):
    member_id: str
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    birthday: dt.date | None
    status: str
    tier: TierPublic
    points: PointsPublic
    consents: dict[str, ConsentState]
    created_at: dt.datetime
    updated_at: dt.datetime
