"""Points of an order: rate, multipliers, rounding once per order, caps, split over lines."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnicrm.loyalty.earning import quote_order, split_by_weight

from .conftest import line


def quote(rules, *lines, tier="silver", earned_today=0, **earning):
    earn_rules = dataclasses.replace(rules.earning, **earning)
    return quote_order(list(lines), earn_rules, rules.tiers.get(tier), earned_today=earned_today)


def test_earn_on_128_50_yuan_at_1_point_per_yuan_with_gold_x1_5_gives_192_points(rules):
    q = quote(rules, line("128.50"), tier="gold")
    assert q.points == 192  # 128.50 * 1.5 = 192.75, rounded down once per order
    assert q.qualifying_points == 128  # tier multiplier does not qualify


def test_silver_earns_one_point_per_whole_yuan(rules):
    assert quote(rules, line("99.99")).points == 99


def test_rounding_happens_once_per_order_so_small_lines_are_not_lost(rules):
    # three lines of 0.60 yuan: per-line flooring would give 0, the order gives floor(1.80) = 1
    q = quote(rules, line("0.60"), line("0.60"), line("0.60"))
    assert q.points == 1
    assert sum(q.line_points) == 1


def test_fresh_category_doubles_and_tobacco_earns_nothing(rules):
    q = quote(
        rules, line("50.00", category="fresh"), line("80.00", category="tobacco"), line("10.00")
    )
    assert q.points == 110  # 50 * 2 + 80 * 0 + 10
    assert q.line_points == (100, 0, 10)


def test_highest_matching_multiplier_wins_not_the_product(rules):
    # fresh (x2) and omni-select brand (x3) both match: x3, not x6
    q = quote(rules, line("10.00", category="fresh", brand="omni-select"))
    assert q.points == 30


def test_diamond_x2_on_fresh_x2_gives_four_points_per_yuan(rules):
    q = quote(rules, line("25.00", category="fresh"), tier="diamond")
    assert (q.points, q.qualifying_points) == (100, 50)


def test_per_order_cap_limits_spendable_points_but_not_qualifying(rules):
    q = quote(rules, line("30000.00"), cap_per_order=20000)
    assert (q.points, q.uncapped_points, q.qualifying_points) == (20000, 30000, 30000)


def test_per_day_cap_counts_what_was_already_earned_that_day(rules):
    q = quote(rules, line("500.00"), cap_per_day=1000, earned_today=800)
    assert q.points == 200
    assert quote(rules, line("500.00"), cap_per_day=1000, earned_today=1200).points == 0


def test_points_per_unit_can_be_fractional(rules):
    q = quote(rules, line("199.00"), points_per_unit=Decimal("0.1"))
    assert q.points == 19


def test_line_points_add_up_to_the_order_by_largest_remainder():
    assert split_by_weight(10, [Decimal(1)] * 3) == [4, 3, 3]
    assert split_by_weight(7, [Decimal("2.5"), Decimal("2.5"), Decimal(0)]) == [4, 3, 0]


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=30),
)
def test_split_by_weight_always_adds_up_exactly(total, weights):
    parts = split_by_weight(total, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
    else:
        assert sum(parts) == total
        assert all(p >= 0 for p in parts)
        assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@pytest.mark.parametrize(("amount", "expected"), [("0.00", 0), ("0.99", 0), ("1.00", 1)])
def test_amounts_below_one_yuan_earn_nothing(rules, amount, expected):
    assert quote(rules, line(amount)).points == expected
