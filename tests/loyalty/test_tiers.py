"""Tiers: upgrade at once, downgrade only at the review date, grace, calendar years, spend."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from omnicrm.loyalty.maintenance import review_all
from omnicrm.loyalty.rules import load_rules

from .conftest import Shop, write_rules

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH).astimezone(dt.UTC)


def tier(shop, member_id):
    t = shop.member(member_id)["tier"]
    return t["code"], t["review_at"], t["grace_until"]


def test_crossing_2000_qualifying_points_upgrades_to_gold_at_once(shop):
    m = shop.enrol()
    first = shop.earn(m, "1999.00")
    assert first["tier"] == "silver"
    second = shop.earn(m, "1.00")
    assert second["tier"] == "gold"
    # review one year later, at the start of the local day
    assert tier(shop, m) == ("gold", "2027-03-09T16:00:00.000000Z", None)


def test_the_order_that_upgrades_earns_at_the_old_rate_and_the_next_one_at_gold_x1_5(shop):
    m = shop.enrol()
    assert shop.earn(m, "2000.00")["points_earned"] == 2000
    assert shop.earn(m, "100.00")["points_earned"] == 150


def test_bonus_points_do_not_count_towards_tiers(shop):
    m = shop.enrol()
    shop.adjust(m, 5000)
    shop.event(m, "sign_in")
    assert shop.member(m)["points"]["qualifying"] == 0
    assert tier(shop, m)[0] == "silver"


def test_gold_is_kept_at_the_review_while_the_rolling_year_still_qualifies(shop):
    m = shop.enrol()
    shop.earn(m, "2500.00")  # 2026-03-10 20:00 local: inside the window ending 2027-03-10 00:00
    review_all(shop.factory, shop.rules, now=at(2027, 3, 10, 1))
    shop.now = at(2027, 3, 10, 1)
    assert tier(shop, m) == ("gold", "2028-03-09T16:00:00.000000Z", None)


def test_downgrade_waits_for_the_review_then_for_30_days_of_grace(shop):
    m = shop.enrol()
    shop.earn(m, "2500.00")
    shop.now = at(2028, 3, 1)
    review_all(shop.factory, shop.rules, now=shop.now)
    assert tier(shop, m)[0] == "gold"  # nothing in the last 12 months, but no review yet
    shop.now = at(2028, 3, 10, 9)
    review_all(shop.factory, shop.rules, now=shop.now)
    assert tier(shop, m) == ("gold", "2028-03-09T16:00:00.000000Z", "2028-04-08T16:00:00.000000Z")
    shop.now = at(2028, 4, 9, 9)
    changed = review_all(shop.factory, shop.rules, now=shop.now)
    assert changed.members == 1
    assert tier(shop, m) == ("silver", None, None)


def test_requalifying_during_grace_cancels_the_downgrade(shop):
    m = shop.enrol()
    shop.earn(m, "2500.00")
    shop.now = at(2028, 3, 12)
    review_all(shop.factory, shop.rules, now=shop.now)
    assert tier(shop, m)[2] is not None
    shop.earn(m, "2000.00")
    assert tier(shop, m) == ("gold", "2029-03-11T16:00:00.000000Z", None)


def test_review_is_applied_by_the_next_operation_even_without_the_job(shop):
    m = shop.enrol()
    shop.earn(m, "2500.00")
    shop.now = at(2028, 5, 1)  # review (2028-03-10) and grace (2028-04-09) both passed
    shop.event(m, "sign_in")
    assert tier(shop, m)[0] == "silver"


def test_diamond_member_who_only_qualifies_for_gold_drops_to_gold_not_silver(tmp_path, factory):
    text = (load_rules.__globals__["DEFAULTS_DIR"] / "tiers.toml").read_text()
    rules = load_rules(
        write_rules(tmp_path, "tiers.toml", text.replace("grace_days = 30", "grace_days = 0"))
    )
    shop = Shop(factory, rules)
    m = shop.enrol()
    shop.earn(m, "8000.00")
    assert tier(shop, m)[0] == "diamond"
    shop.now = at(2027, 1, 5)
    shop.earn(m, "2100.00")  # inside the window of the 2027-03-10 review; first purchase is not
    shop.now = at(2027, 3, 11)
    review_all(shop.factory, shop.rules, now=shop.now)
    assert tier(shop, m)[0] == "diamond"  # first review still sees the 8000 of 2026-03-10
    shop.now = at(2028, 3, 11)
    review_all(shop.factory, shop.rules, now=shop.now)
    assert tier(shop, m)[0] == "silver"


CALENDAR_SPEND = """
[qualification]
metric = "spend"
period = "calendar_year"
grace_days = 0

[[tiers]]
code = "silver"
threshold = "0"

[[tiers]]
code = "gold"
threshold = "5000.00"
earn_multiplier = "1.5"
member_prices = true

[[tiers]]
code = "diamond"
threshold = "20000.00"
earn_multiplier = "2"
"""


@pytest.fixture
def calendar_shop(tmp_path, factory):
    return Shop(factory, load_rules(write_rules(tmp_path, "tiers.toml", CALENDAR_SPEND)))


def test_spending_5000_in_a_calendar_year_gives_gold_until_the_review_on_1_january(calendar_shop):
    shop = calendar_shop
    m = shop.enrol()
    shop.earn(m, "4999.99")
    assert tier(shop, m)[0] == "silver"
    shop.earn(m, "0.01")
    assert tier(shop, m) == ("gold", "2026-12-31T16:00:00.000000Z", None)
    assert shop.member(m)["tier"]["member_prices"] is True
    assert shop.member(m)["points"]["qualifying"] == "5000.00"


def test_calendar_year_review_looks_at_the_year_that_just_ended(calendar_shop):
    shop = calendar_shop
    m = shop.enrol()
    shop.earn(m, "6000.00")
    review_all(shop.factory, shop.rules, now=at(2027, 1, 1, 0, 5))
    shop.now = at(2027, 1, 1, 0, 5)
    assert tier(shop, m) == ("gold", "2027-12-31T16:00:00.000000Z", None)
    review_all(shop.factory, shop.rules, now=at(2028, 1, 1, 0, 5))
    shop.now = at(2028, 1, 1, 0, 5)
    assert tier(shop, m)[0] == "silver"


def test_returns_reduce_spend_in_the_year_of_the_purchase(calendar_shop):
    shop = calendar_shop
    m = shop.enrol()
    shop.earn(m, "6000.00", ref="O-1")
    shop.give_back(m, "O-1", "R-1", (1, "1500.00"))
    assert shop.member(m)["points"]["qualifying"] == "4500.00"
    review_all(shop.factory, shop.rules, now=at(2027, 1, 1, 0, 5))
    shop.now = at(2027, 1, 1, 0, 5)
    assert tier(shop, m)[0] == "silver"
