"""List warehouse tables with their row counts."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from omnicrm.cli.options import JsonOption, WarehouseOption
from omnicrm.warehouse import connect, user_tables


def tables(warehouse: WarehouseOption = None, as_json: JsonOption = False) -> None:
    """List warehouse tables with their row counts.

    Example: ``omnicrm tables --json`` prints ``{"orders": 51234, ...}``.
    """
    con = connect(warehouse)
    counts = {name: int(con.table(name).count().execute()) for name in user_tables(con)}
    if as_json:
        print(json.dumps(counts))
        return
    out = Table(title="Warehouse tables")
    out.add_column("table")
    out.add_column("rows", justify="right")
    for name, n in counts.items():
        out.add_row(name, f"{n:,}")
    Console().print(out)
