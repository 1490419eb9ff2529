"""Customer 360 profile on a tiny hand-made warehouse (expected values worked out below)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.analytics.identity import build_customer_keys
from omnicrm.analytics.profile import (
    NOT_COMPUTED,
    customer_profile,
    load_profile_rules,
    profile_json,
)
from omnicrm.errors import InputError
from omnicrm.schema import TABLES
from omnicrm.warehouse import connect, ensure_table

AS_OF = "2024-06-30"
D = Decimal


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def table(columns: str, *rows: tuple) -> list[dict]:
    names = columns.split()
    return [dict(zip(names, row, strict=True)) for row in rows]


# One person, three source records: C1 -phone- C2 -email- C3 (C3 also has a WeChat openid).
# D1 is somebody else; one line is anonymous.
CUSTOMERS = table(
    "customer_id name       phone              email               gender birth_date        "
    "city     member_tier is_member",
    ("C1", "Wang Fang", "138 1234 8000", None, "F", date(1990, 5, 17), "Shanghai", "gold", True),
    ("C2", None, "+86 13812348000", "fang@example.com", None, None, "Beijing", None, None),
    ("C3", None, None, " FANG@example.com", None, None, None, None, None),
    ("D1", None, "13900001111", None, None, None, None, None, None),
)
IDENTITIES = table(
    "customer_id id_type id_value source", ("C3", "wechat_openid", "oWx_9", "mini_program")
)
PRODUCTS = table(
    "product_id name department category brand",
    ("P1", "Milk", "Fresh", "Dairy", "Bright"),
    ("P2", "Apples", "Fresh", "Fruit", "Orchard"),
    ("P3", "Detergent", "Household", "Cleaning", "Clean"),
)
STORES = table(
    "store_id name channel", ("S1", "Jing'an Store", "store"), ("S2", "Online Shop", "online")
)


def line(
    order, n, when, cust, store, channel, product, qty, price, amount, promo=None, discount="0"
):
    return {
        "order_id": order,
        "line_number": n,
        "order_ts": ts(when),
        "customer_id": cust,
        "store_id": store,
        "channel": channel,
        "product_id": product,
        "quantity": D(qty),
        "unit_price": D(price),
        "discount_amount": D(discount),
        "amount": D(amount),
        "promotion_id": promo,
        "is_return": D(qty) < 0,
    }


LINES = [
    # O1 Saturday 10:00 (morning), C1 at S1: 30.00, of which 10.00 on promotion
    line("O1", 1, "2024-06-01 10:00", "C1", "S1", "store", "P1", "2", "5.00", "10.00", "PR1"),
    line("O1", 2, "2024-06-01 10:00", "C1", "S1", "store", "P3", "1", "20.00", "20.00"),
    # O2 Sunday 18:30 (evening), C2 online: 12.50
    line("O2", 1, "2024-06-02 18:30", "C2", "S2", "online", "P2", "1", "12.50", "12.50"),
    # O3 Saturday 19:00 (evening), C3 mini-program: 3 x 5.00 - 1.00 = 14.00 on promotion
    line(
        "O3",
        1,
        "2024-06-08 19:00",
        "C3",
        "S2",
        "mini_program",
        "P1",
        "3",
        "5.00",
        "14.00",
        "PR1",
        discount="1.00",
    ),
    # O4 Monday: C1 returns the detergent, -20.00
    line("O4", 1, "2024-06-10 09:00", "C1", "S1", "store", "P3", "-1", "20.00", "-20.00"),
    # after as_of: ignored
    line("O5", 1, "2024-07-01 09:00", "C1", "S1", "store", "P1", "1", "5.00", "5.00"),
    line("O6", 1, "2024-06-05 12:00", "D1", "S1", "store", "P3", "1", "20.00", "20.00"),
    line("O7", 1, "2024-06-05 12:00", None, "S1", "store", "P3", "1", "20.00", "20.00"),
]
FEEDBACK = table(
    "feedback_id customer_id response_ts nps csat comment language channel",
    ("F1", "C2", ts("2024-06-03 08:00"), 10, 5, "Great fresh fruit", "en", "online"),
    ("F2", "C1", ts("2024-06-12 08:00"), 8, 4, None, None, None),
    ("F3", "C1", ts("2024-07-02 08:00"), 0, None, None, None, None),  # after as_of
)
EVENTS = table(
    "event_id customer_id event_type event_ts channel store_id product_id zone dwell_seconds "
    "search_query",
    ("E1", "C1", "store_visit", ts("2024-06-01"), "store", "S1", None, "fresh", 300, None),
    ("E2", "C1", "store_visit", ts("2024-06-10"), "store", "S1", None, "fresh", 120, None),
    ("E3", "C1", "store_visit", ts("2024-06-10"), "store", "S1", None, "bakery", 60, None),
    ("E4", "C3", "view", ts("2024-06-07"), "app", None, "P1", None, None, None),
    ("E5", "C3", "search", ts("2024-06-07"), "online", None, None, None, None, "organic milk"),
    ("E6", "C2", "add_to_cart", ts("2024-06-02"), "online", None, "P2", None, None, None),
    ("E7", "C2", "view", ts("2024-07-05"), "online", None, "P2", None, None, None),  # after
)


def load(con, name, rows):
    table = ensure_table(con, TABLES[name])
    con.insert(name, pd.DataFrame(rows).reindex(columns=table.columns))


def fill(con):
    for name, rows in [
        ("customers", CUSTOMERS),
        ("identities", IDENTITIES),
        ("products", PRODUCTS),
        ("stores", STORES),
        ("order_lines", LINES),
        ("feedback", FEEDBACK),
        ("events", EVENTS),
    ]:
        load(con, name, rows)
    return con


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The tiny warehouse, shared by the read-only tests of this module."""
    con = connect(f"duckdb:///{tmp_path_factory.mktemp('shop') / 'wh.duckdb'}")
    build_customer_keys(fill(con), demo=True)
    yield con
    con.disconnect()


@pytest.fixture
def own_shop(warehouse):
    """A private copy for tests that add tables."""
    return fill(warehouse)


def test_identity_section_merges_three_records_and_says_how(shop):
    p = customer_profile(shop, "C3", as_of=AS_OF)
    assert p["unified_id"] == "C1"  # smallest id of {C1, C2, C3}
    records = [
        (r["customer_id"], r["hops"], r["linked_to"], r["link_type"], r["link_value"])
        for r in p["identity"]["records"]
    ]
    assert records == [
        ("C1", 0, None, None, None),
        ("C2", 1, "C1", "phone", "138****8000"),
        ("C3", 2, "C2", "email", "f***@example.com"),
    ]
    assert p["identity"]["resolved_by"] == "customer_keys"
    identifiers = {(i["type"], i["value"]): i["records"] for i in p["identifiers"]}
    assert identifiers == {
        ("email", "f***@example.com"): ["C2", "C3"],
        ("phone", "138****8000"): ["C1", "C2"],
        ("wechat_openid", "****"): ["C3"],
    }


def test_stored_customer_keys_give_the_same_identity(own_shop):
    on_the_fly = customer_profile(own_shop, "C2", as_of=AS_OF)
    build_customer_keys(own_shop, demo=True)
    stored = customer_profile(own_shop, "C2", as_of=AS_OF)
    assert on_the_fly["identity"]["resolved_by"].startswith("resolved on the fly")
    assert stored["identity"]["resolved_by"] == "customer_keys"
    assert stored["identity"]["records"] == on_the_fly["identity"]["records"]
    assert stored["purchases"] == on_the_fly["purchases"]


def test_purchases(shop):
    buy = customer_profile(shop, "C1", as_of=AS_OF)["purchases"]
    assert buy["orders"] == 3  # O1, O2, O3 (O5 is after as_of)
    assert buy["return_orders"] == 1  # O4
    assert buy["spend"] == D("36.50")  # 30 + 12.50 + 14 - 20
    assert buy["avg_order_value"] == D("12.17")  # 36.50 / 3
    assert buy["first_purchase"] == ts("2024-06-01 10:00")
    assert buy["last_purchase"] == ts("2024-06-08 19:00")
    assert buy["channels"] == {"store": 1, "online": 1, "mini_program": 1}
    assert buy["preferred_channel"] == "mini_program"  # three-way tie: smallest name
    assert buy["preferred_store"] == "S2"  # O2 and O3
    assert buy["preferred_time_of_day"] == "evening"  # 18:30 and 19:00 UTC
    assert buy["weekend_share"] == 1.0


def test_time_of_day_follows_the_configured_time_zone(shop):
    rules = load_profile_rules(timezone="Asia/Shanghai")  # UTC+8: 18:30 -> 02:30 (night)
    buy = customer_profile(shop, "C1", as_of=AS_OF, rules=rules)["purchases"]
    assert buy["time_of_day"] == {"evening": 1, "night": 2}


def test_top_categories_brands_and_recent_orders(shop):
    p = customer_profile(shop, "C1", as_of=AS_OF)
    assert [(c["name"], c["spend"], c["orders"]) for c in p["top_categories"]] == [
        ("Dairy", D("24.00"), 2),
        ("Cleaning", D("20.00"), 1),
        ("Fruit", D("12.50"), 1),
    ]
    assert [b["name"] for b in p["top_brands"]] == ["Bright", "Clean", "Orchard"]
    recent = [(o["order_id"], o["store"], o["amount"], o["is_return"]) for o in p["recent_orders"]]
    assert recent == [
        ("O4", "Jing'an Store", D("-20.00"), True),
        ("O3", "Online Shop", D("14.00"), False),
        ("O2", "Online Shop", D("12.50"), False),
        ("O1", "Jing'an Store", D("30.00"), False),
    ]


def test_feedback_and_behaviour(shop):
    p = customer_profile(shop, "C1", as_of=AS_OF)
    fb = p["feedback"]
    assert (fb["responses"], fb["nps_avg"], fb["nps_latest"], fb["nps_group"]) == (
        2,
        9.0,
        8,
        "passive",
    )  # F3 is after as_of
    assert fb["csat_avg"] == 4.5
    assert [c["comment"] for c in fb["comments"]] == ["Great fresh fruit"]
    be = p["behaviour"]
    assert be["events"] == 6  # E7 is after as_of
    assert be["store_visits"] == 3
    assert be["dwell_by_zone"] == {
        "fresh": {"visits": 2, "dwell_seconds": 420},
        "bakery": {"visits": 1, "dwell_seconds": 60},
    }
    assert be["online_events"] == 3  # E4, E5, E6
    assert be["top_searches"] == ["organic milk"]


def test_rule_based_tags(shop):
    tags = {t["tag"]: t["reason"] for t in customer_profile(shop, "C1", as_of=AS_OF)["tags"]}
    assert tags == {
        "weekend shopper": "100% of orders on Saturday or Sunday",  # 3 of 3
        "fresh food lover": "65% of spend on fresh food",  # 36.50 / 56.50
        "evening shopper": "67% of orders between 17:00 and 22:00",  # 2 of 3
        "omnichannel": "buys through 3 channels",
        "frequent returner": "20% of lines returned",  # 1 of 5
        "promoter": "average NPS 9.0",
    }
    # not tagged: promotion-driven (24.00 / 56.50 = 42% < 50%), online-first (2/3 < 70%)


def test_scores_say_not_computed_until_analyze_ran(own_shop):
    shop = own_shop
    assert customer_profile(shop, "C1", as_of=AS_OF)["scores"] == {"status": NOT_COMPUTED}
    shop.create_table(
        "customer_scores",
        pd.DataFrame(
            {
                "customer_id": ["C1"],
                "r_score": [5],
                "rfm_segment": ["Champions"],
                "lifecycle_stage": ["active"],
                "cluster_name": ["fresh, weekend"],
            }
        ),
    )
    scores = customer_profile(shop, "C3", as_of=AS_OF)["scores"]
    assert scores["status"] == "computed"
    assert (scores["rfm_segment"], scores["lifecycle_stage"]) == ("Champions", "active")


def test_customer_without_purchases(shop):
    p = customer_profile(shop, "C1", as_of="2024-01-01")
    assert p["purchases"]["orders"] == 0
    assert p["purchases"]["spend"] == D("0.00")
    assert p["tags"] == []


def test_master_data_is_merged_and_masked(shop):
    c = customer_profile(shop, "C1", as_of=AS_OF)["customer"]
    assert c["name"] == "W*** F***"
    assert c["birthday"] == "05-17"
    assert c["city"] == "Shanghai"  # root record wins over C2's Beijing
    assert "phone" not in c


def test_no_raw_pii_in_the_json(shop):
    text = profile_json(customer_profile(shop, "C1", as_of=AS_OF))
    for raw in ("13812348000", "138 1234 8000", "fang@example.com", "Wang Fang", "oWx_9"):
        assert raw not in text
    data = json.loads(text)
    assert data["purchases"]["spend"] == "36.50"
    assert data["as_of"] == "2024-06-30T00:00:00+00:00"


def test_unknown_customer_suggests_similar_ids(shop):
    with pytest.raises(InputError, match=r"customer 'C11' not found; did you mean 'C1'"):
        customer_profile(shop, "C11")
    with pytest.raises(
        InputError,
        match=r"customer 'X9' not found; ids in customer_keys look "
        r"like 'C1', 'C2', 'C3'",
    ):
        customer_profile(shop, "X9")


def test_unknown_customer_in_an_empty_warehouse(warehouse):
    with pytest.raises(InputError, match=r"not found; the warehouse has no customers yet"):
        customer_profile(warehouse, "C1")


def test_buyer_known_only_from_sales(warehouse):
    load(warehouse, "order_lines", [LINES[5]])
    p = customer_profile(warehouse, "C1", as_of="2025-01-01")
    assert p["identity"]["resolved_by"] == "only in order_lines"
    assert p["purchases"]["orders"] == 1


def test_bad_as_of_and_bad_rules(shop, tmp_path):
    with pytest.raises(
        InputError,
        match=r"as_of 'next week' is not a date: write it as "
        r"YYYY-MM-DD",
    ):
        customer_profile(shop, "C1", as_of="next week")
    with pytest.raises(InputError, match=r"timezone = 'Mars/Olympus' is not a time zone"):
        load_profile_rules(timezone="Mars/Olympus")
    bad = tmp_path / "profile.toml"
    bad.write_text('[[tags]]\nname = "vip"\nmetric = "spend_total"\nmin = 1\n')
    with pytest.raises(InputError, match=r"tag 'vip': metric = 'spend_total' is unknown"):
        load_profile_rules(bad)
    bad.write_text(
        '[[tags]]\nname = "late"\nmetric = "day_part_share"\nday_part = "dusk"\nmin = 0.5\n'
    )
    with pytest.raises(InputError, match=r"day_part = 'dusk' is not one of morning"):
        load_profile_rules(bad)
