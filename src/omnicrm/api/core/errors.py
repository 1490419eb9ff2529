"""One error envelope for every failure: ``{"error": {"code", "message", "field"}}``.

Domain errors keep their code; the HTTP status comes from :data:`STATUS_BY_CODE`. Malformed
JSON, schema violations, unknown routes, auth and rate limits get codes of their own. An
unexpected exception is logged and answered ``500 internal_error`` without details.

Examples
--------
>>> from omnicrm.api.core.errors import envelope
>>> envelope("member_not_found", "no member 'm_1'", "member_id")
{'error': {'code': 'member_not_found', 'message': "no member 'm_1'", 'field': 'member_id'}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnicrm.db.engine import is_retryable
from omnicrm.errors import InputError
from omnicrm.loyalty.errors import LoyaltyError

log = logging.getLogger("omnicrm.api")

STATUS_BY_CODE = {
    "member_not_found": 404,
    "order_not_found": 404,
    "member_exists": 409,
    "duplicate_order": 409,
    "duplicate_return": 409,
    "insufficient_points": 409,
    "limit_reached": 409,
    "idempotency_key_reused": 409,
    "member_closed": 409,
    "not_eligible": 403,
    "invalid_request": 422,
    "promotion_not_found": 404,
    "unknown_code": 404,
    "coupon_used": 409,
    "coupon_expired": 409,
    "coupon_not_yet_valid": 409,
    "coupon_not_for_member": 403,
    "duplicate_code": 422,
    "price_changed": 409,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error raised by the API layer itself (auth, scope, headers, rate limit)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def envelope(code: str, message: str, field: str | None = None) -> dict:
    """The JSON body of an error response."""
    return {"error": {"code": code, "message": message, "field": field}}


def _respond(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(envelope(code, message, field), status_code=status, headers=headers)


def _field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"type": "", "loc": (), "msg": "invalid request"}
    if first["type"] == "json_invalid":
        reason = first.get("ctx", {}).get("error", "syntax error")
        return _respond(
            400,
            "malformed_json",
            f"request body is not valid JSON ({reason}); "
            "send a JSON object with Content-Type: application/json",
        )
    field = _field(tuple(first["loc"]))
    value = first.get("input")
    shown = "" if first["type"] == "missing" or isinstance(value, dict) else f" (got {value!r})"
    message = f"{field or 'body'}: {first['msg']}{shown}"
    if len(errors) > 1:
        message += f"; and {len(errors) - 1} more problem(s)"
    code = "missing_field" if first["type"] == "missing" else "invalid_input"
    return _respond(422, code, message, field)


async def _domain(_: Request, exc: LoyaltyError) -> JSONResponse:
    return _respond(STATUS_BY_CODE.get(exc.code, 422), exc.code, exc.message, exc.field)


async def _input(_: Request, exc: InputError) -> JSONResponse:
    return _respond(422, "invalid_request", str(exc))


async def _api(_: Request, exc: ApiError) -> JSONResponse:
    return _respond(exc.status, exc.code, exc.message, exc.field, exc.headers)


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = "no such endpoint; see /docs for the API"
    elif exc.status_code == 405:
        message = "method not allowed on this endpoint; see /docs for the API"
    return _respond(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
    if isinstance(exc, IntegrityError):
        return _respond(409, "conflict", "a concurrent request changed the same data; retry")
    if is_retryable(exc):
        return _respond(
            503,
            "busy",
            "the database is busy; retry with the same Idempotency-Key",
            headers={"Retry-After": "1"},
        )
    log.exception("database error")
    return _respond(500, "internal_error", "internal error; it was logged")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return _respond(500, "internal_error", "internal error; it was logged")


def install(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(LoyaltyError, _domain)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
