"""Types shared by request and response schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=14,
        decimal_places=2,
        description="Amount with at most 2 decimals, e.g. 128.50",
    ),
]
Channel = Literal["email", "sms", "push", "marketing"]
Text = Annotated[str, Field(min_length=1, max_length=100)]


class Request(BaseModel):
    """Base of request bodies: unknown fields are refused (typos do not pass silently)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentIn(Request):
    channel: Channel
    granted: bool
    source: Text = Field(description="Where the consent was given: pos, app, web, agent id …")


class ConsentState(BaseModel):
    granted: bool
    source: str
    recorded_at: dt.datetime


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. insufficient_points")
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Malformed JSON",
        401: "Missing or invalid API key",
        403: "Scope not allowed",
        404: "Unknown member or order",
        409: "Conflict with the current state",
        422: "Invalid input",
        429: "Rate limited",
    }.items()
}
