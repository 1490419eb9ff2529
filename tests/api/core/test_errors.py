"""Every bad input gets a 4xx with a machine-readable code and a clear message, never a 5xx."""

from __future__ import annotations

import datetime as dt

import pytest

NOW = dt.datetime.now(dt.UTC).isoformat()


def earn_body(amount="10.00", **line):
    return {
        "order_ref": "O-1",
        "purchased_at": NOW,
        "lines": [
            {"product_id": "P", "quantity": "1", "unit_price": "10.00", "amount": amount, **line}
        ],
    }


CASES = [
    # (name, method, path template, body, scope, status, code, field, message fragment)
    (
        "missing key",
        "post",
        "/v1/members/{m}/earn",
        earn_body(),
        None,
        401,
        "missing_api_key",
        None,
        "Authorization: Bearer",
    ),
    (
        "wrong scope",
        "post",
        "/v1/members/{m}/adjustments",
        {"points": 5, "reason": "xyz"},
        "pos",
        403,
        "scope_not_allowed",
        None,
        "a 'pos' key may not use points:adjust",
    ),
    (
        "analyst cannot earn",
        "post",
        "/v1/members/{m}/earn",
        earn_body(),
        "analyst",
        403,
        "scope_not_allowed",
        None,
        "points:earn",
    ),
    (
        "unknown member",
        "post",
        "/v1/members/m_nobody/earn",
        earn_body(),
        "pos",
        404,
        "member_not_found",
        "member_id",
        "member 'm_nobody' does not exist",
    ),
    (
        "unknown member read",
        "get",
        "/v1/members/m_nobody",
        None,
        "pos",
        404,
        "member_not_found",
        "member_id",
        "does not exist",
    ),
    (
        "negative amount",
        "post",
        "/v1/members/{m}/earn",
        earn_body("-5.00"),
        "pos",
        422,
        "invalid_input",
        "lines[0].amount",
        "greater than or equal to 0",
    ),
    (
        "three decimals",
        "post",
        "/v1/members/{m}/earn",
        earn_body("10.005"),
        "pos",
        422,
        "invalid_input",
        "lines[0].amount",
        "no more than 2 decimal places",
    ),
    (
        "amount not a number",
        "post",
        "/v1/members/{m}/earn",
        earn_body("ten"),
        "pos",
        422,
        "invalid_input",
        "lines[0].amount",
        "'ten'",
    ),
    (
        "missing field",
        "post",
        "/v1/members/{m}/earn",
        {"order_ref": "O-1", "lines": []},
        "pos",
        422,
        "missing_field",
        "purchased_at",
        "purchased_at: Field required",
    ),
    (
        "naive timestamp",
        "post",
        "/v1/members/{m}/earn",
        {**earn_body(), "purchased_at": "2026-01-01T10:00:00"},
        "pos",
        422,
        "invalid_input",
        "purchased_at",
        "timezone",
    ),
    (
        "empty order",
        "post",
        "/v1/members/{m}/earn",
        {**earn_body(), "lines": []},
        "pos",
        422,
        "invalid_input",
        "lines",
        "at least 1 item",
    ),
    (
        "unknown field",
        "post",
        "/v1/members/{m}/redeem",
        {"reward": "CASH10", "pionts": 3},
        "app",
        422,
        "invalid_input",
        "pionts",
        "Extra inputs are not permitted",
    ),
    (
        "more than the balance",
        "post",
        "/v1/members/{m}/redeem",
        {"reward": "CASH10"},
        "app",
        409,
        "insufficient_points",
        "points",
        "has 50 spendable points; 1 x CASH10 costs 1000",
    ),
    (
        "unknown reward",
        "post",
        "/v1/members/{m}/redeem",
        {"reward": "TV"},
        "app",
        422,
        "invalid_request",
        "reward",
        "reward 'TV' is not in the catalogue",
    ),
    (
        "zero adjustment",
        "post",
        "/v1/members/{m}/adjustments",
        {"points": 0, "reason": "xyz"},
        "admin",
        422,
        "invalid_input",
        None,
        "points must not be 0",
    ),
    (
        "return of unknown order",
        "post",
        "/v1/members/{m}/returns",
        {"order_ref": "NOPE", "return_ref": "R", "lines": [{"line_no": 1, "amount": "1.00"}]},
        "pos",
        404,
        "order_not_found",
        "order_ref",
        "order 'NOPE'",
    ),
    (
        "unknown bonus event",
        "post",
        "/v1/members/{m}/events",
        {"type": "dance"},
        "app",
        422,
        "invalid_input",
        "type",
        "'sign_in', 'review', 'referral' or 'birthday'",
    ),
    (
        "bad idempotency key",
        "post",
        "/v1/members/{m}/redeem",
        {"reward": "COFFEE"},
        "app",
        422,
        "invalid_idempotency_key",
        "Idempotency-Key",
        "printable ASCII",
    ),
    (
        "unknown endpoint",
        "get",
        "/v1/nothing-here",
        None,
        "admin",
        404,
        "not_found",
        None,
        "no such endpoint",
    ),
    (
        "wrong method",
        "delete",
        "/v1/members/{m}",
        None,
        "admin",
        405,
        "method_not_allowed",
        None,
        "method not allowed",
    ),
    (
        "checkout for an unknown member",
        "post",
        "/v1/checkout/price",
        {
            "member_id": "m_nobody",
            "lines": [{"product_id": "P", "quantity": "1", "unit_price": "1"}],
        },
        "pos",
        404,
        "member_not_found",
        "member_id",
        "member 'm_nobody' does not exist",
    ),
    (
        "commit with a negative price",
        "post",
        "/v1/orders/O-9/commit",
        {"purchased_at": NOW, "lines": [{"product_id": "P", "quantity": "1", "unit_price": "-1"}]},
        "pos",
        422,
        "invalid_input",
        "lines[0].unit_price",
        "greater than or equal to 0",
    ),
    (
        "page too large",
        "get",
        "/v1/members/{m}/ledger",
        None,
        "analyst",
        422,
        "invalid_input",
        "limit",
        "less than or equal to 500",
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "scope", "status", "code", "field", "fragment"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_bad_request_is_a_4xx_with_code_field_and_message(
    api, name, method, path, body, scope, status, code, field, fragment
):
    m = api.enrol()
    api.credit(m, 50)
    headers = api.headers(scope, idem="has space" if code == "invalid_idempotency_key" else None)
    kwargs = {"json": body} if body is not None else {}
    if "ledger" in path:
        kwargs["params"] = {"limit": 501}
    response = api.client.request(method.upper(), path.format(m=m), headers=headers, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert fragment in error["message"]


def test_malformed_json_is_400_malformed_json(api):
    m = api.enrol()
    response = api.client.post(
        f"/v1/members/{m}/redeem",
        content=b'{"reward": "CASH10",',
        headers={**api.headers("app"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert "not valid JSON" in response.json()["error"]["message"]


def test_invalid_and_revoked_keys_are_401(api, db_url):
    from omnicrm.api.core.security import revoke_key
    from omnicrm.db import make_engine, make_session_factory

    bad = api.client.get("/v1/members/x", headers={"Authorization": "Bearer ocrm_nope_nope"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "invalid_api_key")
    basic = api.client.get("/v1/members/x", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.json()["error"]["message"] == "the Authorization header must be `Bearer <key>`"
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        revoke_key(s, 1)  # the pos key
    engine.dispose()
    revoked = api.get("/v1/members/x", scope="pos")
    assert revoked.status_code == 401
    assert revoked.json()["error"]["message"] == "the API key is unknown or revoked"
