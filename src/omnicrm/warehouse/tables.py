"""Create warehouse tables from the data contract.

Examples
--------
>>> from omnicrm.schema import TABLES
>>> from omnicrm.warehouse import connect, ensure_table
>>> con = connect("duckdb://:memory:")
>>> t = ensure_table(con, TABLES["orders"])
>>> str(t.schema()["net_amount"])
'decimal(18, 2)'
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
from ibis.backends import BaseBackend

from omnicrm.schema.types import (
    MONEY_PRECISION,
    MONEY_SCALE,
    QUANTITY_PRECISION,
    QUANTITY_SCALE,
    Table,
)

_IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.String(),
    "integer": dt.Int64(),
    "money": dt.Decimal(MONEY_PRECISION, MONEY_SCALE),
    "quantity": dt.Decimal(QUANTITY_PRECISION, QUANTITY_SCALE),
    "timestamp": dt.Timestamp(timezone="UTC"),
    "date": dt.Date(),
    "boolean": dt.Boolean(),
}


def ibis_schema(table: Table) -> ibis.Schema:
    """The Ibis schema of a contract table (all columns nullable; checks enforce required)."""
    return ibis.schema({c.name: _IBIS_TYPES[c.type] for c in table.columns})


def ensure_table(con: BaseBackend, table: Table) -> ibis.Table:
    """Create ``table`` in the warehouse if it does not exist and return it."""
    if table.name not in con.list_tables():
        con.create_table(table.name, schema=ibis_schema(table))
    return con.table(table.name)
