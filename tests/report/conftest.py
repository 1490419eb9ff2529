"""A tiny warehouse with a few order lines, a quarantine and an ingest run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from omnicrm.schema import TABLES
from omnicrm.schema.tables import INGEST_RUNS, QUARANTINE
from omnicrm.warehouse import ensure_table

UTC = dt.UTC


def insert_rows(con, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts of some columns) into the contract ``table``; others are null."""
    target = ensure_table(con, table)
    schema = target.schema()
    arrow_schema = schema.to_pyarrow()
    data = {name: [row.get(name) for row in rows] for name in schema.names}
    con.insert(table.name, ibis.memtable(pa.table(data, schema=arrow_schema)))


@pytest.fixture
def small_warehouse(warehouse):
    lines = [
        {
            "order_id": "O1",
            "line_number": 1,
            "order_ts": dt.datetime(2025, 1, 5, 10, tzinfo=UTC),
            "customer_id": "C1",
            "channel": "store",
            "product_id": "P1",
            "quantity": Decimal(2),
            "unit_price": Decimal("10.00"),
            "amount": Decimal("20.00"),
            "is_return": False,
        },
        {
            "order_id": "O2",
            "line_number": 1,
            "order_ts": dt.datetime(2025, 2, 7, 9, tzinfo=UTC),
            "customer_id": "C2",
            "channel": "app",
            "product_id": "P2",
            "quantity": Decimal(1),
            "unit_price": Decimal("35.50"),
            "amount": Decimal("35.50"),
            "is_return": False,
        },
        {
            "order_id": "R1",
            "line_number": 1,
            "order_ts": dt.datetime(2025, 2, 9, 9, tzinfo=UTC),
            "customer_id": "C1",
            "channel": "store",
            "product_id": "P1",
            "quantity": Decimal(-1),
            "unit_price": Decimal("10.00"),
            "amount": Decimal("-10.00"),
            "is_return": True,
        },
    ]
    insert_rows(warehouse, TABLES["order_lines"], lines)
    now = dt.datetime(2025, 3, 1, tzinfo=UTC)
    insert_rows(
        warehouse,
        QUARANTINE,
        [
            {
                "run_id": "r1",
                "table_name": "order_lines",
                "source_file": "/d/lines.csv",
                "line_number": n,
                "raw": "{}",
                "reason": f"quantity: '{v}' must be != 0",
                "quarantined_at": now,
            }
            for n, v in ((5, "0"), (9, "0.0"))
        ],
    )
    insert_rows(
        warehouse,
        INGEST_RUNS,
        [
            {
                "run_id": "r1",
                "table_name": "order_lines",
                "source_file": "/d/lines.csv",
                "file_sha256": "ab",
                "started_at": now,
                "finished_at": now,
                "rows_read": 6,
                "rows_loaded": 3,
                "rows_quarantined": 2,
                "rows_duplicate": 1,
            },
        ],
    )
    return warehouse
