"""Monthly cohort retention: who keeps buying, month after month, after their first purchase.

Definitions (same text in ``docs/metrics.md``)
-----------------------------------------------
- Only lines with ``order_ts < as_of`` count; months are UTC calendar months.
- A customer's **cohort** is the month of their first purchase line (a line that is not a
  return) before ``as_of``. Anonymous lines (``customer_id`` null) belong to no cohort, and so do
  customers who only ever returned goods.
- ``months_since`` = k: the k-th month after the cohort month (0 = the cohort month itself).
- ``customers``: size of the cohort. ``active``: cohort customers with at least one purchase
  line in month k. ``retention`` = active / customers (1.0 at k = 0 by construction).
- ``revenue``: net amount (purchases minus returns, after discounts) of the cohort's customers
  in month k, DECIMAL.
- Every cell from k = 0 up to the last month before ``as_of`` is present, zero cells included.

Examples
--------
>>> import datetime as dt, ibis
>>> from decimal import Decimal
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2", "o3"], "customer_id": ["a", "b", "a"],
...     "order_ts": [dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
...                  dt.datetime(2024, 1, 9, tzinfo=dt.UTC),
...                  dt.datetime(2024, 2, 2, tzinfo=dt.UTC)],
...     "quantity": [Decimal("1")] * 3, "amount": [Decimal("10.00")] * 3})
>>> m = cohort_retention(lines, as_of="2024-03-01").execute()
>>> m[["months_since", "customers", "active", "retention"]].to_dict("records")[1]
{'months_since': 1, 'customers': 2, 'active': 1, 'retention': 0.5}
"""

from __future__ import annotations

import datetime as dt

import ibis

from omnicrm.analytics.kpis import return_flag, sales_window, to_utc
from omnicrm.analytics.periods import period_calendar
from omnicrm.analytics.rfm import order_date

COHORT_COLUMNS: tuple[str, ...] = (
    "cohort_month", "months_since", "customers", "active", "retention", "revenue"
)  # fmt: skip


def cohort_retention(
    lines: ibis.Table,
    *,
    as_of: dt.date | dt.datetime | str,
    include_partial: bool = True,
) -> ibis.Table:
    """Monthly cohort retention matrix in long format.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` columns (``customer_id`` is the customer key).
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used; a date means midnight UTC.
    include_partial : bool
        Keep the month containing ``as_of`` when it is not finished (its retention is then a
        month-to-date figure).

    Returns
    -------
    ibis.Table
        ``cohort_month`` (date, first day of the month), ``months_since`` (int64, 0, 1, …),
        ``customers`` (cohort size), ``active``, ``retention`` (float64), ``revenue``
        (decimal(38, 2)). One row per cohort and month from the cohort month on; sorted.

    Raises
    ------
    InputError
        Missing columns, an empty table, or ``as_of`` not after the first order.
    """
    as_of_utc = to_utc(as_of)
    window, first = sales_window(lines, as_of_utc)
    months = period_calendar(first, as_of_utc, "month", include_partial=include_partial)
    months = months.select(month="period_start")

    identified = window.filter(window.customer_id.notnull())
    identified = identified.mutate(
        month=order_date(identified).truncate("M"), is_ret=return_flag(identified)
    )
    buys = identified.filter(~identified.is_ret)
    cohorts = buys.group_by("customer_id").aggregate(cohort_month=buys.month.min())
    sizes = cohorts.group_by("cohort_month").aggregate(customers=cohorts.count())

    activity = buys.select("customer_id", "month").distinct()
    activity = activity.join(cohorts, "customer_id")
    active = activity.group_by(["cohort_month", "month"]).aggregate(active=activity.count())

    spend = identified.group_by(["customer_id", "month"]).aggregate(revenue=identified.amount.sum())
    spend = spend.join(cohorts, "customer_id")
    revenue = spend.group_by(["cohort_month", "month"]).aggregate(
        revenue=spend.revenue.sum().cast("decimal(38, 2)")
    )

    grid = sizes.cross_join(months)
    grid = grid.filter(grid.month >= grid.cohort_month)
    keys = ["cohort_month", "month"]
    cells = (
        grid.left_join(active, keys).drop("cohort_month_right", "month_right")
        .left_join(revenue, keys).drop("cohort_month_right", "month_right")
    )  # fmt: skip
    months_since = (cells.month.year() - cells.cohort_month.year()) * 12 + (
        cells.month.month() - cells.cohort_month.month()
    )
    active_n = cells.active.fill_null(0).cast("int64")
    return cells.select(
        cohort_month="cohort_month",
        months_since=months_since.cast("int64"),
        customers=cells.customers.cast("int64"),
        active=active_n,
        retention=active_n.cast("float64") / cells.customers.cast("float64"),
        revenue=cells.revenue.fill_null(ibis.literal(0).cast("decimal(38, 2)")),
    ).order_by(["cohort_month", "months_since"])
