"""The operational database (SQLite file by default, PostgreSQL in production).

Separate from the analytical warehouse: it holds the state of the loyalty service (members,
ledger, API keys …), changed one transaction per business operation. The schema is managed
by Alembic migrations shipped in :mod:`omnicrm.db.migrations` (``omnicrm db upgrade``).

Examples
--------
>>> from omnicrm.db import memory_session
>>> session = memory_session()
>>> session.bind.dialect.name
'sqlite'
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from omnicrm.db.base import Base, Money, UTCDateTime, utcnow
from omnicrm.db.engine import (
    DATABASE_ENV,
    DEFAULT_DATABASE_URL,
    database_url,
    is_retryable,
    make_engine,
    make_session_factory,
    run_transaction,
)
from omnicrm.db.migrate import (
    NotMigratedError,
    current_revision,
    downgrade,
    head_revision,
    require_current,
    upgrade,
)


def memory_session() -> Session:
    """A session on a fresh, fully migrated in-memory SQLite database (examples, tests)."""
    engine = make_engine("sqlite://")
    upgrade(engine)
    return make_session_factory(engine)()


__all__ = [
    "DATABASE_ENV",
    "DEFAULT_DATABASE_URL",
    "Base",
    "Money",
    "NotMigratedError",
    "UTCDateTime",
    "current_revision",
    "database_url",
    "downgrade",
    "head_revision",
    "is_retryable",
    "make_engine",
    "make_session_factory",
    "memory_session",
    "require_current",
    "run_transaction",
    "upgrade",
    "utcnow",
]
