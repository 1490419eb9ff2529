"""The floor of the service's stack: FastAPI + SQLAlchemy 2 + psycopg 3 doing almost nothing.

``bench_loyalty.py`` serves this app with ``uvicorn --workers N`` beside the real service, to
show how many operations per second the stack itself allows on the machine, before any loyalty
logic. One ``POST /earn`` is the least a points write can be: pgbench's simple-update
transaction (UPDATE one account's balance, read it back, INSERT a history row) with a pydantic
body and no authentication, idempotency, ledger or lots.

``FLOOR_MODE`` chooses how it reaches PostgreSQL:

``transaction``
    The three statements in one transaction through SQLAlchemy Core (``BEGIN`` + 3 statements
    + ``COMMIT``: five round trips), in FastAPI's thread pool — the service's own shape.
``function``
    One call of a PL/pgSQL function doing the same in autocommit: one round trip.

``FLOOR_URL`` is the database (made by :func:`create_schema`), ``FLOOR_POOL`` the connections
and threads per worker (the benchmark passes the service's own setting).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Connection, create_engine, text

ACCOUNTS = 10_000
SCHEMA = (
    "CREATE TABLE floor_accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
    f"INSERT INTO floor_accounts SELECT g, 0 FROM generate_series(1, {ACCOUNTS}) g",
    "CREATE TABLE floor_history (id bigserial PRIMARY KEY, account int NOT NULL, "
    "delta int NOT NULL, at timestamptz NOT NULL DEFAULT now())",
    """CREATE FUNCTION floor_earn(a int, d int) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE b bigint;
    BEGIN
      UPDATE floor_accounts SET balance = balance + d WHERE id = a RETURNING balance INTO b;
      INSERT INTO floor_history (account, delta) VALUES (a, d);
      RETURN b;
    END $$""",
)
UPDATE = text("UPDATE floor_accounts SET balance = balance + :d WHERE id = :a")
SELECT = text("SELECT balance FROM floor_accounts WHERE id = :a")
INSERT = text("INSERT INTO floor_history (account, delta) VALUES (:a, :d)")
CALL = text("SELECT floor_earn(:a, :d)")


def create_schema(conn: Connection) -> None:
    """The accounts, history and function the app uses (in a scratch database)."""
    for statement in SCHEMA:
        conn.execute(text(statement))


class Earn(BaseModel):
    account: int
    delta: int


def create_app(url: str, mode: str, pool: int) -> FastAPI:
    """The floor app for ``mode`` ``transaction`` or ``function`` (see the module docstring)."""
    if mode not in ("transaction", "function"):
        raise ValueError(f"FLOOR_MODE {mode!r}: use transaction or function")
    # one call in autocommit: no BEGIN/COMMIT round trips around it
    options = {"isolation_level": "AUTOCOMMIT"} if mode == "function" else {}
    engine = create_engine(url, pool_size=pool, max_overflow=0, **options)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = pool  # as the service does
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/earn")
    def earn(body: Earn) -> dict:
        params = {"a": body.account, "d": body.delta}
        if mode == "function":
            with engine.connect() as conn:
                return {"balance": conn.execute(CALL, params).scalar_one()}
        with engine.begin() as conn:
            conn.execute(UPDATE, params)
            balance = conn.execute(SELECT, params).scalar_one()
            conn.execute(INSERT, params)
        return {"balance": balance}

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory stack_floor_app:app_from_env``."""
    return create_app(
        os.environ["FLOOR_URL"],
        os.environ.get("FLOOR_MODE", "transaction"),
        int(os.environ.get("FLOOR_POOL", "4")),
    )
