"""/v1/members/{id}/earn, redeem, returns, events, adjustments, ledger over HTTP."""

from __future__ import annotations

import datetime as dt

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def order(ref: str, *amounts: str, category: str = "grocery") -> dict:
    return {
        "order_ref": ref,
        "purchased_at": NOW.isoformat(),
        "store_id": "S-001",
        "channel": "store",
        "lines": [
            {
                "product_id": f"SKU-{i}",
                "category": category,
                "quantity": "1",
                "unit_price": a,
                "amount": a,
            }
            for i, a in enumerate(amounts)
        ],
    }


def test_earn_on_128_50_yuan_as_gold_gives_192_points_over_http(api):
    m = api.enrol()
    api.post(f"/v1/members/{m}/earn", order("O-0", "2000.00"), scope="pos")  # reach gold
    response = api.post(f"/v1/members/{m}/earn", order("O-1", "128.50"), scope="pos")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["points_earned"], body["tier"]) == (192, "gold")
    assert body["balance"] == 2000 + 100 + 192


def test_money_can_be_sent_as_a_json_number_or_string(api):
    m = api.enrol()
    body = order("O-1", "10.00")
    body["lines"][0]["amount"] = 10.5
    body["lines"][0]["unit_price"] = "10.50"
    assert api.post(f"/v1/members/{m}/earn", body, scope="pos").json()["points_earned"] == 10


def test_redeem_returns_a_voucher_and_the_new_balance(api):
    m = api.enrol()
    api.credit(m, 1200)
    response = api.post(f"/v1/members/{m}/redeem", {"reward": "CASH10"}, scope="app")
    assert response.status_code == 201
    body = response.json()
    assert (body["points"], body["value"], body["balance"]) == (1000, "10.00", 200)
    assert body["voucher_code"].startswith("V-")


def test_return_claws_back_the_points_of_the_returned_line(api):
    m = api.enrol()
    api.post(f"/v1/members/{m}/earn", order("O-1", "60.00", "40.00"), scope="pos")
    response = api.post(
        f"/v1/members/{m}/returns",
        {
            "order_ref": "O-1",
            "return_ref": "R-1",
            "lines": [{"product_id": "SKU-1", "amount": "40.00"}],
        },
        scope="pos",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["points_clawed_back"], body["refunded_amount"], body["balance"]) == (
        40,
        "40.00",
        60 + 100,
    )


def test_sign_in_event_adds_5_points(api):
    m = api.enrol()
    response = api.post(f"/v1/members/{m}/events", {"type": "sign_in"}, scope="app")
    assert (response.status_code, response.json()["points"]) == (201, 5)


def test_ledger_lists_entries_newest_first_with_lots_and_hashes(api):
    m = api.enrol()
    api.credit(m, 500)
    api.post(f"/v1/members/{m}/redeem", {"reward": "COFFEE"}, scope="app")
    page = api.get(f"/v1/members/{m}/ledger", scope="analyst", params={"limit": 1}).json()
    (entry,) = page["entries"]
    assert (entry["kind"], entry["points"], entry["balance_after"]) == ("redeem", -300, 200)
    assert entry["lots"][0]["points"] == -300
    assert page["next_before_seq"] == 2
    older = api.get(
        f"/v1/members/{m}/ledger", scope="analyst", params={"before_seq": page["next_before_seq"]}
    ).json()
    assert [e["kind"] for e in older["entries"]] == ["adjust"]
    assert older["entries"][0]["hash"] == entry["prev_hash"]
    assert older["next_before_seq"] is None


def test_member_view_reports_points_expiring_soon(api, settings):
    m = api.enrol()
    api.credit(m, 100)
    body = api.get(f"/v1/members/{m}").json()
    assert body["points"]["expiring_within_days"] == settings.expiring_days
    assert body["points"]["expiring_soon"] == []  # 24 months away
