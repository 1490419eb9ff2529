"""The pricing engine: conditions, gates, stacking, groups, exclusivity and the reasons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from omnicrm.loyalty.promotions.cart import Cart, CartLine
from omnicrm.loyalty.promotions.conditions import Reason
from omnicrm.loyalty.promotions.definition import parse_promotion
from omnicrm.loyalty.promotions.engine import Availability, price

D = Decimal
AT = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def promo(pid: str, benefit: dict, **spec):
    return parse_promotion({"id": pid, "benefit": benefit, **spec})


def cart(*lines, **kwargs) -> Cart:
    """Lines as (product, category, quantity, unit price)."""
    return Cart(
        tuple(CartLine(i + 1, p, D(q), D(u), c) for i, (p, c, q, u) in enumerate(lines)),
        kwargs.pop("at", AT),
        **kwargs,
    )


def reasons(result) -> dict:
    return {v.promotion_id: (v.reason.code if v.reason else None) for v in result.verdicts}


OFF30 = {"type": "amount_off", "amount": "30"}


def test_min_spend_not_met_says_how_much_was_spent():
    p = promo("P1", OFF30, condition={"min_spend": "200"})
    result = price(cart(("A", "grocery", "2", "90.00")), [p])
    assert result.verdicts[0].reason == Reason("min_spend_not_met", "spend 180.00 of 200.00")
    assert result.total == D("180.00")
    assert result.applied == ()


def test_a_promotion_covers_only_its_categories_and_measures_their_spend():
    p = promo(
        "P1",
        {"type": "percent_off", "percent": "10"},
        condition={"categories": ["wine"], "min_spend": "100"},
    )
    c = cart(("A", "grocery", "1", "300.00"), ("W", "wine", "1", "120.00"))
    result = price(c, [p])
    assert dict(result.line_discounts) == {2: D("12.00")}
    assert (
        price(cart(("A", "grocery", "1", "300")), [p]).verdicts[0].reason.code
        == "no_eligible_lines"
    )


def test_stackable_promotions_apply_in_priority_order_on_what_is_left():
    pct = promo("PCT", {"type": "percent_off", "percent": "10"}, priority=5)
    off = promo("OFF", OFF30, priority=9, condition={"min_spend": "200"})
    result = price(cart(("A", "x", "1", "200.00")), [pct, off])
    # OFF first (priority 9): 200 -> 170; then 10% of 170 = 17.
    assert [a.promotion.id for a in result.applied] == ["OFF", "PCT"]
    assert result.discount == D("47.00")
    assert result.total == D("153.00")


def test_min_spend_is_measured_after_earlier_discounts():
    first = promo("FIRST", OFF30, priority=9)
    second = promo("SECOND", OFF30, priority=1, condition={"min_spend": "200"})
    result = price(cart(("A", "x", "1", "210.00")), [first, second])
    assert reasons(result) == {"FIRST": None, "SECOND": "min_spend_not_met"}
    assert result.verdicts[1].reason.message == "spend 180.00 of 200.00"


def test_one_promotion_per_group():
    a = promo("A", OFF30, group="basket", priority=2)
    b = promo("B", {"type": "percent_off", "percent": "5"}, group="basket", priority=1)
    result = price(cart(("X", "x", "1", "100")), [a, b])
    assert reasons(result) == {"A": None, "B": "group_taken"}
    assert "group basket already used by A" in result.verdicts[1].reason.message


def test_an_exclusive_promotion_wins_when_it_gives_more_and_blocks_the_others():
    ex = promo("P12", {"type": "percent_off", "percent": "50"}, exclusive=True)
    s1 = promo("S1", OFF30)
    result = price(cart(("X", "x", "1", "100.00")), [ex, s1])
    assert [a.promotion.id for a in result.applied] == ["P12"]
    assert result.verdicts[1].reason.code == "not_stackable_with"
    assert result.verdicts[1].reason.message.startswith("P12 is exclusive")


def test_the_stack_wins_over_an_exclusive_promotion_worth_less():
    ex = promo("EX", {"type": "percent_off", "percent": "20"}, exclusive=True)
    s1, s2 = promo("S1", OFF30), promo("S2", {"type": "amount_off", "amount": "10"})
    result = price(cart(("X", "x", "1", "100.00")), [ex, s1, s2])
    assert {a.promotion.id for a in result.applied} == {"S1", "S2"}
    assert reasons(result)["EX"] == "not_stackable_with"
    assert result.total == D("60.00")


def test_gates_come_before_conditions():
    c = cart(("X", "x", "1", "100"), member_id="m1")
    cases = {
        "OFF": (promo("OFF", OFF30, active=False), Availability(), "inactive"),
        "SOON": (
            promo("SOON", OFF30, starts_at="2026-04-01T00:00:00+08:00"),
            Availability(),
            "not_started",
        ),
        "OLD": (promo("OLD", OFF30, ends_at="2026-03-01T00:00:00+08:00"), Availability(), "ended"),
        "CODE": (promo("CODE", OFF30, requires_code=True), Availability(), "code_required"),
        "USED": (promo("USED", OFF30, max_uses=5), Availability(uses_left=0), "uses_exhausted"),
        "SPENT": (
            promo("SPENT", OFF30, budget="100"),
            Availability(budget_left=D(0)),
            "budget_exhausted",
        ),
        "LIMIT": (
            promo("LIMIT", OFF30, per_customer=1),
            Availability(customer_uses=1),
            "customer_limit_reached",
        ),
    }
    result = price(c, [p for p, _, _ in cases.values()], {k: s for k, (_, s, _) in cases.items()})
    assert reasons(result) == {k: code for k, (_, _, code) in cases.items()}


def test_a_discount_larger_than_the_budget_left_does_not_apply():
    p = promo("P", OFF30, budget="100")
    result = price(cart(("X", "x", "1", "100")), [p], {"P": Availability(budget_left=D("12.00"))})
    assert result.verdicts[0].reason == Reason(
        "budget_exhausted", "costs 30.00, only 12.00 of the budget is left"
    )


def test_per_customer_limits_need_a_member_and_codes_unlock_promotions():
    p = promo("P", OFF30, per_customer=1, requires_code=True)
    guest = price(cart(("X", "x", "1", "100")), [p], {"P": Availability(code="SPRING")})
    assert reasons(guest) == {"P": "member_required"}
    member = price(cart(("X", "x", "1", "100"), member_id="m"), [p], {"P": Availability(code="S")})
    assert member.applied[0].code == "S"


def test_channel_store_segment_and_tier_conditions():
    p = promo(
        "P",
        OFF30,
        condition={"channels": ["app"], "stores": ["S1"], "segments": ["vip"], "tiers": ["gold"]},
    )
    ok = cart(
        ("X", "x", "1", "100"),
        channel="app",
        store_id="S1",
        tier="gold",
        segments=frozenset({"vip"}),
    )
    assert price(ok, [p]).applied
    wrong = {
        "channel_not_eligible": {"channel": "pos"},
        "store_not_eligible": {"store_id": "S2"},
        "segment_not_eligible": {"segments": frozenset({"new"})},
        "tier_not_eligible": {"tier": "silver"},
    }
    base = {"channel": "app", "store_id": "S1", "tier": "gold", "segments": frozenset({"vip"})}
    for code, change in wrong.items():
        result = price(cart(("X", "x", "1", "100"), **{**base, **change}), [p])
        assert result.verdicts[0].reason.code == code


def test_fully_discounted_lines_leave_nothing_to_discount():
    free = promo("FREE", {"type": "percent_off", "percent": "100"}, priority=2)
    more = promo("MORE", OFF30, priority=1)
    result = price(cart(("X", "x", "1", "50")), [free, more])
    assert reasons(result) == {"FREE": None, "MORE": "nothing_to_discount"}
    assert result.total == D("0.00")


def test_every_verdict_is_listed_in_priority_order():
    ps = [promo(f"P{i}", OFF30, priority=i, condition={"min_spend": "1000"}) for i in range(3)]
    result = price(cart(("X", "x", "1", "10")), ps)
    assert [v.promotion_id for v in result.verdicts] == ["P2", "P1", "P0"]
