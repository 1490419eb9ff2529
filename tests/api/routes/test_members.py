"""/v1/members: enrol, read, update over HTTP."""

from __future__ import annotations


def test_pos_enrols_a_customer_and_reads_the_member(api):
    response = api.post(
        "/v1/members",
        {
            "customer_id": "C-42",
            "name": "Li Lei",
            "birthday": "1990-05-04",
            "consents": [{"channel": "email", "granted": True, "source": "pos"}],
        },
        scope="pos",
    )
    assert response.status_code == 201
    member_id = response.json()["member_id"]
    body = api.get(f"/v1/members/{member_id}", scope="pos").json()
    assert body["customer_id"] == "C-42"
    assert body["tier"]["code"] == "silver"
    assert body["tier"]["member_prices"] is False
    assert body["points"]["balance"] == 0
    assert body["consents"]["email"]["granted"] is True


def test_app_withdraws_email_consent_and_sets_a_phone(api):
    m = api.enrol(consents=[{"channel": "email", "granted": True, "source": "pos"}])
    response = api.patch(
        f"/v1/members/{m}",
        {
            "phone": "+86 138 0000 0000",
            "consents": [{"channel": "email", "granted": False, "source": "app"}],
        },
        scope="app",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+86 138 0000 0000"
    assert body["consents"]["email"] == {
        **body["consents"]["email"],
        "granted": False,
        "source": "app",
    }


def test_patch_with_null_status_is_refused(api):
    m = api.enrol()
    response = api.patch(f"/v1/members/{m}", {"status": None}, scope="app")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"


def test_enrolling_the_same_customer_twice_is_a_conflict(api):
    api.enrol("C-7")
    response = api.post("/v1/members", {"customer_id": "C-7"}, scope="pos")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "member_exists"


def test_consent_history_lists_every_change_oldest_first(api):
    m = api.enrol(consents=[{"channel": "email", "granted": True, "source": "pos"}])
    api.patch(
        f"/v1/members/{m}",
        {"consents": [{"channel": "email", "granted": False, "source": "app"}]},
        scope="app",
    )
    history = api.get(f"/v1/members/{m}/consents", scope="analyst").json()
    assert [(h["channel"], h["granted"], h["source"]) for h in history] == [
        ("email", True, "pos"),
        ("email", False, "app"),
    ]
    assert api.get("/v1/members/m_none/consents").json()["error"]["code"] == "member_not_found"
