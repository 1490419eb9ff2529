"""KPIs and cohorts against an independent reference implementation on random histories.

The reference below is written from the definitions in ``docs/metrics.md`` with plain Python
sets and loops over periods (no SQL, no group-by trickery), so a shared mistake in the Ibis
expressions and in the reference is unlikely. Each seed draws a different history with
anonymous sales, return receipts, exchanges and gaps of several periods.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.analytics.cohorts import cohort_retention
from omnicrm.analytics.kpis import kpi_lines, kpi_table
from omnicrm.analytics.periods import next_period, period_of

STORES = {"s1": "store", "s2": "store", "web": "online"}


def random_lines(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i in range(int(rng.integers(40, 90))):
        ts = start + dt.timedelta(minutes=int(rng.integers(0, 75 * 24 * 60)))
        customer = None if rng.random() < 0.2 else f"c{int(rng.integers(0, 12))}"
        store = str(rng.choice(list(STORES)))
        receipt_is_return = rng.random() < 0.1
        for line in range(1, int(rng.integers(1, 3)) + 1):
            qty = int(rng.integers(1, 3)) * (-1 if receipt_is_return or rng.random() < 0.1 else 1)
            amount = Decimal(int(rng.integers(100, 3000))) / 100 * qty
            rows.append((f"o{i}", line, ts, customer, store, STORES[store], Decimal(qty), amount))
    df = pd.DataFrame(rows, columns=["order_id", "line_number", "order_ts", "customer_id",
                                     "store_id", "channel", "quantity", "amount"])  # fmt: skip
    df["is_return"] = df.quantity < 0
    return df


def reference_kpis(df: pd.DataFrame, as_of: dt.datetime, grain: str, by: str | None) -> dict:
    df = df[df.order_ts < as_of].copy()
    df["period"] = [period_of(ts.date(), grain) for ts in df.order_ts]
    df["dv"] = "all" if by is None else df[by].fillna("unknown")
    first_period = period_of(df.order_ts.min().date(), grain)
    last_period = period_of((as_of - dt.timedelta(microseconds=1)).date(), grain)
    periods = [first_period]
    while periods[-1] < last_period:
        periods.append(next_period(periods[-1], grain))

    out = {}
    for dv, part in df.groupby("dv"):
        buys = part[~part.is_return & part.customer_id.notna()]
        first_buy = buys.groupby("customer_id").period.min()
        active_in: dict[dt.date, set] = {}
        for p in periods:
            active_in[p] = set(buys[buys.period == p].customer_id)
        previous = None
        for p in periods:
            if p < part.period.min():
                previous = p
                continue
            lines = part[part.period == p]
            purchases = lines[~lines.is_return]
            b = buys[buys.period == p]
            orders_per_customer = b.groupby("customer_id").order_id.nunique()
            active = len(active_in[p])
            prev_active = active_in.get(previous, set()) if previous else set()
            sales = float(purchases.amount.sum())
            returned = -float(lines[lines.is_return].amount.sum())
            orders = purchases.order_id.nunique()

            def ratio(a, b):
                return a / b if b else None

            retention = ratio(len(prev_active & active_in[p]), len(prev_active))
            values = {
                "active_customers": active,
                "new_customers": int((first_buy == p).sum()),
                "retention_rate": retention,
                "churn_rate": None if retention is None else 1 - retention,
                "repurchase_rate": ratio(int((orders_per_customer >= 2).sum()), active),
                "purchase_frequency": ratio(int(orders_per_customer.sum()), active),
                "orders": orders,
                "sales_amount": sales,
                "returned_amount": returned,
                "revenue": float(lines.amount.sum()),
                "average_order_value": ratio(sales, orders),
                "return_rate": ratio(returned, sales),
            }
            for metric, value in values.items():
                out[(p, dv, metric)] = None if value is None else float(value)
            previous = p
    return out


def table_of(df: pd.DataFrame, summed: bool) -> ibis.Table:
    """The lines as a table, or summed per order, day and kind (what ``analyze`` passes)."""
    table = ibis.memtable(df)
    return kpi_lines(table, as_of=AS_OF) if summed else table


def computed(df: pd.DataFrame, summed: bool = False, **kwargs) -> dict:
    got = kpi_table(table_of(df, summed), **kwargs).execute()
    return {
        (pd.Timestamp(r.period_start).date(), r.dimension_value, r.metric): (
            None if pd.isna(r.value) else float(r.value)
        )
        for r in got.itertuples()
    }


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, abs=1e-9), key


AS_OF = dt.datetime(2024, 3, 10, 15, tzinfo=dt.UTC)


SUMMED = pytest.mark.parametrize("summed", [False, True], ids=["lines", "kpi_lines"])


@SUMMED
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("grain", "by"), [("day", None), ("week", "channel"),
                                           ("month", "store_id")])  # fmt: skip
def test_kpis_match_the_reference(seed, grain, by, summed):
    df = random_lines(seed)
    assert_same(
        computed(df, summed, as_of=AS_OF, grain=grain, by=by),
        reference_kpis(df, AS_OF, grain, by),
    )


@SUMMED
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cohorts_match_the_reference(seed, summed):
    df = random_lines(seed)
    past = df[df.order_ts < AS_OF].copy()
    past["month"] = [ts.date().replace(day=1) for ts in past.order_ts]
    buys = past[~past.is_return & past.customer_id.notna()]
    cohort_of = buys.groupby("customer_id").month.min().to_dict()
    months = [min(past.month)]
    while months[-1] < (AS_OF - dt.timedelta(microseconds=1)).date().replace(day=1):
        months.append(next_period(months[-1], "month"))
    want = {}
    for cohort in sorted(set(cohort_of.values())):
        members = {c for c, m in cohort_of.items() if m == cohort}
        for k, month in enumerate(m for m in months if m >= cohort):
            active = set(buys[buys.month == month].customer_id) & members
            spend = past[(past.month == month) & past.customer_id.isin(members)].amount.sum()
            want[(cohort, k)] = (len(members), len(active), Decimal(spend))

    got = cohort_retention(table_of(df, summed), as_of=AS_OF).execute()
    assert {
        (pd.Timestamp(r.cohort_month).date(), r.months_since): (r.customers, r.active, r.revenue)
        for r in got.itertuples()
    } == want
    assert (got.retention == got.active / got.customers).all()
