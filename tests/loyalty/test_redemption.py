"""Redeeming rewards: price, vouchers, tier restrictions, never more than the balance."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from omnicrm.loyalty.errors import InsufficientPointsError, InvalidRequestError, NotEligibleError
from omnicrm.loyalty.models import Redemption


def test_cash10_costs_1000_points_and_gives_10_yuan_off(shop):
    m = shop.enrol()
    shop.adjust(m, 1500)
    result = shop.redeem(m, "CASH10")
    assert (result["points"], result["value"], result["balance"]) == (1000, "10.00", 500)
    assert result["voucher_code"].startswith("V-")
    with shop.factory() as s:
        row = s.scalars(select(Redemption)).one()
    assert (row.reward_code, row.points, str(row.value)) == ("CASH10", 1000, "10.00")


def test_two_coffees_cost_600_points(shop):
    m = shop.enrol()
    shop.adjust(m, 700)
    result = shop.redeem(m, "COFFEE", quantity=2)
    assert (result["points"], result["product_id"], result["balance"]) == (
        600,
        "SKU-COFFEE-REG",
        100,
    )


def test_coupon_reward_says_how_long_it_is_valid(shop):
    m = shop.enrol()
    shop.adjust(m, 200)
    result = shop.redeem(m, "FREESHIP")
    assert result["coupon"] == "free_shipping"
    assert result["valid_until"] == "2026-04-09T12:00:00.000000Z"  # 30 days after T0


def test_redeeming_more_than_the_balance_is_refused_and_changes_nothing(shop):
    m = shop.enrol()
    shop.adjust(m, 999)
    with pytest.raises(
        InsufficientPointsError, match="has 999 spendable points; 1 x CASH10 costs 1000"
    ):
        shop.redeem(m, "CASH10")
    assert shop.balance(m) == 999


def test_gold_only_reward_is_refused_to_silver(shop):
    m = shop.enrol()
    shop.adjust(m, 5000)
    with pytest.raises(
        NotEligibleError, match="reward CASH50 needs tier gold or above; the member is silver"
    ):
        shop.redeem(m, "CASH50")


def test_unknown_reward_lists_the_catalogue(shop):
    m = shop.enrol()
    with pytest.raises(
        InvalidRequestError, match="reward 'CASH5' is not in the catalogue; known: CASH10"
    ):
        shop.redeem(m, "CASH5")
