"""The service's handle on the operational database."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from omnicrm.db.engine import (
    lost_connection,
    make_engine,
    make_session_factory,
    read_only,
    run_transaction,
)
from omnicrm.db.migrate import require_current

T = TypeVar("T")


class Database:
    """Engine + session factory; refuses a database that is not fully migrated.

    ``connections`` fixes the size of the PostgreSQL connection pool (no overflow), see
    :func:`omnicrm.db.engine.make_engine`.

    Examples
    --------
    >>> from omnicrm.api.core.db import Database
    >>> Database("sqlite://")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    omnicrm.db.migrate.NotMigratedError: operational database sqlite:// has never been migrated, ...
    """

    def __init__(self, url: str, *, connections: int | None = None) -> None:
        self.engine: Engine = make_engine(url, pool_size=connections)
        require_current(self.engine)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)

    def run(self, operation: Callable[[Session], T]) -> T:
        """Run one business operation with bounded retry of transient conflicts."""
        return run_transaction(self.factory, operation)

    def read(self, query: Callable[[Session], T]) -> T:
        """Run a read-only query in a short session (again once if the connection was lost)."""
        for attempt in (1, 2):
            with self.factory() as session:
                try:
                    return query(read_only(session))
                except DBAPIError as exc:
                    if attempt == 2 or not lost_connection(exc):
                        raise
                finally:
                    session.rollback()
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.engine.dispose()
