"""Points ledger: verify the hash chain and balances."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from omnicrm.cli.db_cmd import DatabaseOption
from omnicrm.cli.options import JsonOption
from omnicrm.db import make_engine, make_session_factory, require_current
from omnicrm.loyalty.verify import verify_ledger

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True)


@app.command("verify")
def verify(
    database: DatabaseOption = None,
    member: Annotated[str | None, typer.Option(help="Verify one member only.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry's hash, chain link, running balance and lot allocations.

    Prints "ok, N entries" (exit 0) or the first tampered entry and what differs (exit 1).
    """
    engine = make_engine(database)
    require_current(engine)
    with make_session_factory(engine)() as session:
        report = verify_ledger(session, member)
    engine.dispose()
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "entries": report.entries,
                    "members": report.members,
                    "problems": [
                        {"entry_id": p.entry_id, "member_id": p.member_id, "detail": p.detail}
                        for p in report.problems
                    ],
                }
            )
        )
    else:
        typer.echo(report.summary())
        for problem in report.problems[1:20]:
            typer.echo(f"  also: {problem}")
    if not report.ok:
        raise typer.Exit(1)
