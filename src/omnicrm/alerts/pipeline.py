"""One alert run: daily KPIs from the warehouse, anomalies against forecast intervals, new
alerts stored in ``alerts``.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> import pandas as pd
>>> from omnicrm.schema import TABLES
>>> from omnicrm.warehouse import connect, ensure_table
>>> con = connect("duckdb://:memory:")
>>> _ = ensure_table(con, TABLES["order_lines"])
>>> days = pd.date_range("2026-01-01", periods=70, tz="UTC") + pd.Timedelta(hours=10)
>>> amount = [Decimal(100 + 7 * (i % 3)) for i in range(69)] + [Decimal(20)]
>>> con.insert("order_lines", pd.DataFrame({
...     "order_id": [f"o{i}" for i in range(70)], "line_number": 1, "order_ts": days,
...     "customer_id": "c1", "store_id": "s1", "channel": "store", "product_id": "p1",
...     "quantity": Decimal(1), "unit_price": amount, "amount": amount,
...     "is_return": False}).reindex(columns=TABLES["order_lines"].column_names))
>>> run = run_alerts(con, check_days=1)
>>> run.alerts[["metric", "scope", "severity"]].values.tolist()
[['revenue', 'all', 'critical'], ['revenue', 'store=s1', 'critical']]
>>> run_alerts(con, check_days=1).summary["new"]
0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.alerts.kpis import ALERT_METRICS, daily_kpis
from omnicrm.alerts.table import store_alerts
from omnicrm.errors import InputError
from omnicrm.models.forecast.anomaly import detect_anomalies
from omnicrm.models.forecast.pipeline import default_as_of
from omnicrm.models.forecast.series import parse_as_of
from omnicrm.warehouse.sales import sold_lines

HISTORY_DAYS = 120
"""Days of KPI history modelled before the checked days."""


@dataclass
class AlertRun:
    """Result of :func:`run_alerts`."""

    alerts: pd.DataFrame
    kpis: pd.DataFrame
    summary: dict[str, Any]


def run_alerts(
    con: BaseBackend,
    *,
    as_of: dt.date | str | None = None,
    check_days: int = 1,
    currency: str = "yuan",
    by_store: bool = True,
    history_days: int = HISTORY_DAYS,
) -> AlertRun:
    """Check the ``check_days`` days before ``as_of`` and store the new alerts."""
    day = default_as_of(con) if as_of is None else parse_as_of(as_of).date()
    if not isinstance(check_days, int) or check_days < 1:
        raise InputError(f"check_days={check_days!r} must be an integer >= 1")
    start = day - dt.timedelta(days=history_days + check_days)
    kpis = daily_kpis(sold_lines(con), as_of=day, by_store=by_store, start=start)
    units = {"revenue": currency}
    found = detect_anomalies(kpis, check_days=check_days, units=units)
    new = store_alerts(con, found)
    first = day - dt.timedelta(days=check_days)
    summary = {
        "as_of": day.isoformat(),
        "checked_from": first.isoformat(),
        "checked_to": (day - dt.timedelta(days=1)).isoformat(),
        "metrics": list(ALERT_METRICS),
        "series_checked": int(kpis.groupby(["metric", "scope"]).ngroups),
        "alerts": len(found),
        "new": new,
        "critical": int((found["severity"] == "critical").sum()) if len(found) else 0,
        "messages": found["message"].tolist() if len(found) else [],
    }
    return AlertRun(found, kpis, summary)
