"""Checkout pricing through the service: members, codes, points, reasons — and no writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnicrm.loyalty import checkout
from omnicrm.loyalty.checkout import CartInput, ItemInput
from omnicrm.loyalty.errors import InvalidRequestError, MemberNotFoundError
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.promotions import coupons, store
from omnicrm.loyalty.promotions.models import Coupon, PromotionRow

from .conftest import T0

D = Decimal


def item(price: str, qty: str = "1", product: str = "SKU-1", category: str = "grocery", brand=None):
    return ItemInput(product, D(qty), D(price), category, brand)


@pytest.fixture
def admin(factory):
    """Save promotions and generate codes the way the admin API does."""

    class Admin:
        def promo(self, pid: str, benefit: dict, **spec) -> dict:
            with factory() as s:
                return store.save(
                    s, {"id": pid, "benefit": benefit, **spec}, Context("admin", now=T0)
                )

        def codes(self, pid: str, **kwargs) -> list[str]:
            with factory() as s:
                return coupons.generate(s, pid, Context("admin", now=T0), **kwargs)["codes"]

    return Admin()


def price(factory, rules, cart: CartInput) -> dict:
    with factory() as s:
        return checkout.price(s, cart, rules, now=T0)


def test_a_member_sees_applied_promotions_line_discounts_totals_and_points(
    shop, factory, rules, admin
):
    member = shop.enrol()
    admin.promo("SPEND200", {"type": "spend_save", "every": "200", "save": "30"}, priority=5)
    admin.promo(
        "WINE10", {"type": "percent_off", "percent": "10"}, condition={"categories": ["wine"]}
    )
    cart = CartInput(
        [item("150.00", "2"), item("79.90", product="W", category="wine")], member_id=member
    )
    q = price(factory, rules, cart)
    assert q["subtotal"] == "379.90"
    # SPEND200 first: 30 spread 300.00 : 79.90 -> 23.69 + 6.31; then 10% of 73.59 -> 7.36.
    assert [(x["discount"], x["net_amount"]) for x in q["lines"]] == [
        ("23.69", "276.31"),
        ("13.67", "66.23"),
    ]
    assert q["discount"] == "37.36"
    assert q["total"] == "342.54"
    assert [a["promotion_id"] for a in q["applied"]] == ["SPEND200", "WINE10"]
    assert q["points"] == {"earned": 342, "bonus": 0, "qualifying": 342}
    assert sum(x["points"] for x in q["lines"]) == 342


def test_every_candidate_says_why_it_did_not_apply(shop, factory, rules, admin):
    admin.promo("P200", {"type": "amount_off", "amount": "30"}, condition={"min_spend": "200"})
    admin.promo("APP", {"type": "amount_off", "amount": "5"}, condition={"channels": ["app"]})
    q = price(factory, rules, CartInput([item("90.00", "2")], channel="pos"))
    assert {p["promotion_id"]: (p["reason"], p["message"]) for p in q["promotions"]} == {
        "P200": ("min_spend_not_met", "spend 180.00 of 200.00"),
        "APP": ("channel_not_eligible", "channel pos is not one of app"),
    }
    assert q["total"] == "180.00"
    assert q["points"]["earned"] == 0


def test_codes_unlock_promotions_and_bad_codes_are_reported_per_code(shop, factory, rules, admin):
    admin.promo("VIP", {"type": "percent_off", "percent": "20"}, requires_code=True)
    code = admin.codes("VIP", count=1, prefix="VIP")[0]
    expired = admin.codes("VIP", count=1, valid_until=T0 - dt.timedelta(days=1))[0]
    cart = CartInput([item("50.00")], codes=[code.lower(), "NOPE-1234", expired])
    q = price(factory, rules, cart)
    assert q["total"] == "40.00"
    assert [c["status"] for c in q["codes"]] == ["applied", "unknown_code", "coupon_expired"]
    without = price(factory, rules, CartInput([item("50.00")]))
    assert without["promotions"][0]["reason"] == "code_required"


def test_points_multiplier_and_gold_member_prices(shop, factory, rules, admin):
    member = shop.enrol()
    shop.earn(member, "2000.00")  # reaches gold (member prices, x1.5)
    admin.promo(
        "X2", {"type": "points_multiplier", "multiplier": "2"}, condition={"brands": ["acme"]}
    )
    admin.promo("MP", {"type": "member_price", "prices": {"SKU-9": "8.00"}})
    cart = CartInput(
        [item("10.00", "3", product="SKU-9"), item("100.00", product="A", brand="acme")],
        member_id=member,
    )
    q = price(factory, rules, cart)
    assert q["tier"] == "gold"
    assert q["lines"][0]["discount"] == "6.00"
    # 124.00 x 1.5 = 186 points; the acme line's 150 points doubled -> +150 bonus.
    assert q["points"] == {"earned": 186, "bonus": 150, "qualifying": 124}


def test_pricing_writes_nothing(shop, factory, rules, admin):
    member = shop.enrol()
    admin.promo("P", {"type": "amount_off", "amount": "5"}, budget="10", max_uses=3)
    code = admin.codes("P", count=1)[0]
    price(factory, rules, CartInput([item("20")], member_id=member, codes=[code]))
    with factory() as s:
        row = s.get(PromotionRow, "P")
        assert (row.uses, row.budget_used) == (0, D("0.00"))
        assert s.scalar(select(func.sum(Coupon.uses))) == 0


def test_unknown_member_and_bad_carts_are_refused(factory, rules):
    with pytest.raises(MemberNotFoundError, match="member 'm_nobody' does not exist"):
        price(factory, rules, CartInput([item("1")], member_id="m_nobody"))
    with pytest.raises(InvalidRequestError, match="the cart has no lines"):
        price(factory, rules, CartInput([]))
    with pytest.raises(InvalidRequestError, match=r"unit_price 1\.005 has more than 2 decimal"):
        price(factory, rules, CartInput([item("1.005")]))
    with pytest.raises(InvalidRequestError, match="quantity must be > 0"):
        price(factory, rules, CartInput([item("1", qty="0")]))


def test_a_quote_counts_the_points_already_earned_today_against_the_daily_cap(shop, factory, rules):
    import dataclasses

    capped = dataclasses.replace(rules, earning=dataclasses.replace(rules.earning, cap_per_day=150))
    shop.rules = capped
    member = shop.enrol()
    shop.earn(member, "100.00")  # 100 of today's 150
    q = price(factory, capped, CartInput([item("100.00")], member_id=member))
    assert q["points"]["earned"] == 50
    tomorrow = CartInput([item("100.00")], member_id=member, at=T0 + dt.timedelta(days=1))
    with factory() as s:
        assert checkout.price(s, tomorrow, capped)["points"]["earned"] == 100


def test_a_quote_knows_which_promotions_the_member_already_used_up(shop, factory, rules, admin):
    from omnicrm.loyalty import orders
    from omnicrm.loyalty.orders import CommitInput

    once, other = shop.enrol("C-1"), shop.enrol("C-2")
    admin.promo("ONCE", {"type": "amount_off", "amount": "30"}, per_customer=1)
    cart = CartInput([item("100.00")], member_id=once)
    with factory() as s:
        orders.commit(s, "O-1", CommitInput(cart, T0), Context("pos", now=T0), rules)
    used = price(factory, rules, cart)
    assert used["applied"] == []
    assert used["promotions"][0]["reason"] == "customer_limit_reached"
    fresh = price(factory, rules, CartInput([item("100.00")], member_id=other))
    assert [a["promotion_id"] for a in fresh["applied"]] == ["ONCE"]


def test_a_member_quote_reads_the_database_twice(shop, factory, rules, admin):
    member = shop.enrol()
    admin.promo("P", {"type": "amount_off", "amount": "5"}, per_customer=2)
    with shop.statements() as sent:
        price(factory, rules, CartInput([item("20.00")], member_id=member))
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    # the member with the points it earned today; the active promotions with its uses of each
    assert len(reads) == 2, reads
    assert "loyalty_members" in reads[0]
    assert "loyalty_ledger" in reads[0]
    assert "loyalty_promotions" in reads[1]
    assert "loyalty_applied_promotions" in reads[1]
