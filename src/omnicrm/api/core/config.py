"""Service settings from the environment (no pydantic-settings: BaseModel + ``os.environ``).

| variable | default | meaning |
|---|---|---|
| ``OMNICRM_ENV`` | ``production`` | ``production``, ``demo`` or ``test`` (*) |
| ``OMNICRM_DATABASE_URL`` | ``sqlite:///./omnicrm.sqlite3`` | operational database |
| ``OMNICRM_SECRET_KEY`` | (none) | pepper of API key hashes, >= 32 characters |
| ``OMNICRM_RATE_PER_SECOND`` | ``20`` | token bucket refill per API key |
| ``OMNICRM_RATE_BURST`` | ``40`` | token bucket size per API key |
| ``OMNICRM_LOYALTY_RULES`` | (packaged) | folder overriding tiers/earning/rewards TOML |
| ``OMNICRM_EXPIRING_DAYS`` | ``30`` | horizon of "points expiring soon" |
| ``OMNICRM_KEY_CACHE_SECONDS`` | ``2`` | how long a worker trusts a checked API key (0: never) |

(*) only ``demo`` and ``test`` accept the built-in default secret.

Examples
--------
>>> from omnicrm.api.core.config import Settings
>>> s = Settings.from_env({"OMNICRM_ENV": "test"})
>>> s.environment, s.rate_burst
('test', 40)
>>> Settings.from_env({})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
omnicrm.errors.InputError: OMNICRM_SECRET_KEY is not set ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from omnicrm.db.engine import DATABASE_ENV, database_url
from omnicrm.errors import InputError

DEFAULT_SECRET = "insecure-default-secret-for-demo-and-tests-only"
MIN_SECRET_LENGTH = 32

ENV_NAMES = {
    "environment": "OMNICRM_ENV",
    "database_url": DATABASE_ENV,
    "secret_key": "OMNICRM_SECRET_KEY",
    "rate_per_second": "OMNICRM_RATE_PER_SECOND",
    "rate_burst": "OMNICRM_RATE_BURST",
    "rules_dir": "OMNICRM_LOYALTY_RULES",
    "expiring_days": "OMNICRM_EXPIRING_DAYS",
    "key_cache_seconds": "OMNICRM_KEY_CACHE_SECONDS",
    "db_connections": "OMNICRM_DB_CONNECTIONS",
}


class Settings(BaseModel):
    """Validated settings of the loyalty service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: Literal["production", "demo", "test"] = "production"
    database_url: str = Field(default_factory=database_url)
    secret_key: str = DEFAULT_SECRET
    rate_per_second: float = Field(default=20.0, gt=0)
    rate_burst: int = Field(default=40, ge=1)
    rules_dir: str | None = None
    expiring_days: int = Field(default=30, ge=1, le=3660)
    key_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    db_connections: int = Field(default=4, ge=1, le=200)
    """Database connections of each worker process, and so the number of requests a worker
    runs at once (the others wait their turn in the worker's event loop). Each has a thread,
    and a worker's threads share one interpreter lock: on 2 cores one worker spent 8.4 ms of
    CPU per earn with 2 threads against 13.0 ms with 16 (docs/api.md, "Capacity settings")."""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET:
                raise ValueError(
                    "OMNICRM_SECRET_KEY is not set (the built-in default is only accepted with "
                    "OMNICRM_ENV=demo or test); set it to a random string, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"OMNICRM_SECRET_KEY has {len(self.secret_key)} characters; use at least "
                    f"{MIN_SECRET_LENGTH} random characters"
                )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) and explicit overrides.

        Raises
        ------
        InputError
            A variable has an invalid value, or the secret is missing outside demo/test.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            field: env[name] for field, name in ENV_NAMES.items() if env.get(name)
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                name = ENV_NAMES.get(field, field)
                shown = (
                    f"{name}={err['input']!r}: " if name and field != "secret_key" and name else ""
                )
                problems.append(f"{shown}{err['msg'].removeprefix('Value error, ')}")
            raise InputError("; ".join(problems)) from None
