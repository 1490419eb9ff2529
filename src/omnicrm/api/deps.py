"""Request dependencies: service state, authentication + rate limit, scopes, idempotency.

They are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop of
thread hand-offs per dependency per request. None of them blocks, except the database lookup
of a key that is not in the worker's key cache, which goes to the thread pool itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from omnicrm.api.core.config import Settings
from omnicrm.api.core.db import Database
from omnicrm.api.core.errors import ApiError
from omnicrm.api.core.keycache import KeyCache
from omnicrm.api.core.ratelimit import TokenBuckets
from omnicrm.api.core.security import Principal, allowed, authenticate, hash_key
from omnicrm.loyalty.operations import Context, request_fingerprint
from omnicrm.loyalty.rules import Rules

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass
class ServiceState:
    """Everything a request needs, built once by :func:`omnicrm.api.main.create_app`."""

    settings: Settings
    db: Database
    rules: Rules
    buckets: TokenBuckets
    keys: KeyCache


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]


async def current_principal(
    state: State,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """Check ``Authorization: Bearer <key>`` and take a rate-limit token for the key."""
    if not authorization:
        raise ApiError(
            401,
            "missing_api_key",
            "send your API key as `Authorization: Bearer <key>` "
            "(create one with `omnicrm keys create --scope pos`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "invalid_api_key",
            "the Authorization header must be `Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = key.strip()
    digest = hash_key(key, state.settings.secret_key)
    principal = state.keys.get(digest)
    if principal is None:
        principal = await run_in_threadpool(
            state.db.read, lambda s: authenticate(s, key, state.settings.secret_key)
        )
        if principal is not None:
            state.keys.put(digest, principal)
    if principal is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "the API key is unknown or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = state.buckets.take(str(principal.key_id))
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests for this key; retry in {wait:.2f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return principal


def require(permission: str) -> Callable[..., Principal]:
    """Dependency: the caller's key must allow ``permission`` (see ``SCOPE_PERMISSIONS``)."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not allowed(principal.scope, permission):
            raise ApiError(
                403,
                "scope_not_allowed",
                f"a {principal.scope!r} key may not use {permission}; "
                "use a key with a scope that allows it",
            )
        return principal

    return check


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Retry-safe key; max 200 printable chars"),
    ] = None,
) -> str | None:
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise ApiError(
            422,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-200 printable ASCII characters without spaces",
            field="Idempotency-Key",
        )
    return key


IdemKey = Annotated[str | None, Depends(idempotency_key)]


def context(principal: Principal, key: str | None, operation: str, payload: object) -> Context:
    """The service context of a write: actor, idempotency key and request fingerprint."""
    return Context(
        actor=principal.actor,
        client=principal.actor,
        idempotency_key=key,
        request_hash=request_fingerprint(operation, payload) if key is not None else None,
        audit=principal.scope == "admin",
    )
