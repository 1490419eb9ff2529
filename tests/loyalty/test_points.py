"""Earning on orders, bonus events and admin adjustments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from omnicrm.loyalty.errors import (
    DuplicateOrderError,
    InsufficientPointsError,
    InvalidRequestError,
    LimitReachedError,
    MemberClosedError,
    MemberNotFoundError,
    NotEligibleError,
)
from omnicrm.loyalty.models import AuditEntry

from .conftest import T0, line


def test_first_order_of_99_90_yuan_earns_99_points_plus_100_first_purchase_bonus(shop):
    m = shop.enrol()
    result = shop.earn(m, "99.90")
    assert (result["points_earned"], result["bonus_points"], result["balance"]) == (99, 100, 199)
    second = shop.earn(m, "10.00")
    assert (second["points_earned"], second["bonus_points"], second["balance"]) == (10, 0, 209)


def test_same_order_ref_earns_only_once(shop):
    m = shop.enrol()
    shop.earn(m, "50.00", ref="POS-7")
    with pytest.raises(DuplicateOrderError, match="order 'POS-7' already earned points"):
        shop.earn(m, "50.00", ref="POS-7")
    assert shop.balance(m) == 150


def test_order_in_another_currency_is_refused(shop):
    from omnicrm.loyalty import points

    m = shop.enrol()
    order = points.OrderInput("X", [line("10.00")], purchased_at=T0, currency="USD")
    with pytest.raises(InvalidRequestError, match="currency 'USD' is not the programme currency"):
        shop.run(points.earn, m, order, shop.ctx(), shop.rules)


def test_purchase_time_in_the_future_is_refused(shop):
    m = shop.enrol()
    with pytest.raises(InvalidRequestError, match="is in the future"):
        shop.earn(m, "10.00", at=T0 + dt.timedelta(hours=1))


def test_earning_for_an_unknown_member_is_refused(shop):
    with pytest.raises(MemberNotFoundError, match="member 'm_nobody' does not exist"):
        shop.earn("m_nobody", "10.00")


def test_closed_member_cannot_earn(shop):
    from omnicrm.loyalty import members

    m = shop.enrol()
    shop.run(
        members.update,
        m,
        members.MemberChanges(fields={"status": "closed"}),
        shop.ctx(),
        shop.rules,
    )
    with pytest.raises(MemberClosedError, match="is closed"):
        shop.earn(m, "10.00")


def test_discounts_are_recorded_with_the_order(shop):
    from omnicrm.loyalty import points
    from omnicrm.loyalty.models import OrderDiscount

    m = shop.enrol()
    order = points.OrderInput(
        "D-1",
        [line("90.00")],
        purchased_at=T0,
        discounts=[points.DiscountInput("SPRING10", line("10.00").amount)],
    )
    shop.run(points.earn, m, order, shop.ctx(), shop.rules)
    with shop.factory() as s:
        (discount,) = s.scalars(select(OrderDiscount)).all()
    assert (discount.code, str(discount.amount)) == ("SPRING10", "10.00")


class TestBonusEvents:
    def test_sign_in_gives_5_points_once_per_local_day(self, shop):
        m = shop.enrol()
        assert shop.event(m, "sign_in")["points"] == 5
        with pytest.raises(LimitReachedError, match="sign_in bonus already awarded 1 time"):
            shop.event(m, "sign_in")
        shop.now = T0 + dt.timedelta(hours=5)  # 01:00 next day in Shanghai
        assert shop.event(m, "sign_in")["balance"] == 10

    def test_a_review_is_rewarded_once_per_review_id(self, shop):
        m = shop.enrol()
        shop.event(m, "review", reference="REV-1")
        with pytest.raises(LimitReachedError, match="reference 'REV-1' was already awarded"):
            shop.event(m, "review", reference="REV-1")

    def test_birthday_bonus_only_in_the_birthday_month(self, shop):
        march = shop.enrol("C-1", birthday=dt.date(1990, 3, 21))
        june = shop.enrol("C-2", birthday=dt.date(1990, 6, 1))
        assert shop.event(march, "birthday")["points"] == 200
        with pytest.raises(NotEligibleError, match="only given in the member's birthday month"):
            shop.event(june, "birthday")

    def test_first_purchase_cannot_be_claimed_by_hand(self, shop):
        m = shop.enrol()
        with pytest.raises(InvalidRequestError, match="awarded automatically"):
            shop.event(m, "first_purchase")


class TestAdjustments:
    def test_adjustment_needs_a_reason_and_is_audited(self, shop):
        m = shop.enrol()
        with pytest.raises(InvalidRequestError, match="a reason is required"):
            shop.adjust(m, 10, reason=" ")
        shop.adjust(m, 250, reason="goodwill: late delivery")
        with shop.factory() as s:
            audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "adjust")).one()
        assert (audit.actor, audit.target, audit.detail["points"]) == ("admin", m, 250)

    def test_negative_adjustment_cannot_overdraw(self, shop):
        m = shop.enrol()
        shop.adjust(m, 50)
        with pytest.raises(InsufficientPointsError, match="has 50 spendable points, this needs 80"):
            shop.adjust(m, -80)
        assert shop.adjust(m, -50)["balance"] == 0


def test_the_daily_cap_spans_the_orders_of_one_local_day(shop):
    import dataclasses

    shop.rules = dataclasses.replace(
        shop.rules, earning=dataclasses.replace(shop.rules.earning, cap_per_day=150)
    )
    m = shop.enrol()
    assert shop.earn(m, "100.00")["points_earned"] == 100
    second = shop.earn(m, "100.00")
    assert (second["points_earned"], second["points_capped"]) == (50, 50)
    shop.now = T0 + dt.timedelta(days=1)
    assert shop.earn(m, "100.00", at=shop.now)["points_earned"] == 100


def test_an_earn_reads_the_member_with_the_replay_check_then_the_order_facts_and_no_lots(shop):
    m = shop.enrol()
    shop.earn(m, "80.00")
    with shop.statements() as sent:
        shop.earn(m, "50.00", idempotency_key="retry-safe")
    reads = [sql for sql in sent if sql.upper().startswith("SELECT")]
    # the member's row (locked) with the stored result of an earlier identical request, then
    # in one query: duplicate order, first purchase, points earned today and the tier
    # qualification value
    assert len(reads) == 2, reads
    assert "loyalty_idempotency" in reads[0]
    assert "loyalty_members" in reads[0]
    assert not any("loyalty_lots" in sql for sql in reads)
