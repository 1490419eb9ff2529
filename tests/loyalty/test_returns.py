"""Returns claw back the points of the returned lines, proportionally, never below zero."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from omnicrm.loyalty.errors import DuplicateReturnError, InvalidRequestError
from omnicrm.loyalty.models import LoyaltyOrder
from omnicrm.loyalty.verify import verify_ledger

from .conftest import line


def test_returning_half_a_line_claws_back_half_its_points(shop):
    m = shop.enrol()
    shop.earn(m, line("200.00"), line("100.00"), ref="O-1")  # 300 points (+100 bonus)
    result = shop.give_back(m, "O-1", "R-1", (1, "100.00"))
    assert (result["points_due"], result["points_clawed_back"], result["shortfall"]) == (
        100,
        100,
        0,
    )
    assert result["balance"] == 300


def test_returning_a_line_in_two_parts_claws_back_exactly_what_it_earned(shop):
    m = shop.enrol()
    shop.earn(m, line("0.99"), line("9.99"), ref="O-1")  # floor(10.98) = 10 points
    first = shop.give_back(m, "O-1", "R-1", (2, "3.33"))
    second = shop.give_back(m, "O-1", "R-2", (2, "6.66"))
    with shop.factory() as s:
        order = s.scalar(select(LoyaltyOrder))
    assert first["points_clawed_back"] + second["points_clawed_back"] == 9  # line 2 earned 9
    assert order.points_clawed_back == 9
    assert str(order.returned_amount) == "9.99"


def test_points_already_spent_are_not_taken_below_zero_and_the_shortfall_is_recorded(shop):
    m = shop.enrol()
    shop.earn(m, "1000.00", ref="O-1")  # 1000 + 100 bonus = 1100
    shop.redeem(m, "CASH10")  # -1000 -> 100 left
    result = shop.give_back(m, "O-1", "R-1", (1, "1000.00"))
    due, taken, shortfall = result["points_due"], result["points_clawed_back"], result["shortfall"]
    assert (due, taken, shortfall) == (1000, 100, 900)
    assert shop.balance(m) == 0
    with shop.factory() as s:
        assert s.scalar(select(LoyaltyOrder.clawback_shortfall)) == 900
        assert verify_ledger(s).ok


def test_return_reverses_qualifying_points_in_full_even_when_points_were_spent(shop):
    m = shop.enrol()
    shop.earn(m, "1000.00", ref="O-1")
    shop.redeem(m, "CASH10")
    shop.give_back(m, "O-1", "R-1", (1, "1000.00"))
    assert shop.member(m)["points"]["qualifying"] == 0


def test_returning_more_than_was_bought_is_refused(shop):
    m = shop.enrol()
    shop.earn(m, "50.00", ref="O-1")
    with pytest.raises(InvalidRequestError, match=r"return amount 50.01 must be > 0 and <= 50.00"):
        shop.give_back(m, "O-1", "R-1", (1, "50.01"))


def test_the_same_return_is_processed_once(shop):
    m = shop.enrol()
    shop.earn(m, "50.00", ref="O-1")
    shop.give_back(m, "O-1", "R-1", (1, "10.00"))
    with pytest.raises(DuplicateReturnError, match="return 'R-1' of order 'O-1'"):
        shop.give_back(m, "O-1", "R-1", (1, "10.00"))


def test_return_of_an_unknown_line_is_refused(shop):
    m = shop.enrol()
    shop.earn(m, "50.00", ref="O-1")
    with pytest.raises(InvalidRequestError, match="returned line 3 is not on the order"):
        shop.give_back(m, "O-1", "R-1", (3, "10.00"))
