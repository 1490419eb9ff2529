"""Lots and the ledger: oldest-expiring lots are spent first, expiry, derived balances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from omnicrm.loyalty.maintenance import expire_all
from omnicrm.loyalty.models import LedgerEntry, LotAllocation, Member, PointLot
from omnicrm.loyalty.verify import verify_ledger

from .conftest import T0

MONTH = dt.timedelta(days=31)


def lots(shop, member_id):
    with shop.factory() as s:
        rows = s.scalars(
            select(PointLot).where(PointLot.member_id == member_id).order_by(PointLot.id)
        )
        return [(lot.points, lot.remaining) for lot in rows]


def test_redemption_takes_points_from_the_oldest_expiring_lots_first(shop):
    m = shop.enrol()
    shop.adjust(m, 600)  # lot 1 expires end of March 2028
    shop.now = T0 + 2 * MONTH
    shop.adjust(m, 700)  # lot 2 expires end of May 2028
    shop.redeem(m, "CASH10")  # 1000: all of lot 1, 400 of lot 2
    assert lots(shop, m) == [(600, 0), (700, 300)]


def test_expiry_job_expires_due_lots_and_keeps_the_others(shop):
    m = shop.enrol()
    shop.adjust(m, 600)
    shop.now = T0 + 3 * MONTH
    shop.adjust(m, 700)
    # the first lot expires at 2028-04-01 00:00 Shanghai; run the job just after
    report = expire_all(
        shop.factory, shop.rules, now=dt.datetime(2028, 3, 31, 16, 0, 1, tzinfo=dt.UTC)
    )
    assert (report.members, report.entries, report.points) == (1, 1, 600)
    assert lots(shop, m) == [(600, 0), (700, 700)]
    again = expire_all(shop.factory, shop.rules, now=dt.datetime(2028, 4, 2, tzinfo=dt.UTC))
    assert again.points == 0  # rerunning does nothing twice


def test_expired_points_are_not_spendable_even_before_the_job_runs(shop):
    m = shop.enrol()
    shop.adjust(m, 600)
    shop.now = dt.datetime(2028, 4, 2, tzinfo=dt.UTC)
    assert shop.balance(m) == 0
    shop.adjust(m, 100)  # any write first expires what is due, in the same transaction
    with shop.factory() as s:
        kinds = s.scalars(
            select(LedgerEntry.kind).where(LedgerEntry.member_id == m).order_by(LedgerEntry.seq)
        ).all()
    assert kinds == ["adjust", "expire", "adjust"]


def test_points_expiring_soon_are_reported_by_date(shop):
    m = shop.enrol()
    shop.adjust(m, 600)
    shop.now = dt.datetime(2028, 3, 20, tzinfo=dt.UTC)
    soon = shop.member(m)["points"]["expiring_soon"]
    assert soon == [{"points": 600, "expires_at": "2028-03-31T16:00:00.000000Z"}]


def test_balance_equals_lots_equals_ledger_sum_after_a_mixed_history(shop):
    m = shop.enrol()
    shop.earn(m, "300.00", ref="O-1")
    shop.event(m, "sign_in")
    shop.redeem(m, "COFFEE")
    shop.give_back(m, "O-1", "R-1", (1, "100.00"))
    shop.adjust(m, -5)
    with shop.factory() as s:
        ledger_sum = s.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == m)
        )
        lot_sum = s.scalar(select(func.sum(PointLot.remaining)).where(PointLot.member_id == m))
        counter = s.get(Member, m).points_balance
        alloc_sum = s.scalar(select(func.sum(LotAllocation.points)))
        assert verify_ledger(s).summary() == "ok, 6 entries"
    assert ledger_sum == lot_sum == counter == alloc_sum == shop.balance(m)
    assert shop.balance(m) == 300 + 100 + 5 - 300 - 100 - 5


def test_a_redemption_reads_only_the_lots_it_spends_from_in_the_same_order(shop):
    from omnicrm.loyalty.ledger import spendable_lots

    m = shop.enrol()
    for i in range(12):  # twelve lots, expiring month after month
        shop.now = T0 + i * MONTH
        shop.adjust(m, 100 + i)
    shop.now = T0 + 11 * MONTH + dt.timedelta(days=1)  # the first lots have expired by now
    with shop.factory() as s:
        every = spendable_lots(s, m, shop.now)
        total = sum(lot.remaining for lot in every)
        for points in (1, every[0].remaining, every[0].remaining + 1, total - 1, total):
            needed = spendable_lots(s, m, shop.now, points=points)
            assert [lot.id for lot in needed] == [lot.id for lot in every[: len(needed)]]
            assert sum(lot.remaining for lot in needed) >= points
            assert sum(lot.remaining for lot in needed[:-1]) < points  # not one lot more
        assert [lot.id for lot in spendable_lots(s, m, shop.now, points=total + 1)] == [
            lot.id for lot in every
        ]


def test_a_member_remembers_the_earliest_expiry_of_its_lots(shop):
    m = shop.enrol()
    with shop.factory() as s:
        assert s.get(Member, m).next_expiry_at is None  # no lots yet
    shop.adjust(m, 600)  # expires at the end of March 2028
    shop.now = T0 + 3 * MONTH
    shop.adjust(m, 700)  # expires later
    with shop.factory() as s:
        first = s.scalar(select(func.min(PointLot.expires_at)).where(PointLot.member_id == m))
        assert s.get(Member, m).next_expiry_at == first


def test_a_write_does_not_search_the_lots_while_none_can_be_due(shop):
    from omnicrm.loyalty.ledger import expire_due, lock_member

    m = shop.enrol()
    shop.adjust(m, 600)
    with shop.factory() as s:
        member = lock_member(s, m)
        with shop.statements() as sent:
            expire_due(s, member, shop.now, actor="test")
        assert sent == []
        with shop.statements() as sent:
            expire_due(s, member, member.next_expiry_at, actor="test")
        assert any("loyalty_lots" in sql for sql in sent)  # now it must look


def test_expiring_moves_the_bound_to_the_next_lot_and_clears_it_with_the_last(shop):
    m = shop.enrol()
    shop.adjust(m, 600)
    shop.now = T0 + 3 * MONTH
    shop.adjust(m, 700)
    with shop.factory() as s:
        expiries = s.scalars(
            select(PointLot.expires_at).where(PointLot.member_id == m).order_by(PointLot.id)
        ).all()
    expire_all(shop.factory, shop.rules, now=expiries[0] + dt.timedelta(seconds=1))
    with shop.factory() as s:
        assert s.get(Member, m).next_expiry_at == expiries[1]
    expire_all(shop.factory, shop.rules, now=expiries[1] + dt.timedelta(seconds=1))
    with shop.factory() as s:
        assert s.get(Member, m).next_expiry_at is None
    assert shop.balance(m) == 0
    with shop.factory() as s:
        assert verify_ledger(s).ok
