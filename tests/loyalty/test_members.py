"""Members: enrol, read, update, consent history, birthday."""

from __future__ import annotations

import datetime as dt

import pytest

from omnicrm.loyalty import members
from omnicrm.loyalty.errors import InvalidRequestError, MemberExistsError, MemberNotFoundError
from omnicrm.loyalty.members import ConsentInput, MemberChanges, consent_history

from .conftest import T0


def test_a_new_member_starts_in_silver_with_no_points(shop):
    m = shop.enrol("C-42", name="Li Lei", birthday=dt.date(1990, 5, 4))
    view = shop.member(m)
    assert view["customer_id"] == "C-42"
    assert view["birthday"] == "1990-05-04"
    assert view["tier"]["code"] == "silver"
    assert view["points"] == {
        "balance": 0,
        "qualifying": 0,
        "qualification_metric": "qualifying_points",
        "expiring_soon": [],
        "expiring_within_days": 30,
    }


def test_a_customer_can_enrol_only_once(shop):
    m = shop.enrol("C-42")
    with pytest.raises(
        MemberExistsError, match=f"customer 'C-42' is already enrolled as member {m}"
    ):
        shop.enrol("C-42")


def test_a_card_number_can_be_used_as_member_id(shop):
    assert shop.enrol("C-1", member_id="CARD-0001") == "CARD-0001"
    with pytest.raises(MemberExistsError, match="member id 'CARD-0001' is taken"):
        shop.enrol("C-2", member_id="CARD-0001")


def test_consent_changes_keep_their_history_and_the_newest_wins(shop):
    m = shop.enrol("C-1", consents=[ConsentInput("email", True, "pos")])
    shop.now = T0 + dt.timedelta(days=3)
    shop.run(
        members.update,
        m,
        MemberChanges(
            consents=[ConsentInput("email", False, "app"), ConsentInput("sms", True, "app")]
        ),
        shop.ctx(),
        shop.rules,
    )
    view = shop.member(m)
    assert view["consents"]["email"] == {
        "granted": False,
        "source": "app",
        "recorded_at": "2026-03-13T12:00:00.000000Z",
    }
    assert view["consents"]["sms"]["granted"] is True
    with shop.factory() as s:
        history = consent_history(s, m)
    assert [(h["channel"], h["granted"], h["source"]) for h in history] == [
        ("email", True, "pos"),
        ("email", False, "app"),
        ("sms", True, "app"),
    ]


def test_unknown_consent_channel_is_refused(shop):
    with pytest.raises(InvalidRequestError, match="consent channel 'fax' is unknown"):
        shop.enrol("C-1", consents=[ConsentInput("fax", True, "pos")])


def test_update_changes_only_the_fields_sent(shop):
    m = shop.enrol("C-1", name="Li Lei", email="li@example.com")
    view = shop.run(
        members.update,
        m,
        MemberChanges(fields={"phone": "+86 138 0000 0000"}),
        shop.ctx(),
        shop.rules,
    )
    assert (view["name"], view["email"], view["phone"]) == (
        "Li Lei",
        "li@example.com",
        "+86 138 0000 0000",
    )


def test_reading_an_unknown_member_says_so(shop):
    with pytest.raises(MemberNotFoundError, match="member 'm_x' does not exist"):
        shop.member("m_x")
