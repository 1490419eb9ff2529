"""Daily KPI series to check for anomalies, overall and per store, from the warehouse.

The figures are those of :func:`omnicrm.analytics.kpis.kpi_table` (``docs/metrics.md``):
``revenue`` (net amount of all lines), ``orders`` (purchase orders) and ``active_customers``
(identified customers with a purchase), per UTC day, for days before ``as_of``.

Examples
--------
>>> import datetime as dt, ibis
>>> from decimal import Decimal
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2"], "line_number": [1, 1], "customer_id": ["c1", "c2"],
...     "order_ts": [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
...                  dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)],
...     "channel": ["store", "store"], "store_id": ["s1", "s1"], "product_id": ["p", "p"],
...     "quantity": [Decimal("1.000"), Decimal("2.000")],
...     "unit_price": [Decimal("10.00"), Decimal("5.00")],
...     "discount_amount": [Decimal("0.00"), Decimal("0.00")],
...     "amount": [Decimal("10.00"), Decimal("10.00")], "is_return": [False, False]})
>>> k = daily_kpis(lines, as_of="2024-01-03", metrics=("orders",))
>>> k[k["scope"] == "all"][["ds", "value"]].astype(str).values.tolist()
[['2024-01-01', '1.0'], ['2024-01-02', '1.0']]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import pandas as pd

from omnicrm.analytics.kpis import kpi_table
from omnicrm.errors import InputError

ALERT_METRICS: tuple[str, ...] = ("revenue", "orders", "active_customers")


def daily_kpis(
    lines: ibis.Table,
    *,
    as_of: dt.date | dt.datetime | str,
    metrics: Sequence[str] = ALERT_METRICS,
    by_store: bool = True,
    start: dt.date | str | None = None,
) -> pd.DataFrame:
    """``metric, scope, ds, value`` per day: overall (scope ``all``) and per store.

    ``start`` drops earlier days (a shorter history is faster to model; keep at least eight
    weeks so the weekly cycle and the intervals can be learnt).
    """
    unknown = [m for m in metrics if m not in ALERT_METRICS]
    if unknown:
        raise InputError(f"metrics {unknown} cannot be alerted on; choose from {ALERT_METRICS}")
    frames = []
    for by in [None, "store_id"] if by_store else [None]:
        t = kpi_table(lines, as_of=as_of, grain="day", by=by, include_partial=False)
        t = t.filter(t.metric.isin(list(metrics)))
        if start is not None:
            t = t.filter(t.period_start >= pd.Timestamp(start).date())
        frames.append(t.to_pandas())
    k = pd.concat(frames, ignore_index=True)
    scope = k["dimension_value"].astype(str)
    k["scope"] = scope.where(k["dimension"] == "all", "store=" + scope)
    out = pd.DataFrame(
        {
            "metric": k["metric"],
            "scope": k["scope"],
            "ds": pd.to_datetime(k["period_start"]),
            "value": k["value"].astype("float64").fillna(0.0),
        }
    )
    return out.sort_values(["metric", "scope", "ds"], kind="stable").reset_index(drop=True)
