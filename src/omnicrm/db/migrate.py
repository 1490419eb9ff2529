"""Alembic migrations of the operational database, driven from Python.

The migration scripts ship inside the package (``omnicrm/db/migrations``), so
``omnicrm db upgrade`` works from an installed wheel without an ``alembic.ini``.

Examples
--------
>>> from omnicrm.db.migrate import head_revision, upgrade, current_revision
>>> from omnicrm.db.engine import make_engine
>>> engine = make_engine("sqlite://")
>>> current_revision(engine) is None
True
>>> upgrade(engine)
>>> current_revision(engine) == head_revision()
True
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from omnicrm.errors import OmnicrmError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class NotMigratedError(OmnicrmError):
    """The operational database schema is missing or older than this version of omnicrm."""


def alembic_config(engine: Engine | None = None) -> Config:
    """Return an Alembic configuration pointing at the packaged migration scripts.

    When ``engine`` is given, ``env.py`` runs the migrations on it (one connection, one
    transaction).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise OmnicrmError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it was never migrated."""
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return revision


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (``"base"`` drops all)."""
    command.downgrade(alembic_config(engine), revision)


def require_current(engine: Engine) -> None:
    """Refuse to go on unless the database is at the newest revision.

    Raises
    ------
    NotMigratedError
        With the database URL (password hidden), its revision, the expected one and the fix.
    """
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has never been migrated" if current is None else f"is at revision {current}"
        raise NotMigratedError(
            f"operational database {where} {state}, this version needs revision {head}; "
            f"run `omnicrm db upgrade` (with OMNICRM_DATABASE_URL={where}) first"
        )
