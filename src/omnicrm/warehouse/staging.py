"""Staging tables and atomic commits for bulk loads (backend-specific fast paths live here).

Ingestion appends each file's rows to a session-private temporary table, then moves them to
the target tables in one transaction. Appends use each backend's bulk path: DuckDB scans the
Arrow batch in place, PostgreSQL receives it through ``COPY``; other backends use Ibis'
generic ``insert``.

Examples
--------
>>> import pyarrow as pa
>>> from omnicrm.warehouse import connect
>>> con = connect("duckdb://:memory:")
>>> name = create_staging_table(con, pa.schema([("a", pa.int64())]), prefix="demo")
>>> append_arrow(con, name, pa.table({"a": [1, 2, 3]}))
>>> int(con.table(name).count().execute())
3
>>> drop_staging_table(con, name)
"""

from __future__ import annotations

import contextlib
import io
import uuid

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv
from ibis.backends import BaseBackend

STAGING_PREFIX = "_omnicrm_stage_"


def create_staging_table(con: BaseBackend, schema: pa.Schema, *, prefix: str) -> str:
    """Create an empty temporary table with ``schema``; return its (unique) name.

    Temporary tables belong to the connection: if the process dies they disappear with it,
    so an interrupted load leaves nothing behind.
    """
    name = f"{STAGING_PREFIX}{prefix}_{uuid.uuid4().hex[:12]}"
    con.create_table(name, schema=ibis.Schema.from_pyarrow(schema), temp=True)
    return name


def append_arrow(con: BaseBackend, name: str, data: pa.Table) -> None:
    """Append ``data`` (columns in the table's order) to table ``name``."""
    if data.num_rows == 0:
        return
    if con.name == "duckdb":
        raw = con.con
        view = f"_omnicrm_batch_{uuid.uuid4().hex[:12]}"
        raw.register(view, data)
        try:
            cols = ", ".join(_quote(c) for c in data.column_names)
            raw.execute(f"INSERT INTO {_quote(name)} ({cols}) SELECT {cols} FROM {_quote(view)}")
        finally:
            raw.unregister(view)
    elif con.name == "postgres":
        _copy_postgres(con, name, data)
    else:
        con.insert(name, data)


def _copy_postgres(con: BaseBackend, name: str, data: pa.Table) -> None:
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    cols = ", ".join(_quote(c) for c in data.column_names)
    with (
        con.con.cursor() as cur,
        cur.copy(f"COPY {_quote(name)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(buf.getvalue())


def drop_staging_table(con: BaseBackend, name: str) -> None:
    """Drop a staging table if it still exists."""
    with contextlib.suppress(Exception):  # the connection may already be gone
        con.drop_table(name, force=True)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
