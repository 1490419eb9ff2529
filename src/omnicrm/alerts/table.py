"""The ``alerts`` and ``alert_deliveries`` warehouse tables, and their reads and writes.

Both tables are insert-only (no UPDATE, so every warehouse backend works): an alert is written
once, keyed by its stable id; each successful webhook delivery appends one row to
``alert_deliveries`` with its ``delivered_at`` time. :func:`alerts_with_delivery` joins them,
and an alert is *pending* until it has a delivery row.

Examples
--------
>>> from omnicrm.warehouse import connect
>>> con = connect("duckdb://:memory:")
>>> import pandas as pd
>>> a = pd.DataFrame([{"alert_id": "x1", "metric": "orders", "scope": "all",
...                    "ds": pd.Timestamp("2026-06-01"), "severity": "warning",
...                    "direction": "below", "actual": 80.0, "expected": 100.0,
...                    "lo_warning": 90.0, "hi_warning": 110.0, "lo_critical": 85.0,
...                    "hi_critical": 115.0, "deviation_pct": -20.0, "message": "orders …"}])
>>> store_alerts(con, a), store_alerts(con, a)
(1, 0)
>>> pending_alerts(con)["alert_id"].tolist()
['x1']
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.schema.types import Column, OneOf, Table
from omnicrm.warehouse import ensure_table

ALERTS = Table(
    name="alerts",
    grain="one row per KPI anomaly (metric, scope, day and severity)",
    key=("alert_id",),
    description="KPI values outside their forecast intervals, with an explanation.",
    columns=(
        Column(
            "alert_id",
            "string",
            required=True,
            description="Stable id: hash of metric, scope, day and severity.",
        ),
        Column("created_at", "timestamp", required=True, description="When it was computed."),
        Column("metric", "string", required=True, description="KPI (revenue, orders, …)."),
        Column("scope", "string", required=True, description="'all' or 'store=<store_id>'."),
        Column("ds", "date", required=True, description="Day checked (UTC)."),
        Column(
            "severity",
            "string",
            required=True,
            checks=(OneOf(("warning", "critical")),),
            description="warning: outside the 80% interval; critical: outside 95%.",
        ),
        Column(
            "direction",
            "string",
            required=True,
            checks=(OneOf(("above", "below")),),
            description="Above or below the expected value.",
        ),
        Column("actual", "quantity", required=True, description="Observed value."),
        Column("expected", "quantity", required=True, description="Forecast value."),
        Column("lo_warning", "quantity", description="Lower bound of the warning interval."),
        Column("hi_warning", "quantity", description="Upper bound of the warning interval."),
        Column("lo_critical", "quantity", description="Lower bound of the critical interval."),
        Column("hi_critical", "quantity", description="Upper bound of the critical interval."),
        Column("deviation_pct", "quantity", description="100 * (actual - expected) / expected."),
        Column("message", "string", required=True, description="Explanation in one sentence."),
    ),
)

ALERT_DELIVERIES = Table(
    name="alert_deliveries",
    grain="one row per alert successfully delivered to a webhook",
    key=("alert_id", "target"),
    description="Delivery receipts; an alert without one is pending.",
    columns=(
        Column(
            "alert_id",
            "string",
            required=True,
            references="alerts.alert_id",
            description="Alert delivered.",
        ),
        Column("target", "string", required=True, description="Webhook URL."),
        Column("delivered_at", "timestamp", required=True, description="When it was accepted."),
        Column("attempts", "integer", required=True, description="HTTP attempts it took."),
        Column("http_status", "integer", required=True, description="Status of the success."),
    ),
)

ALERT_FIELDS = [c.name for c in ALERTS.columns if c.name != "created_at"]


def store_alerts(con: BaseBackend, alerts: pd.DataFrame, now: dt.datetime | None = None) -> int:
    """Insert the alerts whose id is not stored yet; return how many were new."""
    table = ensure_table(con, ALERTS)
    if alerts.empty:
        return 0
    known = set(table.select("alert_id").to_pandas()["alert_id"])
    new = alerts[~alerts["alert_id"].isin(known)].drop_duplicates("alert_id")
    if new.empty:
        return 0
    rows = new[ALERT_FIELDS].copy()
    rows["ds"] = pd.to_datetime(rows["ds"]).dt.date
    rows["created_at"] = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    con.insert(ALERTS.name, rows[ALERTS.column_names].astype({"deviation_pct": "float64"}))
    return len(rows)


def alerts_with_delivery(con: BaseBackend, target: str | None = None) -> pd.DataFrame:
    """Every stored alert with ``delivered_at`` (NaT while pending) for ``target`` (any)."""
    alerts = ensure_table(con, ALERTS)
    deliveries = ensure_table(con, ALERT_DELIVERIES)
    if target is not None:
        deliveries = deliveries.filter(deliveries.target == target)
    first = deliveries.group_by("alert_id").aggregate(delivered_at=deliveries.delivered_at.min())
    j = alerts.left_join(first, "alert_id").drop("alert_id_right")
    return j.order_by(["ds", "alert_id"]).to_pandas()


def pending_alerts(con: BaseBackend, target: str | None = None) -> pd.DataFrame:
    """Stored alerts not yet delivered to ``target``."""
    a = alerts_with_delivery(con, target)
    return a[a["delivered_at"].isna()].reset_index(drop=True)


def record_delivery(
    con: BaseBackend,
    alert_id: str,
    target: str,
    *,
    attempts: int,
    http_status: int,
    at: dt.datetime | None = None,
) -> None:
    """Append a delivery receipt."""
    ensure_table(con, ALERT_DELIVERIES)
    con.insert(
        ALERT_DELIVERIES.name,
        pd.DataFrame(
            [
                {
                    "alert_id": alert_id,
                    "target": target,
                    "delivered_at": pd.Timestamp(at or dt.datetime.now(dt.UTC)),
                    "attempts": attempts,
                    "http_status": http_status,
                }
            ]
        ),
    )
