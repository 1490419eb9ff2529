"""Benefits: exact money for every type, parts that add up, never below zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnicrm.errors import InputError
from omnicrm.loyalty.promotions.benefits import BENEFITS, parse_benefit
from omnicrm.loyalty.promotions.cart import Cart, CartLine, allocate
from omnicrm.loyalty.promotions.conditions import Reason

D = Decimal
AT = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def cart(*lines: tuple[str, str, str], **kwargs) -> Cart:
    """Lines as (product, quantity, unit price)."""
    return Cart(
        tuple(CartLine(i + 1, p, D(q), D(u)) for i, (p, q, u) in enumerate(lines)), AT, **kwargs
    )


def apply(spec: dict, c: Cart):
    return parse_benefit(spec, "P").apply(c, c.lines, {x.line_no: x.value for x in c.lines})


def test_thirty_off_is_spread_by_value_with_the_remainder_on_the_last_line():
    c = cart(("A", "1", "33.33"), ("B", "1", "33.33"), ("C", "1", "33.34"))
    effect = apply({"type": "amount_off", "amount": "10"}, c)
    assert effect.line_discounts == {1: D("3.33"), 2: D("3.33"), 3: D("3.34")}
    assert effect.amount == D("10.00")


def test_amount_off_never_exceeds_the_cart():
    effect = apply({"type": "amount_off", "amount": "50"}, cart(("A", "2", "10.00")))
    assert effect.amount == D("20.00")


def test_ten_percent_off_with_a_cap():
    c = cart(("A", "3", "99.99"))
    assert apply({"type": "percent_off", "percent": "10"}, c).amount == D("30.00")
    capped = {"type": "percent_off", "percent": "10", "max_discount": "25"}
    assert apply(capped, c).amount == D("25.00")


def test_spend_200_save_30_repeats_every_200():
    benefit = {"type": "spend_save", "every": "200", "save": "30"}
    assert apply(benefit, cart(("A", "1", "399.99"))).amount == D("30.00")
    assert apply(benefit, cart(("A", "1", "400.00"))).amount == D("60.00")
    with_max = {**benefit, "max_times": 2}
    assert apply(with_max, cart(("A", "1", "1000.00"))).amount == D("60.00")


def test_spend_save_thresholds_take_the_highest_reached():
    benefit = {
        "type": "spend_save",
        "thresholds": [{"spend": "500", "save": "100"}, {"spend": "200", "save": "30"}],
    }
    assert apply(benefit, cart(("A", "1", "499.00"))).amount == D("30.00")
    assert apply(benefit, cart(("A", "1", "650.00"))).amount == D("100.00")
    reason = apply(benefit, cart(("A", "1", "180.00")))
    assert reason == Reason("min_spend_not_met", "spend 180.00 of 200.00")


def test_buy_two_get_one_free_gives_the_cheapest_units():
    c = cart(("A", "2", "10.00"), ("B", "1", "4.50"), ("C", "3", "7.00"))
    effect = apply({"type": "buy_x_get_y", "buy": 2, "get": 1}, c)
    # 6 units -> 2 free: the 4.50 unit and one 7.00 unit.
    assert effect.line_discounts == {2: D("4.50"), 3: D("7.00")}


def test_buy_x_get_y_ignores_weighed_quantities_and_explains_a_short_cart():
    c = cart(("A", "1.5", "10.00"), ("B", "2", "3.00"))
    reason = apply({"type": "buy_x_get_y", "buy": 2, "get": 1}, c)
    assert reason.code == "min_quantity_not_met"
    half = apply({"type": "buy_x_get_y", "buy": 1, "get": 1, "percent": "50"}, c)
    assert half.line_discounts == {2: D("1.50")}


def test_gift_costs_its_value_but_takes_nothing_off():
    effect = apply(
        {"type": "gift", "product_id": "BAG", "value": "3.20", "quantity": 2},
        cart(("A", "1", "10")),
    )
    assert effect.amount == D("0.00")
    assert effect.cost == D("6.40")


def test_member_prices_need_a_tier_with_member_prices():
    spec = {"type": "member_price", "prices": {"A": "8.90"}}
    c = cart(
        ("A", "2", "9.90"), ("B", "1", "5.00"), member_id="m1", tier="gold", tier_member_prices=True
    )
    assert apply(spec, c).line_discounts == {1: D("2.00")}
    silver = cart(("A", "2", "9.90"), member_id="m1", tier="silver")
    assert apply(spec, silver).code == "tier_without_member_prices"
    assert apply(spec, cart(("A", "2", "9.90"))).code == "member_required"


def test_points_multiplier_names_the_covered_lines():
    effect = apply(
        {"type": "points_multiplier", "multiplier": "2"}, cart(("A", "1", "5"), ("B", "1", "5"))
    )
    assert effect.points_multiplier == D("2.00")
    assert effect.points_lines == (1, 2)
    assert effect.cost == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "nope"}, "benefit type 'nope' is unknown; choose one of percent_off"),
        ({"type": "percent_off", "percent": "120"}, "percent = '120' must be at most 100"),
        ({"type": "percent_off", "percent": 0.1}, "write money as a string"),
        ({"type": "amount_off", "amount": "1.234"}, "more than 2 decimal places"),
        ({"type": "amount_off", "amount": "5", "percent": "1"}, "does not know percent"),
        ({"type": "spend_save", "every": "100", "save": "150"}, "save 150.00 is more than every"),
        ({"type": "spend_save"}, "give thresholds"),
        ({"type": "buy_x_get_y", "buy": 0, "get": 1}, "buy = 0; expected a whole number >= 1"),
        ({"type": "points_multiplier", "multiplier": "1"}, "must be above 1"),
        ({"type": "member_price"}, "give prices"),
    ],
)
def test_bad_benefits_are_refused_with_the_key_and_the_fix(spec, message):
    with pytest.raises(InputError, match=message):
        parse_benefit(spec, "P9")


def test_every_registered_benefit_parses_from_its_example():
    assert set(BENEFITS) == {
        "percent_off",
        "amount_off",
        "spend_save",
        "buy_x_get_y",
        "gift",
        "member_price",
        "points_multiplier",
    }


cents = st.integers(min_value=0, max_value=10**7).map(lambda c: D(c) / 100)


@given(st.lists(cents, min_size=1, max_size=30), st.data())
def test_allocation_adds_up_exactly_and_never_exceeds_a_line(weights, data):
    top = int(sum(weights) * 100)
    total = D(data.draw(st.integers(min_value=0, max_value=top))) / 100
    parts = allocate(total, weights)
    assert sum(parts, D(0)) == (total if sum(weights) > 0 else 0)
    assert all(D(0) <= p <= w for p, w in zip(parts, weights, strict=True))
    assert all(p == p.quantize(D("0.01")) for p in parts)
