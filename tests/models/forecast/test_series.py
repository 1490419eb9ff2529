"""Demand series from warehouse order lines: aggregated in the warehouse, zero-filled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.series import demand_series
from omnicrm.schema import TABLES
from omnicrm.warehouse import ensure_table


def ts(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def wh(warehouse):
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6"],
            "line_number": [1, 2, 1, 1, 1, 1, 1],
            "order_ts": [ts(1), ts(1), ts(3), ts(3, 23), ts(4), ts(8), ts(9)],
            "store_id": ["s1", "s1", "s2", "s1", "s1", None, "s1"],
            "product_id": ["p1", "p2", "p1", "p1", "p1", "p2", "p1"],
            "quantity": [
                Decimal("2.000"),
                Decimal("1.500"),
                Decimal("4.000"),
                Decimal("1.000"),
                Decimal("-1.000"),
                Decimal("3.000"),
                Decimal("5.000"),
            ],
            "unit_price": [Decimal("1.00")] * 7,
            "amount": [Decimal("1.00")] * 7,
        }
    )
    for name in ("order_lines", "products", "stores"):
        ensure_table(warehouse, TABLES[name])
    warehouse.insert("order_lines", lines.reindex(columns=TABLES["order_lines"].column_names))
    warehouse.insert(
        "products",
        pd.DataFrame(
            {
                "product_id": ["p1", "p2"],
                "name": ["Milk", "Yogurt"],
                "category": ["Dairy", "Dairy"],
            }
        ).reindex(columns=TABLES["products"].column_names),
    )
    warehouse.insert(
        "stores",
        pd.DataFrame(
            {
                "store_id": ["s1", "s2"],
                "name": ["A", "B"],
                "channel": ["store", "store"],
                "region": ["North", "South"],
            }
        ).reindex(columns=TABLES["stores"].column_names),
    )
    return warehouse


def test_product_store_series_are_zero_filled_up_to_as_of(wh):
    s = demand_series(
        wh.table("order_lines"),
        products=wh.table("products"),
        stores=wh.table("stores"),
        as_of="2024-01-09",
    )
    p1s1 = s[s["unique_id"] == "p1@s1"]
    assert p1s1["ds"].dt.day.tolist() == list(range(1, 9))
    assert p1s1["y"].tolist() == [2, 0, 1, -1, 0, 0, 0, 0]  # the 9th is not before as_of
    assert p1s1[["category", "region"]].drop_duplicates().values.tolist() == [["Dairy", "North"]]
    unknown = s[s["unique_id"] == "p2@unknown"]
    assert unknown["region"].iloc[0] == "unknown"
    assert unknown["y"].tolist() == [3.0]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("category", {"category=Dairy": [3.5, 0, 5, -1, 0, 0, 0, 3, 5]}),
        # a series starts at its first sale: South sold only on the 3rd, "unknown" on the 8th
        (
            "region",
            {
                "region=North": [3.5, 0, 1, -1, 0, 0, 0, 0, 5],
                "region=South": [4.0, 0, 0, 0, 0, 0, 0],
                "region=unknown": [3.0, 0],
            },
        ),
        ("total", {"total": [3.5, 0, 5, -1, 0, 0, 0, 3, 5]}),
    ],
)
def test_aggregate_levels(wh, level, expected):
    s = demand_series(
        wh.table("order_lines"),
        products=wh.table("products"),
        stores=wh.table("stores"),
        level=level,
    )
    got = {k: g.sort_values("ds")["y"].tolist() for k, g in s.groupby("unique_id")}
    assert got == expected


def test_weekly_series_use_complete_weeks_before_as_of(wh):
    s = demand_series(wh.table("order_lines"), level="total", freq="W", as_of="2024-01-15")
    assert s["ds"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    assert s["y"].tolist() == [7.5, 8.0]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"level": "city"}, "level='city'"),
        ({"level": "category"}, "needs the products table"),
        ({"level": "region"}, "needs the stores table"),
        ({"as_of": "2023-01-01"}, "no sales lines before as_of"),
        ({"as_of": "yesterday"}, "not a date"),
    ],
)
def test_bad_arguments(wh, kw, match):
    with pytest.raises(InputError, match=match):
        demand_series(wh.table("order_lines"), **kw)
