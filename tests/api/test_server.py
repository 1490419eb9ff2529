"""Against a real uvicorn server in a subprocess, on SQLite and on PostgreSQL.

* 100 parallel redemptions on one member never overdraw: the final balance is never negative,
  the successful redemptions add up to at most the starting balance, the ledger verifies.
* Killing the server (SIGKILL) in the middle of a load loses no acknowledged operation, and
  retrying every request with its Idempotency-Key afterwards applies each exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select

from omnicrm.db import make_engine, make_session_factory, upgrade
from omnicrm.db.testing import temporary_schema
from omnicrm.loyalty.models import Member, Redemption
from omnicrm.loyalty.verify import verify_ledger

from .conftest import make_keys, running_server

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def database(kind: str, tmp_path, request):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    else:
        with temporary_schema(request.getfixturevalue("postgres_url"), "loyalty_srv") as url:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url


def inspect(url: str, fn):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return fn(session)
    finally:
        engine.dispose()


def setup_member(base: str, keys: dict, points: int) -> str:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    member = httpx.post(f"{base}/v1/members", json={"customer_id": "C-LOAD"}, headers=admin)
    member_id = member.json()["member_id"]
    credit = httpx.post(
        f"{base}/v1/members/{member_id}/adjustments",
        headers=admin,
        json={"points": points, "reason": "load test"},
    )
    assert credit.status_code == 201, credit.text
    return member_id


@pytest.mark.slow  # starts a 2-worker server: ~10 s on an idle 2-core machine
@pytest.mark.parametrize("kind", BACKENDS)
def test_100_parallel_redemptions_never_overdraw(kind, tmp_path, request):
    with database(kind, tmp_path, request) as url:
        keys = make_keys(url)
        with running_server(url, workers=2) as (base, _):
            member_id = setup_member(base, keys, 9000)  # exactly 30 coffees of 300 points
            headers = {"Authorization": f"Bearer {keys['app']}"}

            def redeem(i: int) -> httpx.Response:
                with httpx.Client(timeout=60) as client:
                    return client.post(
                        f"{base}/v1/members/{member_id}/redeem",
                        json={"reward": "COFFEE"},
                        headers={**headers, "Idempotency-Key": f"load-{i}"},
                    )

            with ThreadPoolExecutor(max_workers=32) as pool:
                responses = list(pool.map(redeem, range(100)))
            final = httpx.get(f"{base}/v1/members/{member_id}", headers=headers).json()
        codes = sorted({r.status_code for r in responses})
        assert codes == [201, 409], [r.text for r in responses if r.status_code >= 500][:3]
        ok = [r.json() for r in responses if r.status_code == 201]
        refused = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
        assert refused == {"insufficient_points"}
        assert len(ok) == 30
        assert sum(r["points"] for r in ok) <= 9000
        assert final["points"]["balance"] == 0
        report = inspect(url, verify_ledger)
        assert report.ok, report.summary()


@pytest.mark.slow
@pytest.mark.parametrize("kind", BACKENDS)
def test_sigkill_mid_load_loses_no_acknowledged_operation(kind, tmp_path, request):
    start = 3000 * 300  # enough points that no redemption is refused
    with database(kind, tmp_path, request) as url:
        keys = make_keys(url)
        headers = {"Authorization": f"Bearer {keys['app']}"}
        acknowledged: dict[str, str] = {}  # idempotency key -> voucher code
        attempted: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def load(base: str, member_id: str, worker: int) -> None:
            n = 0
            with httpx.Client(timeout=10) as client:
                while not stop.is_set():
                    key = f"w{worker}-{n}"
                    n += 1
                    with lock:
                        attempted.append(key)
                    try:
                        r = client.post(
                            f"{base}/v1/members/{member_id}/redeem",
                            json={"reward": "COFFEE"},
                            headers={**headers, "Idempotency-Key": key},
                        )
                    except httpx.TransportError:
                        return  # the server died under us: this request is unacknowledged
                    if r.status_code == 201:
                        with lock:
                            acknowledged[key] = r.json()["voucher_code"]

        with running_server(url) as (base, proc):
            member_id = setup_member(base, keys, start)
            threads = [threading.Thread(target=load, args=(base, member_id, w)) for w in range(8)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 20
            while len(acknowledged) < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
        assert len(acknowledged) >= 40

        def committed(session):
            return set(session.scalars(select(Redemption.voucher_code)))

        vouchers = inspect(url, committed)
        assert set(acknowledged.values()) <= vouchers  # nothing acknowledged was lost
        report = inspect(url, verify_ledger)
        assert report.ok, report.summary()

        # retry every attempted request with its key: each one is applied exactly once
        with running_server(url) as (base, _), httpx.Client(timeout=30) as client:
            for key in attempted:
                r = client.post(
                    f"{base}/v1/members/{member_id}/redeem",
                    json={"reward": "COFFEE"},
                    headers={**headers, "Idempotency-Key": key},
                )
                assert r.status_code == 201, r.text
                if key in acknowledged:
                    assert r.json()["voucher_code"] == acknowledged[key]

        def totals(session):
            count = session.scalar(select(func.count()).select_from(Redemption))
            return count, session.get(Member, member_id).points_balance, verify_ledger(session)

        count, balance, report = inspect(url, totals)
        assert count == len(attempted)
        assert balance == start - 300 * len(attempted)
        assert report.ok, report.summary()
