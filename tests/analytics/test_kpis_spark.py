"""The same KPI, cohort, migration and gap expressions give identical results on DuckDB and Spark.

The data is a seeded synthetic history (about 60 customers over four months, anonymous sales,
return receipts, exchanges in one order, four stores in three channels), loaded with the
contract's column types into an in-memory DuckDB and into the shared Spark session.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.analytics.benchmarks import kpi_gaps, load_targets
from omnicrm.analytics.cohorts import cohort_retention
from omnicrm.analytics.kpis import kpi_daily, kpi_table
from omnicrm.analytics.migration import segment_migration_between
from omnicrm.schema import TABLES
from omnicrm.warehouse import connect, ibis_schema

pytestmark = [pytest.mark.spark, pytest.mark.slow]

AS_OF = dt.datetime(2024, 4, 20, 12, tzinfo=dt.UTC)  # April is partial
STORES = {"s1": "store", "s2": "store", "web": "online", "app1": "app"}


def synthetic_lines(seed: int = 7, n_orders: int = 260) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for i in range(n_orders):
        ts = start + pd.Timedelta(minutes=int(rng.integers(0, 130 * 24 * 60)))
        customer = None if rng.random() < 0.15 else f"c{int(rng.integers(0, 60)):02d}"
        store = str(rng.choice(list(STORES)))
        is_return_receipt = rng.random() < 0.08
        for line in range(1, int(rng.integers(1, 4)) + 1):
            qty = int(rng.integers(1, 4))
            exchange = not is_return_receipt and line == 2 and rng.random() < 0.3
            if is_return_receipt or exchange:
                qty = -qty
            price = Decimal(int(rng.integers(100, 5000))) / 100
            discount = Decimal("0.00") if qty < 0 else Decimal(int(rng.integers(0, 50))) / 100
            rows.append({
                "order_id": f"o{i:04d}", "line_number": line, "order_ts": ts,
                "customer_id": customer, "store_id": store, "channel": STORES[store],
                "product_id": f"p{int(rng.integers(0, 30))}", "quantity": Decimal(qty),
                "unit_price": price, "discount_amount": discount,
                "amount": qty * price - discount, "promotion_id": None, "is_return": qty < 0,
            })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def backends(spark_warehouse):
    """(duckdb tables, spark tables): lines, members, segments."""
    df = synthetic_lines()
    customers = sorted(df.customer_id.dropna().unique())
    members = pd.DataFrame({"customer_id": customers[::3], "is_member": True})
    segments = pd.DataFrame(
        {"customer_id": customers[::2], "rfm_segment": ["gold", "silver", "bronze"] * 10}
    )
    schema = ibis_schema(TABLES["order_lines"])
    out = []
    for con in (connect("duckdb://:memory:"), spark_warehouse):
        out.append({
            "lines": load(con, "kpi_spark_lines", ibis.memtable(df, schema=schema)),
            "members": load(con, "kpi_spark_members", ibis.memtable(members)),
            "segments": load(con, "kpi_spark_segments", ibis.memtable(segments)),
        })  # fmt: skip
    return out


def load(con, name: str, table: ibis.Table) -> ibis.Table:
    """A table in DuckDB; a temporary view in Spark (nothing written to spark-warehouse/)."""
    if con.name == "pyspark":
        return con.create_view(name, table, overwrite=True)
    return con.create_table(name, table, overwrite=True)


def frame(expr, keys: list[str]) -> pd.DataFrame:
    df = expr.execute()
    for col in df.columns:
        if col in ("period_start", "cohort_month"):
            df[col] = pd.to_datetime(df[col]).dt.date
        elif df[col].dtype == object and df[col].map(lambda v: isinstance(v, Decimal)).any():
            df[col] = df[col].map(str)
    return df.sort_values(keys).reset_index(drop=True)


KPI_KEYS = ["period_start", "dimension", "dimension_value", "metric"]


# kpi_daily below covers the overall, channel and store breakdowns at day grain.
@pytest.mark.parametrize(("grain", "by"), [("week", "store_id"), ("month", "segment")])
def test_kpi_table_is_identical_on_duckdb_and_spark(backends, grain, by):
    def make(t):
        segments = t["segments"] if by == "segment" else None
        return kpi_table(
            t["lines"], as_of=AS_OF, grain=grain, by=by, segments=segments, members=t["members"]
        )

    duck, spark = (frame(make(t), KPI_KEYS) for t in backends)
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
    assert len(duck) > 0
    assert duck.value.notna().any()


def test_kpi_daily_is_identical_on_duckdb_and_spark(backends):
    duck, spark = (
        frame(kpi_daily(t["lines"], as_of=AS_OF, members=t["members"]), KPI_KEYS) for t in backends
    )
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
    assert set(duck.dimension) == {"all", "channel", "store_id"}


def test_cohorts_are_identical_on_duckdb_and_spark(backends):
    duck, spark = (
        frame(cohort_retention(t["lines"], as_of=AS_OF), ["cohort_month", "months_since"])
        for t in backends
    )
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
    assert duck.months_since.max() == 3  # January cohort seen in January … April


def test_migration_is_identical_on_duckdb_and_spark(backends):
    def by_orders(lines, *, as_of):
        past = lines.filter(lines.order_ts < as_of)
        n = past.group_by("customer_id").aggregate(n=past.order_id.nunique())
        n = n.filter(n.customer_id.notnull())
        return n.select("customer_id", segment=ibis.ifelse(n.n >= 3, "repeat", "few"))

    duck, spark = (
        frame(
            segment_migration_between(t["lines"], by_orders, start="2024-02-01", end=AS_OF),
            ["segment_from", "segment_to"],
        )
        for t in backends
    )
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
    assert duck.customers.sum() > 0


def test_gaps_are_identical_on_duckdb_and_spark(backends, spark_warehouse):
    duck_kpis = backends[0]["lines"]
    kpis = kpi_table(duck_kpis, as_of=AS_OF, grain="month", by="channel").execute()
    cons = (backends[0]["lines"]._find_backend(), spark_warehouse)
    duck, spark = (
        frame(
            kpi_gaps(
                load(con, "kpi_spark_kpis", ibis.memtable(kpis)), load_targets(), latest=False
            ),
            KPI_KEYS,
        )
        for con in cons
    )
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
    assert set(duck.status) <= {"on track", "below target", "no data"}
    assert len(duck) > 0
