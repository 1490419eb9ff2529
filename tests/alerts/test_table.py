"""The alerts tables: insert-once by id, pending until a receipt exists."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from omnicrm.alerts import alerts_with_delivery, pending_alerts, store_alerts
from omnicrm.alerts.table import record_delivery

from .test_delivery import make_alerts


def test_alerts_are_stored_once_by_id(warehouse):
    assert store_alerts(warehouse, make_alerts(2)) == 2
    assert store_alerts(warehouse, make_alerts(3)) == 1
    stored = alerts_with_delivery(warehouse)
    assert stored["alert_id"].tolist() == ["id0", "id1", "id2"]
    assert stored["ds"].astype(str).tolist() == ["2026-06-01", "2026-06-02", "2026-06-03"]
    assert str(warehouse.table("alerts").schema()["actual"]) == "decimal(18, 3)"


def test_a_receipt_makes_an_alert_delivered(warehouse):
    store_alerts(warehouse, make_alerts(2))
    at = dt.datetime(2026, 6, 2, 8, tzinfo=dt.UTC)
    record_delivery(warehouse, "id1", "http://h/x", attempts=2, http_status=200, at=at)
    assert pending_alerts(warehouse, "http://h/x")["alert_id"].tolist() == ["id0"]
    got = alerts_with_delivery(warehouse, "http://h/x").set_index("alert_id")["delivered_at"]
    assert pd.Timestamp(got["id1"]) == pd.Timestamp(at)


def test_empty_input_stores_nothing(warehouse):
    assert store_alerts(warehouse, make_alerts(0)) == 0
    assert pending_alerts(warehouse).empty
