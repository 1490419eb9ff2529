"""Operational database: migrate it (``upgrade``) and show its revision (``status``)."""

from __future__ import annotations

from typing import Annotated

import typer

from omnicrm.db import current_revision, head_revision, make_engine, upgrade

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Operational DB URL (default: $OMNICRM_DATABASE_URL or sqlite:///./omnicrm.sqlite3).",
        show_default=False,
    ),
]


@app.command("upgrade")
def upgrade_cmd(
    database: DatabaseOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations the database does not have yet (safe to rerun).

    Example: ``omnicrm db upgrade -d postgresql+psycopg://postgres@127.0.0.1:5432/omnicrm``.
    """
    engine = make_engine(database)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    engine.dispose()
    if before == after:
        typer.echo(f"{where}: already at revision {after}")
    else:
        typer.echo(f"{where}: migrated from {before or 'empty'} to {after}")


@app.command("status")
def status_cmd(database: DatabaseOption = None) -> None:
    """Print the database's revision and whether it is up to date."""
    engine = make_engine(database)
    current, head = current_revision(engine), head_revision()
    engine.dispose()
    state = "up to date" if current == head else "needs `omnicrm db upgrade`"
    typer.echo(f"revision {current or 'none'} (newest {head}): {state}")
