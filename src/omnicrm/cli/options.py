"""Options shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

WarehouseOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        "-w",
        help="Warehouse URL (default: $OMNICRM_WAREHOUSE or duckdb:///./omnicrm.duckdb).",
        show_default=False,
    ),
]

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of a table.")
]
