"""The per-worker cache of checked API keys: what it remembers, for how long, and its bound."""

from __future__ import annotations

from fastapi.testclient import TestClient

from omnicrm.api.core.keycache import KeyCache
from omnicrm.api.core.security import Principal, revoke_key
from omnicrm.api.main import create_app
from omnicrm.db import make_engine, make_session_factory

TILL = Principal(key_id=7, scope="pos", name="till-7")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_remembered_until_its_time_to_live_has_passed():
    clock = Clock()
    cache = KeyCache(ttl=2.0, clock=clock)
    assert cache.get("d") is None
    cache.put("d", TILL)
    clock.now += 1.99
    assert cache.get("d") == TILL
    clock.now += 0.01
    assert cache.get("d") is None


def test_a_zero_time_to_live_remembers_nothing():
    cache = KeyCache(ttl=0)
    cache.put("d", TILL)
    assert cache.get("d") is None


def test_the_cache_never_grows_beyond_its_size():
    clock = Clock()
    cache = KeyCache(ttl=10.0, size=3, clock=clock)
    for i in range(3):
        cache.put(f"old{i}", TILL)
    clock.now += 5
    cache.put("new", TILL)  # full: the oldest entries are still live, so all make room
    assert len(cache._entries) <= 3
    assert cache.get("new") == TILL
    clock.now += 6  # the first three are expired now
    for i in range(2):
        cache.put(f"next{i}", TILL)
    assert len(cache._entries) <= 3


def _revoke_pos_key(db_url: str) -> None:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        revoke_key(session, 1)  # the pos key (created first)
    engine.dispose()


def test_a_revoked_key_keeps_working_in_a_worker_only_while_cached(settings, keys, db_url):
    app = create_app(settings.model_copy(update={"key_cache_seconds": 300}))
    auth = {"Authorization": f"Bearer {keys['pos']}"}
    with TestClient(app) as client:
        assert client.get("/v1/members/nobody", headers=auth).status_code == 404
        _revoke_pos_key(db_url)
        assert client.get("/v1/members/nobody", headers=auth).status_code == 404  # cached
        app.state.service.keys._entries.clear()  # what the time to live does
        assert client.get("/v1/members/nobody", headers=auth).status_code == 401


def test_without_the_cache_revocation_is_immediate(settings, keys, db_url):
    app = create_app(settings.model_copy(update={"key_cache_seconds": 0}))
    auth = {"Authorization": f"Bearer {keys['pos']}"}
    with TestClient(app) as client:
        assert client.get("/v1/members/nobody", headers=auth).status_code == 404
        _revoke_pos_key(db_url)
        assert client.get("/v1/members/nobody", headers=auth).status_code == 401
