"""Run the loyalty service (FastAPI on uvicorn); OpenAPI docs at /docs."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from omnicrm.api.core.config import Settings
from omnicrm.cli.db_cmd import DatabaseOption
from omnicrm.db import make_engine, require_current
from omnicrm.db.engine import DATABASE_ENV
from omnicrm.errors import InputError
from omnicrm.loyalty.rules import load_rules


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    database: DatabaseOption = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (costs throughput; admin actions are always in "
            "the audit log).",
        ),
    ] = False,
) -> None:
    """Run the loyalty service; OpenAPI docs at /docs.

    Example: ``OMNICRM_SECRET_KEY=... omnicrm serve --host 0.0.0.0 --port 8000 --workers 4``.
    Settings come from the environment (see docs/api.md); the database must be migrated.
    """
    import uvicorn

    from omnicrm.api.serving import TcpConfig

    if database:
        os.environ[DATABASE_ENV] = database
    settings = Settings.from_env()
    load_rules(settings.rules_dir)
    engine = make_engine(settings.database_url)
    try:
        require_current(engine)
    finally:
        engine.dispose()
    if (
        workers > 1
        and settings.database_url.startswith("sqlite")
        and ":memory:" in settings.database_url
    ):
        raise InputError(
            "an in-memory SQLite database cannot be shared by several workers; "
            "use a file or PostgreSQL"
        )
    config = TcpConfig(
        "omnicrm.api.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        loop="uvloop",
        http="httptools",
        # uvicorn kills a worker that does not answer its supervisor's ping within this many
        # seconds (default 5): on a loaded machine a starting or busy worker misses that and
        # is killed mid-request, dropping its connections.
        timeout_worker_healthcheck=60,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:  # e.g. the port is taken; uvicorn logged why
            raise SystemExit(3)
        return
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[config.bind_socket()]).run()
