"""The app refuses an un-migrated database and serves its OpenAPI description."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from omnicrm.api.core.config import Settings
from omnicrm.api.main import create_app
from omnicrm.db import NotMigratedError


def test_the_app_refuses_to_start_on_an_unmigrated_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(
        NotMigratedError, match=r"has never been migrated.*run `omnicrm db upgrade`"
    ):
        create_app(Settings(environment="test", database_url=url))


def test_openapi_lists_every_route_and_docs_are_served(settings):
    with TestClient(create_app(settings)) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200
    assert set(paths) >= {
        "/v1/members",
        "/v1/members/{member_id}",
        "/v1/members/{member_id}/earn",
        "/v1/members/{member_id}/redeem",
        "/v1/members/{member_id}/returns",
        "/v1/members/{member_id}/events",
        "/v1/members/{member_id}/adjustments",
        "/v1/members/{member_id}/ledger",
    }
    assert "patch" in paths["/v1/members/{member_id}"]
