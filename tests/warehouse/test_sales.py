"""The sales lines analyses read leave out cancelled orders and their cancellation receipts."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.warehouse import connect
from omnicrm.warehouse.sales import sold_lines, without_cancelled

LINES = pd.DataFrame(
    {
        "order_id": ["O1", "O1", "O2", "O2", "CO2", "CO2", "O3"],
        "line_number": [1, 2, 1, 2, 1, 2, 1],
        "amount": [10.0, 5.0, 20.0, 8.0, -20.0, -8.0, 7.0],
    }
)
ORDERS = pd.DataFrame(
    {
        # O2 was cancelled: the order and its cancellation receipt CO2 both carry the flag
        "order_id": ["O1", "O2", "CO2", "O3"],
        "is_cancelled": [False, True, True, None],
    }
)


def _ids(table) -> list[tuple[str, int]]:
    frame = table.order_by(["order_id", "line_number"]).to_pandas()
    return list(zip(frame.order_id, frame.line_number, strict=True))


@pytest.fixture
def con():
    con = connect("duckdb://:memory:")
    con.create_table("order_lines", LINES)
    yield con
    con.disconnect()


def test_a_cancelled_order_and_its_receipt_are_left_out(con):
    con.create_table("orders", ORDERS)
    kept = sold_lines(con)
    assert _ids(kept) == [("O1", 1), ("O1", 2), ("O3", 1)]
    assert kept.columns == tuple(LINES.columns)


def test_revenue_is_the_same_with_or_without_the_cancelled_pair(con):
    con.create_table("orders", ORDERS)
    assert sold_lines(con).amount.sum().execute() == con.table("order_lines").amount.sum().execute()


def test_a_missing_flag_means_not_cancelled(con):
    con.create_table("orders", ORDERS.assign(is_cancelled=pd.array([None] * 4, "boolean")))
    assert sold_lines(con).count().execute() == len(LINES)


def test_without_an_orders_table_every_line_is_read(con):
    assert _ids(sold_lines(con)) == _ids(con.table("order_lines"))


def test_orders_without_the_flag_column_leave_the_lines_alone(con):
    con.create_table("orders", ORDERS.drop(columns="is_cancelled"))
    assert sold_lines(con).count().execute() == len(LINES)


def test_a_repeated_order_header_never_repeats_a_line(con):
    con.create_table("orders", pd.concat([ORDERS, ORDERS.iloc[[0, 3]]]))
    assert _ids(sold_lines(con)) == [("O1", 1), ("O1", 2), ("O3", 1)]


def test_a_warehouse_without_sales_says_to_ingest_them():
    con = connect("duckdb://:memory:")
    with pytest.raises(InputError, match="omnicrm ingest FILE --table order_lines"):
        sold_lines(con)


def test_spark_leaves_out_the_same_lines(con, spark_warehouse):
    # temporary views: nothing is written to spark-warehouse/
    spark = without_cancelled(
        spark_warehouse.create_view("sales_test_lines", ibis.memtable(LINES), overwrite=True),
        spark_warehouse.create_view("sales_test_orders", ibis.memtable(ORDERS), overwrite=True),
    )
    duck = without_cancelled(con.table("order_lines"), con.create_table("orders", ORDERS))
    assert _ids(spark) == _ids(duck) == [("O1", 1), ("O1", 2), ("O3", 1)]
