"""Daily KPI series for alerting: overall and per store, from the analytics KPI definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pandas as pd
import pytest

from omnicrm.alerts.kpis import daily_kpis
from omnicrm.errors import InputError


@pytest.fixture
def lines():
    ts = [dt.datetime(2024, 1, d, 10, tzinfo=dt.UTC) for d in (1, 1, 2, 3)]
    return ibis.memtable(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "line_number": [1, 1, 1, 1],
            "customer_id": ["c1", "c2", "c1", None],
            "order_ts": ts,
            "channel": ["store"] * 4,
            "store_id": ["s1", "s2", "s1", "s2"],
            "product_id": ["p"] * 4,
            "quantity": [Decimal("1.000"), Decimal("2.000"), Decimal("1.000"), Decimal("-1.000")],
            "unit_price": [Decimal("10.00")] * 4,
            "discount_amount": [Decimal("0.00")] * 4,
            "amount": [Decimal("10.00"), Decimal("20.00"), Decimal("10.00"), Decimal("-10.00")],
            "is_return": [False, False, False, True],
        }
    )


def test_overall_and_store_series(lines):
    k = daily_kpis(lines, as_of="2024-01-04")
    rev = k[k["metric"] == "revenue"].pivot(index="ds", columns="scope", values="value")
    assert rev["all"].tolist() == [30.0, 10.0, -10.0]
    assert rev["store=s1"].tolist()[:2] == [10.0, 10.0]
    act = k[(k["metric"] == "active_customers") & (k["scope"] == "all")]
    assert act["value"].tolist() == [2.0, 1.0, 0.0]
    assert set(k["metric"]) == {"revenue", "orders", "active_customers"}


def test_start_and_overall_only(lines):
    k = daily_kpis(
        lines, as_of="2024-01-04", by_store=False, start="2024-01-02", metrics=("orders",)
    )
    assert k["scope"].unique().tolist() == ["all"]
    assert k["ds"].min() == pd.Timestamp("2024-01-02")


def test_unknown_metric(lines):
    with pytest.raises(InputError, match="cannot be alerted on"):
        daily_kpis(lines, as_of="2024-01-04", metrics=("nps",))
