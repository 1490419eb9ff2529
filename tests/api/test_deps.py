"""Authentication, scopes, rate limiting, idempotency and audit, over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from omnicrm.api.main import create_app
from omnicrm.db import make_engine, make_session_factory
from omnicrm.loyalty.models import AuditEntry


def test_a_retried_redemption_returns_the_first_response_and_changes_nothing(api):
    m = api.enrol()
    api.credit(m, 1000)
    first = api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="app", idem="r-1")
    again = api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="app", idem="r-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert api.get(f"/v1/members/{m}").json()["points"]["balance"] == 700


def test_the_same_key_with_a_different_body_is_409_idempotency_key_reused(api):
    m = api.enrol()
    api.credit(m, 5000)
    api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="app", idem="r-2")
    response = api.post(f"/v1/members/{m}/redeem", {"reward": "CASH10"}, scope="app", idem="r-2")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "idempotency_key_reused",
        "field": "Idempotency-Key",
        "message": response.json()["error"]["message"],
    }
    assert "send a new key for a new request" in response.json()["error"]["message"]


def test_the_same_key_on_another_member_is_also_a_conflict(api):
    a, b = api.enrol("C-1"), api.enrol("C-2")
    api.credit(a, 500)
    api.credit(b, 500)
    api.post(f"/v1/members/{a}/redeem", {"reward": "COFFEE"}, scope="app", idem="r-3")
    response = api.post(f"/v1/members/{b}/redeem", {"reward": "COFFEE"}, scope="app", idem="r-3")
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_of_different_clients_do_not_collide(api):
    m = api.enrol()
    api.credit(m, 1000)
    api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="app", idem="same")
    api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="pos", idem="same")
    assert api.get(f"/v1/members/{m}").json()["points"]["balance"] == 400


def test_a_retried_enrolment_returns_the_same_member(api):
    body = {"customer_id": "C-9"}
    first = api.post("/v1/members", body, scope="pos", idem="e-1").json()
    again = api.post("/v1/members", body, scope="pos", idem="e-1").json()
    assert again["member_id"] == first["member_id"]


def test_scope_rules(api):
    m = api.enrol()
    assert api.get(f"/v1/members/{m}", scope="analyst").status_code == 200
    assert api.get(f"/v1/members/{m}/ledger", scope="analyst").status_code == 200
    assert api.get(f"/v1/members/{m}/ledger", scope="pos").status_code == 403
    assert api.post(f"/v1/members/{m}/events", {"type": "sign_in"}, scope="pos").status_code == 403
    assert api.patch(f"/v1/members/{m}", {"name": "x"}, scope="pos").status_code == 403
    assert api.patch(f"/v1/members/{m}", {"name": "x"}, scope="app").status_code == 200


def test_admin_writes_are_audited_with_the_key(api, db_url):
    m = api.enrol()
    api.credit(m, 77)
    api.patch(f"/v1/members/{m}", {"name": "Han Meimei"}, scope="admin")
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.target == m).order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert [(r.actor, r.action) for r in rows] == [("key:4", "adjust"), ("key:4", "update_member")]
    assert rows[0].detail["points"] == 77


def test_each_key_has_its_own_token_bucket(settings, keys):
    limited = settings.model_copy(update={"rate_per_second": 0.001, "rate_burst": 3})
    with TestClient(create_app(limited)) as client:
        pos = {"Authorization": f"Bearer {keys['pos']}"}
        app = {"Authorization": f"Bearer {keys['app']}"}
        codes = [client.get("/v1/members/x", headers=pos).status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        refused = client.get("/v1/members/x", headers=pos)
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/v1/members/x", headers=app).status_code == 404
