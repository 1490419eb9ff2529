"""``omnicrm serve`` as a user runs it: a real uvicorn process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from omnicrm.db import make_engine, upgrade


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def serve_and_ask(url: str, *flags: str, requests: int = 3) -> str:
    """Start ``omnicrm serve``, GET /health ``requests`` times, stop it; return its log."""
    port = free_port()
    env = {**os.environ, "OMNICRM_ENV": "test", "OMNICRM_DATABASE_URL": url}
    cmd = [sys.executable, "-m", "omnicrm.cli.main", "serve", "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while True:
                assert proc.poll() is None, proc.stdout.read().decode()
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "server did not start within 60 s"
                    time.sleep(0.1)
            for _ in range(requests - 1):
                assert client.get("/health").json() == {"status": "ok"}
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    return out.decode()


def test_serve_answers_without_an_access_log_by_default(migrated):
    log = serve_and_ask(migrated)
    assert "Uvicorn running on http://127.0.0.1:" in log
    assert "GET /health" not in log


def test_serve_logs_every_request_with_access_log(migrated):
    log = serve_and_ask(migrated, "--access-log", requests=3)
    assert log.count('"GET /health HTTP/1.1" 200') >= 2
