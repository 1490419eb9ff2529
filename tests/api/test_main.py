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


def test_a_worker_runs_as_many_requests_at_once_as_it_has_database_connections(settings):
    from anyio import to_thread

    app = create_app(settings.model_copy(update={"db_connections": 3}))
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 3


@pytest.mark.postgres
def test_the_postgres_pool_holds_exactly_the_configured_connections(postgres_url):
    from omnicrm.db import make_engine

    engine = make_engine(postgres_url, pool_size=3)
    assert (engine.pool.size(), engine.pool._max_overflow) == (3, 0)  # no connection churn
    engine.dispose()


def test_db_connections_comes_from_the_environment_and_is_checked():
    from omnicrm.errors import InputError

    env = {"OMNICRM_ENV": "test", "OMNICRM_DB_CONNECTIONS": "8"}
    assert Settings.from_env(env).db_connections == 8
    with pytest.raises(InputError, match="OMNICRM_DB_CONNECTIONS='0'"):
        Settings.from_env({**env, "OMNICRM_DB_CONNECTIONS": "0"})
