"""Fixtures for API tests: a migrated database, one key per scope, clients, a real server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from omnicrm.api.core.config import Settings
from omnicrm.api.core.security import create_key
from omnicrm.api.main import create_app
from omnicrm.db import make_engine, make_session_factory, upgrade

SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api-template") / "ops.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "ops.sqlite3"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


def make_keys(url: str) -> dict[str, str]:
    """One API key per scope, created the way `omnicrm keys create` does."""
    engine = make_engine(url)
    keys = {}
    with make_session_factory(engine)() as session:
        for scope in ("pos", "app", "analyst", "admin"):
            keys[scope], _ = create_key(session, scope=scope, name=f"test-{scope}", secret=SECRET)
    engine.dispose()
    return keys


@pytest.fixture
def keys(db_url) -> dict[str, str]:
    return make_keys(db_url)


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(
        environment="production",
        database_url=db_url,
        secret_key=SECRET,
        rate_per_second=1000,
        rate_burst=1000,
    )


class Api:
    """A TestClient that signs requests with the key of a scope."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def headers(self, scope: str | None, idem: str | None = None) -> dict[str, str]:
        out = {}
        if scope is not None:
            out["Authorization"] = f"Bearer {self.keys[scope]}"
        if idem is not None:
            out["Idempotency-Key"] = idem
        return out

    def post(
        self,
        path: str,
        body=None,
        *,
        scope: str | None = "admin",
        idem: str | None = None,
        **kwargs,
    ):
        return self.client.post(path, json=body, headers=self.headers(scope, idem), **kwargs)

    def patch(self, path: str, body, *, scope: str | None = "admin", idem: str | None = None):
        return self.client.patch(path, json=body, headers=self.headers(scope, idem))

    def get(self, path: str, *, scope: str | None = "admin", **kwargs):
        return self.client.get(path, headers=self.headers(scope), **kwargs)

    def enrol(self, customer_id: str = "C-1", **fields) -> str:
        response = self.post("/v1/members", {"customer_id": customer_id, **fields}, scope="pos")
        assert response.status_code == 201, response.text
        return response.json()["member_id"]

    def credit(self, member_id: str, points: int) -> None:
        response = self.post(
            f"/v1/members/{member_id}/adjustments", {"points": points, "reason": "test credit"}
        )
        assert response.status_code == 201, response.text


@pytest.fixture
def api(settings, keys) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(url: str, *, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real uvicorn server (subprocess) on ``url``; yields (base URL, process)."""
    port = free_port()
    env = {
        **os.environ,
        "OMNICRM_ENV": "production",
        "OMNICRM_SECRET_KEY": SECRET,
        "OMNICRM_DATABASE_URL": url,
        "OMNICRM_RATE_PER_SECOND": "100000",
        "OMNICRM_RATE_BURST": "100000",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "omnicrm.api.main:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stdout.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 30 s")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
