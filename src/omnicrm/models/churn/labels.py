"""The churn label: no purchase in the ``horizon_days`` days from ``as_of``.

A customer with a purchase before ``as_of`` (the population of
:func:`omnicrm.models.churn.features.churn_features`) is **churned** when none of their lines
in ``[as_of, as_of + horizon_days)`` (days from midnight UTC of the ``as_of`` day) is a
purchase (``is_return`` not true and ``quantity > 0``). Returns in the window do not count as
activity.

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> t = lambda m, d: datetime(2024, m, d, tzinfo=timezone.utc)
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2", "o3", "o4"], "customer_id": ["a", "a", "b", "b"],
...     "order_ts": [t(1, 5), t(2, 10), t(1, 7), t(4, 30)],
...     "quantity": [1.0, 1.0, 1.0, 1.0], "amount": [1.0] * 4, "is_return": [False] * 4})
>>> churn_labels(lines, as_of="2024-02-01", horizon_days=30).execute().values.tolist()
[['a', 1, False], ['b', 0, True]]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis

from omnicrm.analytics.rfm import SALES_COLUMNS, as_of_timestamp, require_columns
from omnicrm.models.churn.data import as_of_day, check_horizon_days


def churn_labels(
    lines: ibis.Table, *, as_of: date | datetime | str, horizon_days: int = 90
) -> ibis.Table:
    """Label each customer with a purchase before ``as_of``.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines (``order_lines`` contract).
    as_of : date, datetime or str
        Start of the label window (its day, from midnight UTC).
    horizon_days : int, default 90
        Length of the label window in days.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``purchases_in_window`` (purchase orders in the window), ``churned``
        (no purchase in the window), ordered by ``customer_id``. The caller checks that the
        window is fully observed (:func:`omnicrm.models.churn.data.check_label_window`).
    """
    require_columns(lines, SALES_COLUMNS, "the sales lines table")
    horizon_days = check_horizon_days(horizon_days)
    start = as_of_timestamp(as_of_day(as_of))
    end = start + timedelta(days=horizon_days)
    known = lines.filter(lines.customer_id.notnull())
    bought = ~known.is_return.fill_null(False) & (known.quantity > 0)
    known = known.mutate(bought=bought)
    before = known.filter(known.bought, known.order_ts < start).select("customer_id").distinct()
    window = known.filter(known.bought, known.order_ts >= start, known.order_ts < end)
    counts = window.group_by(w_customer_id=window.customer_id).aggregate(
        purchases_in_window=window.order_id.nunique()
    )
    out = before.left_join(counts, before.customer_id == counts.w_customer_id)
    n = out.purchases_in_window.fill_null(0).cast("int64")
    return out.select("customer_id", purchases_in_window=n, churned=n == 0).order_by("customer_id")
