"""Promotions and coupons: load definitions, list them, generate codes; loyalty export.

``omnicrm promotions load promotions.toml`` creates (or with ``--replace`` updates) the
promotions of a TOML/JSON file; ``omnicrm coupons generate P1 --count 10000 --out codes.csv``
writes fresh single-use codes to a file (shown once: only hashes are stored);
``omnicrm loyalty export`` copies the loyalty tables into the analytical warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omnicrm.cli.db_cmd import DatabaseOption
from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.db import make_engine, make_session_factory, require_current, run_transaction
from omnicrm.errors import InputError
from omnicrm.loyalty.export import export_all
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.promotions import coupons, store
from omnicrm.loyalty.promotions.definition import load_promotions
from omnicrm.loyalty.rules import load_rules

promotions_app = typer.Typer(help="Create, replace and list promotions.", no_args_is_help=True)
coupons_app = typer.Typer(help="Generate coupon codes for a promotion.", no_args_is_help=True)


def _factory(database: str | None):
    engine = make_engine(database)
    require_current(engine)
    return make_session_factory(engine)


def _instant(value: str | None, flag: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{flag} {value!r} is not an ISO 8601 time; e.g. 2026-12-31T23:59:59Z"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


@promotions_app.command("load")
def load(
    path: Annotated[Path, typer.Argument(help="TOML or JSON file with [[promotions]].")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace existing promotions (counters kept).")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Create the promotions of a TOML/JSON file (the whole file is validated first)."""
    promotions = load_promotions(path)
    factory = _factory(database)
    for p in promotions:
        run_transaction(
            factory,
            lambda s, p=p: store.save(
                s, dict(p.spec), Context("cli", audit=True), replace_existing=replace
            ),
        )
    typer.echo(f"loaded {len(promotions)} promotion(s) from {path}")


@promotions_app.command("list")
def list_promotions(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Every promotion with its uses and budget spent."""
    with _factory(database)() as session:
        rows = store.list_all(session)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "name", "benefit", "active", "uses", "budget used", "budget")
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            r["definition"]["benefit"]["type"],
            "yes" if r["active"] else "no",
            f"{r['uses']}" + (f" / {r['max_uses']}" if r["max_uses"] else ""),
            r["budget_used"],
            r["budget"] or "-",
        )
    Console().print(table)


@coupons_app.command("generate")
def generate(
    promotion: Annotated[str, typer.Argument(help="Promotion id.")],
    count: Annotated[int, typer.Option(help="Single-use codes to generate.")] = 1,
    prefix: Annotated[str, typer.Option(help="Code prefix, 1-8 letters/digits.")] = "",
    code: Annotated[
        str | None, typer.Option(help="Create this shared code instead.", show_default=False)
    ] = None,
    max_uses: Annotated[
        int | None, typer.Option(help="Uses of the shared code.", show_default=False)
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option(help="ISO 8601 expiry.", show_default=False)
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the codes to this CSV file.", show_default=False)
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Generate coupon codes; they are printed (or written to --out) once, stored hashed."""
    until = _instant(valid_until, "--valid-until")
    if out is not None and out.exists():
        raise InputError(f"--out {out} already exists; choose a new file (codes are shown once)")
    result = run_transaction(
        _factory(database),
        lambda s: coupons.generate(
            s,
            promotion,
            Context("cli"),
            count=count,
            prefix=prefix,
            shared_code=code,
            max_uses=max_uses,
            valid_until=until,
        ),
    )
    if out is None:
        for c in result["codes"]:
            typer.echo(c)
        return
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "promotion_id", "batch", "valid_until"])
        for c in result["codes"]:
            writer.writerow([c, promotion, result["batch"], result["valid_until"] or ""])
    typer.echo(f"wrote {len(result['codes'])} code(s) of batch {result['batch']} to {out}")


def loyalty_export(
    warehouse: WarehouseOption = None,
    database: DatabaseOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rewrite the ledger instead of appending new entries.")
    ] = False,
    rules: Annotated[
        str | None,
        typer.Option("--rules", help="Folder overriding the rules TOML files.", show_default=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Copy members, tiers, ledger, orders, discounts and coupon uses to the warehouse.

    Every table is rewritten except the ledger, which is append-only: only entries newer than
    the warehouse's last ``entry_id`` are appended (``--full`` rewrites it).
    """
    from omnicrm.warehouse import connect

    con = connect(warehouse)
    with _factory(database)() as session:
        counts = export_all(session, con, load_rules(rules), full=full)
    if as_json:
        print(json.dumps(counts))
        return
    for name, n in counts.items():
        typer.echo(f"{name}: {n} row(s)")
