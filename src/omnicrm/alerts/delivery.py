"""Deliver alerts to a webhook: JSON POST, retries with exponential backoff, no duplicates.

Guarantees
----------
- Each alert is POSTed as one JSON object (:func:`alert_payload`) with the header
  ``Idempotency-Key: <alert_id>``; the id is stable, so a receiver can drop repeats.
- Retries: on connection errors, timeouts, HTTP 5xx, 408 and 429, after waiting
  ``min(max_backoff, backoff * 2**(attempt - 1))`` seconds (or the server's ``Retry-After``,
  capped the same way), up to ``max_attempts`` attempts. Other 4xx answers are not retried
  (the request itself is wrong) and are reported.
- A 2xx answer appends a receipt to ``alert_deliveries`` at once (``delivered_at``); alerts
  with a receipt for the URL are never sent there again. If the process dies between the
  receiver's 2xx and the receipt, the next run sends that alert again with the same
  ``Idempotency-Key`` — at-least-once delivery, exactly-once at a receiver that honours the key.
- When retries are exhausted on an unreachable or failing server, the run stops; the remaining
  alerts stay pending for the next run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd
from ibis.backends import BaseBackend

from omnicrm import __version__
from omnicrm.alerts.table import pending_alerts, record_delivery
from omnicrm.errors import InputError

RETRY_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class Webhook:
    """Where and how to deliver alerts.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL receiving the POSTs.
    timeout : float
        Seconds per request (connect + read).
    max_attempts : int
        Attempts per alert (>= 1).
    backoff, max_backoff : float
        First wait and cap of the exponential backoff, in seconds.
    headers : mapping
        Extra headers (e.g. an ``Authorization`` token).
    """

    url: str
    timeout: float = 10.0
    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(
                f"webhook URL {self.url!r} must start with http:// or https:// "
                "and name a host (--webhook or OMNICRM_ALERT_WEBHOOK)"
            )
        if self.max_attempts < 1:
            raise InputError(f"max_attempts={self.max_attempts!r} must be >= 1")
        if self.timeout <= 0 or self.backoff < 0 or self.max_backoff < 0:
            raise InputError("timeout must be > 0, backoff and max_backoff >= 0")

    def wait(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))


@dataclass
class DeliveryReport:
    """What a delivery run did."""

    target: str
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    pending_left: int = 0
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending_left": self.pending_left,
            "attempts": self.attempts,
        }


class _ExhaustedError(Exception):
    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason, self.attempts = reason, attempts


class _RejectedError(Exception):
    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason, self.attempts = reason, attempts


def _num(x: Any) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return None
    return float(x)


def alert_payload(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of one alert.

    Examples
    --------
    >>> p = alert_payload({"alert_id": "a1", "metric": "orders", "scope": "all",
    ...                    "ds": "2026-06-01", "severity": "warning", "direction": "below",
    ...                    "actual": 80, "expected": 100, "lo_warning": 90, "hi_warning": 110,
    ...                    "lo_critical": 85, "hi_critical": 115, "deviation_pct": -20,
    ...                    "message": "orders 80 …"})
    >>> p["interval_warning"], p["date"]
    ([90.0, 110.0], '2026-06-01')
    """
    return {
        "alert_id": str(alert["alert_id"]),
        "metric": str(alert["metric"]),
        "scope": str(alert["scope"]),
        "date": pd.Timestamp(alert["ds"]).strftime("%Y-%m-%d"),
        "severity": str(alert["severity"]),
        "direction": str(alert["direction"]),
        "actual": _num(alert["actual"]),
        "expected": _num(alert["expected"]),
        "interval_warning": [_num(alert["lo_warning"]), _num(alert["hi_warning"])],
        "interval_critical": [_num(alert["lo_critical"]), _num(alert["hi_critical"])],
        "deviation_pct": _num(alert.get("deviation_pct")),
        "message": str(alert["message"]),
    }


def post_alert(
    client: httpx.Client,
    hook: Webhook,
    payload: Mapping[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, int]:
    """POST one alert with retries; return ``(http_status, attempts)`` of the success."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": payload["alert_id"],
        "User-Agent": f"omnicrm/{__version__}",
        **hook.headers,
    }
    reason = ""
    for attempt in range(1, hook.max_attempts + 1):
        retry_after = None
        try:
            r = client.post(hook.url, content=body, headers=headers, timeout=hook.timeout)
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
        else:
            if 200 <= r.status_code < 300:
                return r.status_code, attempt
            reason = f"HTTP {r.status_code}"
            if r.status_code < 500 and r.status_code not in RETRY_STATUS:
                raise _RejectedError(f"{reason}: {r.text[:200]}", attempt)
            retry_after = r.headers.get("Retry-After")
        if attempt < hook.max_attempts:
            sleep(hook.wait(attempt, retry_after))
    raise _ExhaustedError(reason, hook.max_attempts)


def deliver_pending(
    con: BaseBackend,
    hook: Webhook,
    *,
    sleep: Callable[[float], None] = time.sleep,
    client: httpx.Client | None = None,
) -> DeliveryReport:
    """Send every stored alert not yet delivered to ``hook.url``; record receipts."""
    pending = pending_alerts(con, hook.url)
    report = DeliveryReport(target=hook.url)
    own = client is None
    client = client or httpx.Client()
    try:
        for i, alert in enumerate(pending.to_dict("records")):
            try:
                status, attempts = post_alert(client, hook, alert_payload(alert), sleep=sleep)
            except _RejectedError as exc:
                report.failed[alert["alert_id"]] = exc.reason
                report.attempts += exc.attempts
                continue
            except _ExhaustedError as exc:
                report.failed[alert["alert_id"]] = (
                    f"gave up after {exc.attempts} attempts ({exc.reason})"
                )
                report.attempts += exc.attempts
                report.pending_left = len(pending) - i - 1
                break
            report.attempts += attempts
            record_delivery(
                con,
                alert["alert_id"],
                hook.url,
                attempts=attempts,
                http_status=status,
                at=dt.datetime.now(dt.UTC),
            )
            report.delivered.append(alert["alert_id"])
    finally:
        if own:
            client.close()
    return report
