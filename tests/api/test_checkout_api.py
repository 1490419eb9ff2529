"""Promotions, coupons, checkout pricing and order commit over HTTP — and their bad input."""

from __future__ import annotations

import datetime as dt

import pytest

NOW = dt.datetime.now(dt.UTC)


def cart(*prices: str, **extra) -> dict:
    lines = [
        {"product_id": f"SKU-{i}", "category": "grocery", "quantity": "1", "unit_price": p}
        for i, p in enumerate(prices)
    ]
    return {"lines": lines, **extra}


def create(api, pid: str, benefit: dict, **spec):
    response = api.post("/v1/promotions", {"id": pid, "benefit": benefit, **spec})
    assert response.status_code == 201, response.text
    return response.json()


def codes(api, pid: str, **body) -> list[str]:
    response = api.post(f"/v1/promotions/{pid}/coupons", body)
    assert response.status_code == 201, response.text
    return response.json()["codes"]


def commit(api, order_id: str, body: dict, **kwargs):
    return api.post(
        f"/v1/orders/{order_id}/commit", {**body, "purchased_at": NOW.isoformat()}, **kwargs
    )


def test_spend_200_save_30_quote_then_commit_over_http(api):
    member = api.enrol()
    create(
        api,
        "MJ200",
        {"type": "spend_save", "every": "200", "save": "30"},
        name="满200减30",
        budget="1000.00",
    )
    quote = api.post("/v1/checkout/price", cart("150.00", "100.00", member_id=member), scope="pos")
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert (q["subtotal"], q["discount"], q["total"]) == ("250.00", "30.00", "220.00")
    assert [line["discount"] for line in q["lines"]] == ["18.00", "12.00"]
    assert q["points"]["earned"] == 220
    done = commit(api, "POS-1", cart("150.00", "100.00", member_id=member), scope="pos")
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["order_ref"] == "POS-1"
    assert body["balance"] == 220 + 100
    promo = api.get("/v1/promotions/MJ200", scope="analyst").json()
    assert (promo["uses"], promo["budget_used"]) == (1, "30.00")


def test_reasons_for_each_candidate_are_in_the_quote(api):
    create(api, "P200", {"type": "amount_off", "amount": "30"}, condition={"min_spend": "200"})
    q = api.post("/v1/checkout/price", cart("90.00", "90.00"), scope="app").json()
    assert q["promotions"] == [
        {
            "promotion_id": "P200",
            "applied": False,
            "reason": "min_spend_not_met",
            "message": "spend 180.00 of 200.00",
        }
    ]


def test_a_single_use_code_wins_once_and_the_replay_is_identical(api):
    create(api, "VIP", {"type": "percent_off", "percent": "10"}, requires_code=True)
    (code,) = codes(api, "VIP", count=1, prefix="VIP")
    first = commit(api, "A", cart("50.00", codes=[code]), scope="pos", idem="a-1")
    assert first.status_code == 201, first.text
    assert first.json()["total"] == "45.00"
    replay = commit(api, "A", cart("50.00", codes=[code]), scope="pos", idem="a-1")
    assert replay.json() == first.json()
    again = commit(api, "B", cart("50.00", codes=[code]), scope="pos")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "coupon_used"


def test_promotions_are_changed_and_listed_by_admins_only(api):
    create(api, "P1", {"type": "amount_off", "amount": "5"}, budget="100.00")
    patched = api.patch("/v1/promotions/P1", {"active": False, "budget": "200.00"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["active"], patched.json()["budget"]) == (False, "200.00")
    assert [p["id"] for p in api.get("/v1/promotions", scope="analyst").json()] == ["P1"]
    assert api.get("/v1/promotions", scope="pos").status_code == 403
    q = api.post("/v1/checkout/price", cart("50.00"), scope="pos").json()
    assert q["promotions"] == []  # switched off: no longer a candidate


def test_generated_codes_are_unguessable_and_shown_once(api, db_url):
    from sqlalchemy import select

    from omnicrm.db import make_engine, make_session_factory
    from omnicrm.loyalty.promotions.models import Coupon

    create(api, "BULK", {"type": "amount_off", "amount": "5"}, requires_code=True)
    batch = codes(api, "BULK", count=200, prefix="SPR")
    assert len(set(batch)) == 200
    assert all(c.startswith("SPR-") and len(c) == 23 for c in batch)
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        stored = s.scalars(select(Coupon.code_hash)).all()
    engine.dispose()
    assert not set(stored) & {c.replace("-", "") for c in batch}
    assert len(stored) == 200


def setup_bad(api) -> dict:
    member = api.enrol()
    create(api, "ONE", {"type": "amount_off", "amount": "5"}, requires_code=True)
    used, expired = (
        codes(api, "ONE", count=1),
        codes(api, "ONE", count=1, valid_until=(NOW - dt.timedelta(days=1)).isoformat()),
    )
    assert commit(api, "USED-1", cart("10.00", codes=used), scope="pos").status_code == 201
    return {"m": member, "used": used[0], "expired": expired[0]}


BAD = [
    # (name, method, path, body(ctx), scope, status, code, field, fragment)
    ("price: wrong scope", "post", "/v1/checkout/price", lambda c: cart("1.00"), "analyst",
     403, "scope_not_allowed", None, "checkout:price"),
    ("commit: app may not commit", "post", "/v1/orders/X/commit",
     lambda c: {**cart("1.00"), "purchased_at": NOW.isoformat()}, "app",
     403, "scope_not_allowed", None, "orders:commit"),
    ("price: unknown member", "post", "/v1/checkout/price",
     lambda c: cart("1.00", member_id="m_nobody"), "pos", 404, "member_not_found", "member_id",
     "member 'm_nobody' does not exist"),
    ("price: negative price", "post", "/v1/checkout/price", lambda c: cart("-1.00"), "pos",
     422, "invalid_input", "lines[0].unit_price", "greater than or equal to 0"),
    ("price: three decimals", "post", "/v1/checkout/price", lambda c: cart("1.005"), "pos",
     422, "invalid_input", "lines[0].unit_price", "no more than 2 decimal places"),
    ("price: no lines", "post", "/v1/checkout/price", lambda c: {"lines": []}, "pos",
     422, "invalid_input", "lines", "at least 1 item"),
    ("commit: unknown code", "post", "/v1/orders/X/commit",
     lambda c: {**cart("1.00", codes=["NOPE-NOPE"]), "purchased_at": NOW.isoformat()}, "pos",
     404, "unknown_code", "codes", "does not exist"),
    ("commit: used code", "post", "/v1/orders/X/commit",
     lambda c: {**cart("10.00", codes=[c["used"]]), "purchased_at": NOW.isoformat()}, "pos",
     409, "coupon_used", "codes", "already used"),
    ("commit: expired code", "post", "/v1/orders/X/commit",
     lambda c: {**cart("10.00", codes=[c["expired"]]), "purchased_at": NOW.isoformat()}, "pos",
     409, "coupon_expired", "codes", "expired at"),
    ("commit: same order twice", "post", "/v1/orders/USED-1/commit",
     lambda c: {**cart("1.00"), "purchased_at": NOW.isoformat()}, "pos",
     409, "duplicate_order", "order_id", "already committed"),
    ("commit: expected total differs", "post", "/v1/orders/X/commit",
     lambda c: {**cart("10.00"), "purchased_at": NOW.isoformat(), "expected_total": "9.00"},
     "pos", 409, "price_changed", "expected_total", "now totals 10.00"),
    ("commit: unknown member", "post", "/v1/orders/X/commit",
     lambda c: {**cart("1.00", member_id="m_x"), "purchased_at": NOW.isoformat()}, "pos",
     404, "member_not_found", "member_id", "does not exist"),
    ("promotion: bad benefit", "post", "/v1/promotions",
     lambda c: {"id": "Z", "benefit": {"type": "free_money"}}, "admin",
     422, "invalid_request", "promotion", "benefit type 'free_money' is unknown"),
    ("promotion: duplicate id", "post", "/v1/promotions",
     lambda c: {"id": "ONE", "benefit": {"type": "amount_off", "amount": "1"}}, "admin",
     422, "invalid_request", "id", "already exists"),
    ("promotion: pos may not create", "post", "/v1/promotions",
     lambda c: {"id": "Z", "benefit": {"type": "amount_off", "amount": "1"}}, "pos",
     403, "scope_not_allowed", None, "promotions:manage"),
    ("promotion: unknown", "get", "/v1/promotions/NOPE", None, "admin",
     404, "promotion_not_found", "promotion_id", "does not exist"),
    ("coupons: unknown promotion", "post", "/v1/promotions/NOPE/coupons",
     lambda c: {"count": 1}, "admin", 404, "promotion_not_found", "promotion_id", "NOPE"),
    ("coupons: too many", "post", "/v1/promotions/ONE/coupons",
     lambda c: {"count": 100001}, "admin", 422, "invalid_input", "count", "less than or equal"),
    ("promotion: max_uses zero", "patch", "/v1/promotions/ONE",
     lambda c: {"max_uses": 0}, "admin", 422, "invalid_input", "max_uses", "greater than"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "scope", "status", "code", "field", "fragment"),
    BAD,
    ids=[b[0] for b in BAD],
)
def test_bad_checkout_input_is_a_4xx_with_code_field_and_message(
    api, name, method, path, body, scope, status, code, field, fragment
):
    ctx = setup_bad(api)
    kwargs = {"json": body(ctx)} if body is not None else {}
    response = api.client.request(method.upper(), path, headers=api.headers(scope), **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert fragment in error["message"]


def test_malformed_json_on_checkout_is_400(api):
    response = api.client.post(
        "/v1/checkout/price",
        content=b'{"lines": [',
        headers={**api.headers("pos"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
