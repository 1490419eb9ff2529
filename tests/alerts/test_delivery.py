"""Webhook delivery against a real local HTTP server: retries, idempotency, no duplicates."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from omnicrm.alerts import (
    Webhook,
    alerts_with_delivery,
    deliver_pending,
    pending_alerts,
    store_alerts,
)
from omnicrm.errors import InputError


class Receiver:
    """A webhook receiver answering a scripted status to the first requests, then 200."""

    def __init__(self, script: list[int] | None = None, retry_after: str | None = None):
        self.script = list(script or [])
        self.retry_after = retry_after
        self.requests: list[dict] = []
        self.accepted: list[str] = []
        self.lock = threading.Lock()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                status = state.script.pop(0) if state.script else 200
                state.requests.append(
                    {
                        "key": self.headers["Idempotency-Key"],
                        "type": self.headers["Content-Type"],
                        "body": json.loads(body),
                        "status": status,
                    }
                )
                if status == 200:
                    state.accepted.append(self.headers["Idempotency-Key"])
            self.send_response(status)
            if status != 200 and state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def make_alerts(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "alert_id": f"id{i}",
                "metric": "revenue",
                "scope": "all",
                "ds": pd.Timestamp("2026-06-01") + pd.Timedelta(days=i),
                "severity": "critical",
                "direction": "below",
                "actual": 12345.0,
                "expected": 19900.0,
                "lo_warning": 17000.0,
                "hi_warning": 22800.0,
                "lo_critical": 16000.0,
                "hi_critical": 23800.0,
                "deviation_pct": -38.0,
                "message": f"revenue 12,345 yuan on day {i}",
            }
            for i in range(n)
        ]
    )


def test_failures_are_retried_then_each_alert_is_delivered_exactly_once(warehouse, receiver):
    state, url = receiver
    state.script = [503, 500, 502]  # the first three requests fail
    store_alerts(warehouse, make_alerts(3))
    waits: list[float] = []
    hook = Webhook(url, backoff=0.25, max_attempts=5)
    report = deliver_pending(warehouse, hook, sleep=waits.append)
    assert sorted(report.delivered) == ["id0", "id1", "id2"]
    assert sorted(state.accepted) == ["id0", "id1", "id2"]  # one success per alert
    assert waits == [0.25, 0.5, 1.0]  # exponential backoff
    assert report.attempts == 6
    assert {r["type"] for r in state.requests} == {"application/json"}
    assert state.requests[-1]["body"]["interval_critical"] == [16000.0, 23800.0]
    assert alerts_with_delivery(warehouse, url)["delivered_at"].notna().all()

    second = deliver_pending(warehouse, hook, sleep=waits.append)
    assert second.delivered == []
    assert len(state.requests) == 6  # nothing sent again


def test_retries_use_the_same_idempotency_key(warehouse, receiver):
    state, url = receiver
    state.script = [503, 503]
    store_alerts(warehouse, make_alerts(1))
    deliver_pending(warehouse, Webhook(url, backoff=0), sleep=lambda s: None)
    assert [r["key"] for r in state.requests] == ["id0", "id0", "id0"]


def test_retry_after_header_is_honoured(warehouse, receiver):
    state, url = receiver
    state.script, state.retry_after = [429], "2"
    store_alerts(warehouse, make_alerts(1))
    waits: list[float] = []
    deliver_pending(warehouse, Webhook(url, backoff=0.1), sleep=waits.append)
    assert waits == [2.0]


def test_client_errors_are_not_retried_and_stay_pending(warehouse, receiver):
    state, url = receiver
    state.script = [400]
    store_alerts(warehouse, make_alerts(2))
    report = deliver_pending(warehouse, Webhook(url), sleep=lambda s: None)
    assert list(report.failed) == ["id0"]
    assert report.failed["id0"].startswith("HTTP 400")
    assert report.delivered == ["id1"]
    assert pending_alerts(warehouse, url)["alert_id"].tolist() == ["id0"]


def test_exhausted_retries_stop_the_run_and_leave_alerts_pending(warehouse, receiver):
    state, url = receiver
    state.script = [503] * 3
    store_alerts(warehouse, make_alerts(3))
    report = deliver_pending(
        warehouse, Webhook(url, max_attempts=3, backoff=0), sleep=lambda s: None
    )
    assert report.delivered == []
    assert "gave up after 3 attempts (HTTP 503)" in report.failed["id0"]
    assert report.pending_left == 2
    assert len(pending_alerts(warehouse, url)) == 3
    later = deliver_pending(warehouse, Webhook(url, backoff=0), sleep=lambda s: None)
    assert sorted(later.delivered) == ["id0", "id1", "id2"]


def test_unreachable_server_is_retried_with_backoff(warehouse):
    store_alerts(warehouse, make_alerts(1))
    waits: list[float] = []
    hook = Webhook("http://127.0.0.1:9/hook", max_attempts=4, backoff=1, max_backoff=3, timeout=2)
    report = deliver_pending(warehouse, hook, sleep=waits.append)
    assert waits == [1, 2, 3]  # capped at max_backoff
    assert "ConnectError" in report.failed["id0"]


def test_delivery_to_another_webhook_is_tracked_separately(warehouse, receiver):
    _, url = receiver
    store_alerts(warehouse, make_alerts(1))
    deliver_pending(warehouse, Webhook(url), sleep=lambda s: None)
    assert pending_alerts(warehouse, url).empty
    assert len(pending_alerts(warehouse, url + "/other")) == 1


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"url": "ftp://x"}, "must start with http"),
        ({"url": "http://"}, "name a host"),
        ({"url": "http://h", "max_attempts": 0}, "max_attempts=0"),
        ({"url": "http://h", "timeout": 0}, "timeout must be > 0"),
    ],
)
def test_bad_webhook_settings(kw, match):
    with pytest.raises(InputError, match=match):
        Webhook(**kw)
