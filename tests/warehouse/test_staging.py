"""Staging tables: private to the connection, bulk appends, atomic commits."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest

from omnicrm.warehouse import connect, transaction
from omnicrm.warehouse.staging import (
    append_arrow,
    create_staging_table,
    drop_staging_table,
)

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("amount", pa.decimal128(18, 2)),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("flag", pa.bool_()),
    ]
)
DATA = pa.table(
    {
        "id": ["a", "名"],
        "amount": [Decimal("1.50"), None],
        "ts": [dt.datetime(2024, 5, 1, tzinfo=dt.UTC), None],
        "flag": [True, None],
    },
    schema=SCHEMA,
)


def roundtrip(con):
    name = create_staging_table(con, SCHEMA, prefix="t")
    append_arrow(con, name, DATA)
    append_arrow(con, name, DATA.slice(0, 0))
    got = con.table(name).order_by("id").to_pyarrow().to_pylist()
    drop_staging_table(con, name)
    assert name not in con.list_tables()
    return got


def test_duckdb_staging_keeps_exact_values(warehouse):
    assert roundtrip(warehouse) == DATA.sort_by("id").to_pylist()


def test_staging_tables_are_private_to_the_connection(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    con = connect(url)
    name = create_staging_table(con, SCHEMA, prefix="t")
    con.disconnect()
    other = connect(url)
    assert name not in other.list_tables()
    other.disconnect()


def write_then_fail(con, name):
    with transaction(con):
        append_arrow(con, name, pa.table({"id": ["x"]}))
        raise RuntimeError("boom")


def test_atomic_rolls_back_on_error(warehouse):
    warehouse.create_table("t", schema={"id": "string"})
    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail(warehouse, "t")
    assert warehouse.table("t").count().execute() == 0


@pytest.mark.postgres
def test_postgres_staging_uses_copy_and_atomic_rolls_back(postgres_url):
    con = connect(postgres_url)
    assert roundtrip(con) == DATA.sort_by("id").to_pylist()
    name = f"omnicrm_staging_test_{uuid.uuid4().hex[:8]}"
    con.create_table(name, schema={"id": "string"})
    try:
        with pytest.raises(RuntimeError, match="boom"):
            write_then_fail(con, name)
        assert con.table(name).count().execute() == 0
    finally:
        con.drop_table(name, force=True)
        con.disconnect()
