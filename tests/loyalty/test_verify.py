"""Hash chain tamper detection: every kind of edit is reported at the first tampered entry."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from omnicrm.loyalty.verify import verify_ledger


@pytest.fixture
def history(shop):
    """Two members with a few entries each; returns (shop, member_a, member_b)."""
    a = shop.enrol("C-A")
    b = shop.enrol("C-B")
    shop.earn(a, "300.00", ref="O-A")  # entries 1 (earn) and 2 (first purchase bonus)
    shop.earn(b, "100.00", ref="O-B")  # entries 3, 4
    shop.redeem(a, "COFFEE")  # entry 5
    shop.adjust(b, 40, reason="goodwill")  # entry 6
    return shop, a, b


GUARDS = [
    f"{table}_no_{action}"
    for table in ("loyalty_ledger", "loyalty_lot_allocations")
    for action in ("update", "delete")
]


def tamper(shop, sql: str, **params) -> None:
    """Run ``sql`` as an attacker with DDL rights would: first drop the append-only triggers."""
    with shop.factory() as s:
        for guard in GUARDS:
            s.execute(text(f"drop trigger if exists {guard}"))
        s.execute(text(sql), params)
        s.commit()


def report(shop):
    with shop.factory() as s:
        return verify_ledger(s)


def test_untouched_ledger_verifies(history):
    shop, _, _ = history
    assert report(shop).summary() == "ok, 6 entries"


@pytest.mark.parametrize(
    "sql",
    [
        "update loyalty_ledger set points = 1 where id = 1",
        "delete from loyalty_ledger where id = 6",
        "update loyalty_lot_allocations set points = 1",
        "delete from loyalty_lot_allocations",
    ],
)
def test_the_database_refuses_to_rewrite_the_ledger(history, sql):
    shop, _, _ = history
    with shop.factory() as s, pytest.raises(IntegrityError, match="is append-only"):
        s.execute(text(sql))
    assert report(shop).ok


def test_changing_the_points_of_an_entry_is_reported_at_that_entry(history):
    shop, a, _ = history
    tamper(shop, "update loyalty_ledger set points = 3000 where id = 1")
    r = report(shop)
    assert not r.ok
    assert r.first.entry_id == 1
    assert "balance_after is 300 but previous balance 0 + points 3000 = 3000" in r.first.detail
    assert r.summary().startswith(f"TAMPERED: entry 1 (member {a}): balance_after")


def test_changing_points_and_balance_consistently_still_breaks_the_hash(history):
    shop, _, _ = history
    tamper(shop, "update loyalty_ledger set reason = 'typo fixed' where id = 6")
    r = report(shop)
    assert r.first.entry_id == 6
    assert "differs from the hash of its fields" in r.first.detail


def test_rewriting_an_entry_and_its_hash_breaks_the_link_from_the_next_entry(history):
    shop, _a, _ = history
    tamper(shop, "update loyalty_ledger set hash = :h where id = 2", h="f" * 64)
    r = report(shop)
    assert r.first.entry_id == 2  # its own hash no longer matches its fields
    assert any(p.entry_id == 5 and "prev_hash" in p.detail for p in r.problems)


def test_deleting_the_newest_entry_is_detected_from_the_member_row(history):
    shop, a, _ = history
    tamper(shop, "delete from loyalty_redemptions where entry_id = 5")
    tamper(shop, "delete from loyalty_lot_allocations where entry_id = 5")
    tamper(shop, "delete from loyalty_ledger where id = 5")
    r = report(shop)
    assert r.first.entry_id is None
    assert f"member {a}: member row says the chain ends at seq 3" in str(r.first)


def test_deleting_an_entry_in_the_middle_is_reported_at_the_next_one(history):
    shop, _a, _ = history
    tamper(shop, "delete from loyalty_lot_allocations where entry_id = 2")
    tamper(shop, "delete from loyalty_ledger where id = 2")
    r = report(shop)
    assert r.first.entry_id == 5
    assert "seq is 3, expected 2" in r.first.detail


def test_topping_up_a_lot_without_a_ledger_entry_is_detected(history):
    shop, _, b = history
    tamper(
        shop,
        "update loyalty_lots set points = points + 500, remaining = remaining + 500 "
        "where member_id = :m",
        m=b,
    )
    r = report(shop)
    assert not r.ok
    assert "points remaining, its allocations add up to" in r.first.detail


def test_a_next_expiry_bound_later_than_a_lot_with_points_is_reported(history):
    shop, a, _ = history
    tamper(shop, "update loyalty_members set next_expiry_at = null where id = :m", m=a)
    r = report(shop)
    assert not r.ok
    assert r.first.member_id == a
    assert "the expiry of that lot would be skipped" in r.first.detail


def test_verification_can_be_limited_to_one_member(history):
    shop, a, b = history
    tamper(shop, "update loyalty_ledger set actor = 'someone' where member_id = :m", m=b)
    with shop.factory() as s:
        assert verify_ledger(s, a).ok
        assert not verify_ledger(s, b).ok
