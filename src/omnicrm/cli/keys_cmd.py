"""API keys of the loyalty service: create (shown once), list, revoke."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from omnicrm.api.core.config import Settings
from omnicrm.api.core.security import SCOPES, create_key, revoke_key
from omnicrm.api.models import ApiKey
from omnicrm.cli.db_cmd import DatabaseOption
from omnicrm.cli.options import JsonOption
from omnicrm.db import make_engine, make_session_factory, require_current

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True)


def _session(database: str | None):
    settings = Settings.from_env(database_url=database)
    engine = make_engine(settings.database_url)
    require_current(engine)
    return settings, make_session_factory(engine)()


@app.command("create")
def create(
    scope: Annotated[str, typer.Option(help=f"One of {', '.join(SCOPES)}.")],
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. store-042-pos.")] = "",
    database: DatabaseOption = None,
) -> None:
    """Create a key and print it once (only its hash is stored).

    Example: ``omnicrm keys create --scope pos --name store-042``.
    """
    settings, session = _session(database)
    with session:
        key, row = create_key(
            session, scope=scope, name=name or f"{scope}-key", secret=settings.secret_key
        )
    typer.echo(key)
    typer.echo(
        f"key id {row.id}, scope {row.scope}: store it now, it cannot be shown again", err=True
    )


@app.command("list")
def list_keys(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List keys (id, prefix, scope, name, created, revoked) — never the keys themselves."""
    _, session = _session(database)
    with session:
        rows = list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
    data = [
        {
            "id": r.id,
            "prefix": r.prefix,
            "scope": r.scope,
            "name": r.name,
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(data))
        return
    table = Table(title="API keys")
    for column in ("id", "prefix", "scope", "name", "created_at", "revoked_at"):
        table.add_column(column)
    for item in data:
        table.add_row(*(str(item[c] or "") for c in item))
    Console().print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="Key id from `omnicrm keys list`.")],
    database: DatabaseOption = None,
) -> None:
    """Revoke a key; requests with it are refused from now on."""
    _, session = _session(database)
    with session:
        row = revoke_key(session, key_id)
    typer.echo(
        f"key {row.id} ({row.scope}, {row.name}) revoked at {row.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
    )
