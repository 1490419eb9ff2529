"""Fixtures shared by the analytics tests.

``spark`` is one PySpark local-mode warehouse for the whole test session (starting Spark takes
about ten seconds); tests using it are marked ``spark`` and ``slow``. ``load_lines`` puts a
DataFrame of sales lines into any backend as a table typed like the ``order_lines`` contract
(Spark gets a temporary view, so nothing is written to disk).
"""

from __future__ import annotations

import os

import ibis
import pandas as pd
import pytest

from omnicrm.schema import TABLES
from omnicrm.warehouse import ibis_schema


@pytest.fixture(scope="session")
def spark():
    """A PySpark local[2] Ibis backend shared by the session (skipped without pyspark)."""
    pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from omnicrm.warehouse import connect

    con = connect("pyspark://local[2]")
    con._session.sparkContext.setLogLevel("ERROR")
    yield con
    con._session.stop()


@pytest.fixture(scope="session")
def spark_warehouse(spark):
    """The same shared Spark backend under the name used by the KPI tests."""
    return spark


def contract_frame(df: pd.DataFrame, table: str = "order_lines") -> ibis.Table:
    """``df`` as an in-memory Ibis table with the contract's column types.

    Columns of the contract missing from ``df`` are added as nulls.
    """
    schema = ibis_schema(TABLES[table])
    df = df.copy()
    for name in schema.names:
        if name not in df.columns:
            df[name] = None
    return ibis.memtable(df[list(schema.names)]).cast(schema)


@pytest.fixture(scope="session")
def load_lines():
    """``load_lines(con, df, name="order_lines")`` -> the table, typed as the contract."""

    def load(con, df: pd.DataFrame, name: str = "order_lines", table: str = "order_lines"):
        expr = contract_frame(df, table)
        if con.name == "pyspark":
            return con.create_view(name, expr, overwrite=True)
        return con.create_table(name, expr, overwrite=True)

    return load
