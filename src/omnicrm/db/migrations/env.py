"""Alembic environment for the operational database.

Run through :mod:`omnicrm.db.migrate` (``omnicrm db upgrade``), which passes the engine in
``config.attributes["engine"]``; with the ``alembic`` command line the URL comes from
``$OMNICRM_DATABASE_URL``. ``target_metadata`` lists every operational model so that
``alembic revision --autogenerate`` compares against all of them.
"""

from __future__ import annotations

from alembic import context

from omnicrm.db.base import Base
from omnicrm.db.engine import make_engine
from omnicrm.db.registry import import_models

import_models()
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():  # pragma: no cover - offline SQL generation is not supported
    raise SystemExit("offline migrations are not supported; run `omnicrm db upgrade`")
run_migrations()
