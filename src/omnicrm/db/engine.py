"""Engines, sessions and transactions for the operational database.

SQLite (the default, one file) and PostgreSQL are supported. Writers are serialised per
resource so that balances can never be overdrawn:

* on SQLite every write transaction starts with ``BEGIN IMMEDIATE``: one writer at a time,
  the file in WAL mode so readers (:func:`read_only` sessions) are not blocked, and a busy
  timeout so writers queue instead of failing;
* on PostgreSQL services lock the member row with ``SELECT ... FOR UPDATE`` before touching
  anything of the member; its lots, entries and orders are only changed under that lock, so
  the member row is the single point of serialisation (one lock, no lock-order deadlocks).

Transient failures (SQLite "database is locked", PostgreSQL serialization failures and
deadlocks) are retried a bounded number of times by :func:`run_transaction`.

Lost connections are handled optimistically rather than by a ping on every checkout (a
``SELECT 1`` round trip per request): when the server closed a pooled connection (a restart,
an idle timeout), the statement that finds out fails, the pool discards its connections, and
:func:`run_transaction` runs the operation again on a new one — unless the connection was lost
during the commit, whose outcome is then unknown: that error goes to the caller, who retries
with the same idempotency key.

Examples
--------
>>> from sqlalchemy import text
>>> from omnicrm.db.engine import make_engine, make_session_factory
>>> engine = make_engine("sqlite://")
>>> Session = make_session_factory(engine)
>>> with Session() as session:
...     session.execute(text("select 1")).scalar_one()
1
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from omnicrm.errors import InputError

DEFAULT_DATABASE_URL = "sqlite:///./omnicrm.sqlite3"
"""SQLite file in the current directory."""

DATABASE_ENV = "OMNICRM_DATABASE_URL"

SQLITE_BUSY_TIMEOUT_MS = 30_000

_WRITER_FLAG = "omnicrm_sqlite_writer"
READ_ONLY_OPTION = "omnicrm_read_only"
"""Execution option marking a read-only transaction: on SQLite it starts with a plain
(deferred) ``BEGIN`` so readers never wait for the write lock. Use :func:`read_only`."""

T = TypeVar("T")


def database_url(explicit: str | None = None) -> str:
    """Return the operational DB URL: ``explicit``, else ``$OMNICRM_DATABASE_URL``, else default.

    Examples
    --------
    >>> database_url("sqlite:///tmp/x.sqlite3")
    'sqlite:///tmp/x.sqlite3'
    """
    return explicit or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


def make_engine(
    url: str | None = None, *, echo: bool = False, pool_size: int | None = None
) -> Engine:
    """Create an engine for ``url`` (see :func:`database_url`) with safe transaction settings.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///path.sqlite3``, ``sqlite://`` (in memory, one shared connection) or
        ``postgresql+psycopg://user@host:port/db``.
    echo : bool
        Log every SQL statement.
    pool_size : int, optional
        PostgreSQL: keep exactly this many connections (no overflow). The service sets it to
        the number of requests a worker runs at once, so that no connection is opened and
        closed under load (each costs PostgreSQL a process). Default: 10, plus up to 30 more
        while needed.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    InputError
        The URL cannot be parsed or names an unsupported database.
    """
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise InputError(
            f"database URL {resolved!r} cannot be parsed; use e.g. sqlite:///./omnicrm.sqlite3 "
            "or postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(
            resolved, in_memory=parsed.database in (None, "", ":memory:"), echo=echo
        )
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=False,  # see "Lost connections" above
            pool_size=pool_size or 10,
            max_overflow=0 if pool_size else 30,
            isolation_level="READ COMMITTED",
        )
    raise InputError(
        f"database URL {resolved!r}: backend {backend!r} is not supported for the operational "
        "database; use sqlite:///path.sqlite3 or postgresql+psycopg://..."
    )


def _sqlite_engine(url: str, *, in_memory: bool, echo: bool) -> Engine:
    kwargs: dict = {"echo": echo, "connect_args": {"check_same_thread": False, "timeout": 30}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver callback
        # Take over transaction control from the sqlite3 module, so that BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    # Writers of this process queue on a lock before asking SQLite for its write lock: SQLite's
    # busy handler polls with sleeps of up to 100 ms, which under contention costs far more
    # than the transactions themselves. Other processes still queue on the busy handler.
    writer_lock = threading.Lock()

    def _release(info: dict) -> None:
        if info.pop(_WRITER_FLAG, False):
            writer_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # pragma: no cover - driver callback
        if connection.get_execution_options().get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        if not writer_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                {},
                sqlite3.OperationalError(
                    "database is locked (waited for this process's other writers)"
                ),
            )
        connection.info[_WRITER_FLAG] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection) -> None:  # pragma: no cover - driver callback
        _release(connection.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:  # pragma: no cover - safety net
        _release(record.info)

    return engine


_COMMITTING = "omnicrm_committing"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (objects stay readable after commit)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)

    @event.listens_for(factory, "before_commit")
    def _committing(session: Session) -> None:  # pragma: no cover - SQLAlchemy callback
        session.info[_COMMITTING] = True

    @event.listens_for(factory, "after_begin")
    def _begun(session: Session, _transaction, _connection) -> None:  # pragma: no cover
        session.info.pop(_COMMITTING, None)

    return factory


def lost_connection(exc: BaseException, session: Session | None = None) -> bool:
    """Whether ``exc`` says the database connection was lost before ``session`` committed.

    Such an operation never reached the database's commit, so running it again is safe.
    """
    if not (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return False
    return session is None or not session.info.get(_COMMITTING, False)


def read_only(session: Session) -> Session:
    """Mark ``session``'s next transaction read-only (call before its first query).

    On SQLite the transaction starts with a plain ``BEGIN`` (see :data:`READ_ONLY_OPTION`).
    On PostgreSQL the session's statements run in autocommit: under READ COMMITTED every
    statement of a transaction takes its own snapshot anyway, so a read sees exactly what it
    would inside ``BEGIN`` ... ``ROLLBACK``, without those two round trips.
    """
    options: dict[str, object] = {READ_ONLY_OPTION: True}
    if session.get_bind().dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    session.connection(execution_options=options)
    return session


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a transient concurrency failure worth retrying.

    SQLite "database is locked" (busy timeout exhausted), PostgreSQL serialization failure
    (SQLSTATE 40001) and deadlock (40P01).
    """
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01"}:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def run_transaction(
    factory: Callable[[], Session],
    operation: Callable[[Session], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.02,
) -> T:
    """Run ``operation(session)`` in a fresh session, retrying transient concurrency failures.

    ``operation`` must commit itself once (service functions do); anything it leaves
    uncommitted is rolled back. Every retry starts from scratch in a new session, so a retried
    operation sees the state left by the transaction that won.

    Parameters
    ----------
    factory : callable
        Returns a new :class:`~sqlalchemy.orm.Session`.
    operation : callable
        The business operation.
    attempts : int
        Maximum number of tries (>= 1).
    base_delay : float
        First back-off in seconds; doubled on each retry, with jitter.

    Returns
    -------
    Whatever ``operation`` returns.
    """
    for attempt in range(1, attempts + 1):
        with factory() as session:
            try:
                return operation(session)
            except DBAPIError as exc:
                lost = lost_connection(exc, session)
                session.rollback()
                if attempt == attempts or not (is_retryable(exc) or lost):
                    raise
                if lost:
                    continue  # a new connection at once: nothing to back off from
        time.sleep(base_delay * 2 ** (attempt - 1) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
