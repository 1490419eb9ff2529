"""Baskets from contract order lines, hierarchy levels and rules straight from the warehouse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.basket import (
    basket_rules_by_level,
    baskets_by_level,
    baskets_from_order_lines,
)
from omnicrm.schema import TABLES
from omnicrm.warehouse import ensure_table

UTC = dt.UTC


def _line(order, number, product, quantity, *, customer="c1", ts="2026-03-02 10:00"):
    quantity = Decimal(quantity)
    price = Decimal("2.50")
    return {
        "order_id": order,
        "line_number": number,
        "order_ts": pd.Timestamp(ts, tz="UTC"),
        "customer_id": customer,
        "store_id": "s1",
        "channel": "store",
        "product_id": product,
        "quantity": quantity,
        "unit_price": price,
        "discount_amount": Decimal("0.00"),
        "amount": quantity * price,
        "promotion_id": None,
        "is_return": quantity < 0,
    }


LINES = [
    _line("o1", 1, "yog-straw", "2"),
    _line("o1", 2, "granola", "1"),
    _line("o1", 3, "yog-straw", "-2"),  # cancelled in the same order
    _line("o2", 1, "yog-plain", "1", ts="2026-03-02 18:00"),
    _line("o2", 2, "granola", "1", ts="2026-03-02 18:00"),
    _line("o3", 1, "granola", "-1", ts="2026-03-03 09:00"),  # a return booked as an order
    _line("o4", 1, "yog-plain", "1", customer=None, ts="2026-03-02 11:00"),
    _line("o5", 1, "cola", "1", customer="c2", ts="2026-03-04 12:00"),
    _line("o5", 2, "crisps", "3", customer="c2", ts="2026-03-04 12:00"),
]
PRODUCTS = [
    ("yog-straw", "Strawberry yogurt", "Fresh", "Dairy", "Yogurt"),
    ("yog-plain", "Plain yogurt", "Fresh", "Dairy", "Yogurt"),
    ("granola", "Granola", "Grocery", "Cereal", None),
    ("cola", "Cola", "Drinks", "Soft drinks", "Cola"),
    ("crisps", "Crisps", "Grocery", "Snacks", "Crisps"),
]


@pytest.fixture
def tables(warehouse):
    lines = ensure_table(warehouse, TABLES["order_lines"])
    warehouse.insert("order_lines", pd.DataFrame(LINES)[list(lines.columns)])
    products = ensure_table(warehouse, TABLES["products"])
    catalogue = pd.DataFrame(
        PRODUCTS, columns=["product_id", "name", "department", "category", "subcategory"]
    ).reindex(columns=list(products.columns))
    warehouse.insert("products", catalogue)
    return warehouse.table("order_lines"), warehouse.table("products")


def _as_sets(baskets) -> dict[str, set]:
    frame = baskets.execute()
    return {b: set(g["item_id"]) for b, g in frame.groupby("basket_id")}


def test_one_basket_per_order_with_returns_netted_out(tables) -> None:
    lines, _ = tables
    assert _as_sets(baskets_from_order_lines(lines)) == {
        "o1": {"granola"},
        "o2": {"yog-plain", "granola"},
        "o4": {"yog-plain"},
        "o5": {"cola", "crisps"},
    }


def test_customer_day_baskets_merge_a_customers_orders_of_one_utc_day(tables) -> None:
    lines, _ = tables
    assert _as_sets(baskets_from_order_lines(lines, per="customer_day")) == {
        "c:c1:2026-03-02": {"granola", "yog-plain"},
        "o:o4": {"yog-plain"},  # anonymous: stays its own basket
        "c:c2:2026-03-04": {"cola", "crisps"},
    }


def test_as_of_keeps_only_earlier_lines(tables) -> None:
    lines, _ = tables
    before = baskets_from_order_lines(lines, as_of="2026-03-02 12:00")
    assert _as_sets(before) == {"o1": {"granola"}, "o4": {"yog-plain"}}
    midnight = baskets_from_order_lines(lines, as_of=dt.date(2026, 3, 3))
    assert set(_as_sets(midnight)) == {"o1", "o2", "o4"}


def test_category_level_maps_products_through_the_hierarchy(tables) -> None:
    lines, products = tables
    assert _as_sets(baskets_by_level(lines, products, level="category")) == {
        "o1": {"Cereal"},
        "o2": {"Dairy", "Cereal"},
        "o4": {"Dairy"},
        "o5": {"Soft drinks", "Snacks"},
    }


def test_products_without_a_value_at_the_level_are_left_out(tables) -> None:
    lines, products = tables
    assert _as_sets(baskets_by_level(lines, products, level="subcategory")) == {
        "o2": {"Yogurt"},
        "o4": {"Yogurt"},
        "o5": {"Cola", "Crisps"},
    }


def test_rules_by_level_from_the_warehouse(tables) -> None:
    lines, products = tables
    rules = basket_rules_by_level(lines, products, level="category", min_support=0.25)
    assert set(rules["level"]) == {"category"}
    found = {(r.antecedent, r.consequent): r.confidence for r in rules.itertuples()}
    # 4 baskets: Cereal in 2, Dairy in 2, both in 1; Snacks & Soft drinks together in 1
    assert found == {
        (("Cereal",), ("Dairy",)): 0.5,
        (("Dairy",), ("Cereal",)): 0.5,
        (("Snacks",), ("Soft drinks",)): 1.0,
        (("Soft drinks",), ("Snacks",)): 1.0,
    }


def test_product_level_needs_no_catalogue(tables) -> None:
    lines, _ = tables
    rules = basket_rules_by_level(lines, level="product", min_support=0.25, min_confidence=1.0)
    assert set(zip(rules["antecedent"], rules["consequent"], strict=True)) == {
        (("cola",), ("crisps",)),
        (("crisps",), ("cola",)),
    }


def test_pandas_order_lines_are_accepted() -> None:
    lines = pd.DataFrame(LINES)
    assert _as_sets(baskets_from_order_lines(lines))["o5"] == {"cola", "crisps"}


# --- bad input --------------------------------------------------------------------------------


def test_unknown_basket_definition_is_refused(tables) -> None:
    with pytest.raises(InputError, match=r"per='week' is not a basket definition"):
        baskets_from_order_lines(tables[0], per="week")


def test_unknown_level_is_refused(tables) -> None:
    with pytest.raises(InputError, match=r"level='aisle' is not a level.*'category'"):
        baskets_by_level(*tables, level="aisle")


def test_category_level_without_products_is_refused(tables) -> None:
    with pytest.raises(InputError, match=r"needs the products table.*products=con.table"):
        basket_rules_by_level(tables[0], level="category", min_support=0.5)


def test_missing_contract_columns_are_named() -> None:
    lines = pd.DataFrame({"order_id": ["o1"], "sku": ["p1"], "quantity": [1]})
    with pytest.raises(InputError, match=r"no column\(s\) 'product_id'.*docs/data-model.md"):
        baskets_from_order_lines(lines)
    with pytest.raises(InputError, match=r"no column\(s\) 'customer_id', 'order_ts'"):
        baskets_from_order_lines(lines.rename(columns={"sku": "product_id"}), per="customer_day")


def test_bad_as_of_is_refused(tables) -> None:
    with pytest.raises(InputError, match=r"as_of='last tuesday' is not a date"):
        baskets_from_order_lines(tables[0], as_of="last tuesday")


def test_a_period_without_sales_is_reported_as_empty_baskets(tables) -> None:
    with pytest.raises(InputError, match="baskets has no rows"):
        basket_rules_by_level(tables[0], min_support=0.5, as_of="2020-01-01")
