"""Loyalty jobs: expire points, review tiers, purge old idempotency keys (run daily)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from omnicrm.cli.db_cmd import DatabaseOption
from omnicrm.db import make_engine, make_session_factory, require_current
from omnicrm.errors import InputError
from omnicrm.loyalty.maintenance import expire_all, purge_idempotency, review_all
from omnicrm.loyalty.rules import load_rules

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True)

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Run as of this UTC instant (ISO 8601); default now.", show_default=False
    ),
]
RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Folder overriding the rules TOML files (default: $OMNICRM_LOYALTY_RULES).",
        show_default=False,
    ),
]


def _as_of(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--as-of {value!r} is not an ISO 8601 time; e.g. 2026-12-31T23:59:59Z"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _factory(database: str | None):
    engine = make_engine(database)
    require_current(engine)
    return make_session_factory(engine)


@app.command("expire")
def expire(
    database: DatabaseOption = None, as_of: AsOfOption = None, rules: RulesOption = None
) -> None:
    """Expire every lot past its expiry date (one ledger entry per member)."""
    report = expire_all(_factory(database), load_rules(rules), now=_as_of(as_of))
    typer.echo(
        f"expired {report.points} points of {report.members} member(s) "
        f"in {report.entries} ledger entr{'y' if report.entries == 1 else 'ies'}"
    )


@app.command("review-tiers")
def review_tiers(
    database: DatabaseOption = None, as_of: AsOfOption = None, rules: RulesOption = None
) -> None:
    """Apply due tier reviews (downgrades after grace) for every member."""
    report = review_all(_factory(database), load_rules(rules), now=_as_of(as_of))
    typer.echo(f"tier reviews applied; {report.members} member(s) changed tier")


@app.command("purge-keys")
def purge_keys(
    database: DatabaseOption = None,
    days: Annotated[int, typer.Option(help="Keep idempotency records this many days.", min=1)] = 30,
) -> None:
    """Delete idempotency records older than --days (retries older than that run again)."""
    n = purge_idempotency(_factory(database), older_than=dt.timedelta(days=days))
    typer.echo(f"purged {n} idempotency record(s) older than {days} day(s)")
