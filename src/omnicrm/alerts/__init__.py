"""KPI alerts: stored in the warehouse (``alerts``, ``alert_deliveries``) and delivered to a
webhook with retries and idempotency keys.

Detection lives in :mod:`omnicrm.models.forecast.anomaly`; :mod:`omnicrm.alerts.kpis` builds
the daily KPI series it checks; :mod:`omnicrm.alerts.delivery` sends them.
"""

from omnicrm.alerts.delivery import DeliveryReport, Webhook, alert_payload, deliver_pending
from omnicrm.alerts.table import (
    ALERT_DELIVERIES,
    ALERTS,
    alerts_with_delivery,
    pending_alerts,
    store_alerts,
)

__all__ = [
    "ALERTS",
    "ALERT_DELIVERIES",
    "DeliveryReport",
    "Webhook",
    "alert_payload",
    "alerts_with_delivery",
    "deliver_pending",
    "pending_alerts",
    "store_alerts",
]
