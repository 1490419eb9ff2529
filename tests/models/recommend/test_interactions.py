"""Interactions from order lines: netting, anonymous lines, the time window; same on PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.recommend import Interactions, interactions_from_order_lines

LINES = pd.DataFrame(
    {
        "order_id": ["o1", "o1", "o1", "o2", "o3", "o4", "o5"],
        "customer_id": ["a", "a", "a", "a", None, "b", "b"],
        "product_id": ["milk", "milk", "bread", "milk", "milk", "jam", "jam"],
        "quantity": [2.0, -1.0, 1.0, -1.0, 1.0, 1.0, 3.0],
        "order_ts": pd.to_datetime(
            [
                "2026-01-01 10:00",
                "2026-01-01 10:00",
                "2026-01-01 10:00",
                "2026-01-03 09:00",
                "2026-01-02 12:00",
                "2026-01-05 08:00",
                "2026-02-01 08:00",
            ],
            utc=True,
        ),
    }
)
EXPECTED = [("a", "bread", 1.0), ("a", "milk", 1.0), ("b", "jam", 1.0), ("b", "jam", 3.0)]


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["customer_id"], frame["item_id"], frame["quantity"], strict=True))


def test_net_quantity_per_order_no_anonymous_lines(warehouse):
    table = warehouse.create_table("order_lines", LINES)
    out = interactions_from_order_lines(table)
    # o1: milk 2 - 1 = 1; o2 (a return on its own) nets to nothing; o3 is anonymous
    assert _rows(out) == EXPECTED
    assert list(out.columns) == ["customer_id", "item_id", "ts", "quantity"]


def test_window_is_since_inclusive_as_of_exclusive(warehouse):
    table = warehouse.create_table("order_lines", LINES)
    out = interactions_from_order_lines(table, since="2026-01-05 08:00", as_of="2026-02-01 08:00")
    assert _rows(out) == [("b", "jam", 1.0)]


def test_missing_columns_are_named(warehouse):
    table = warehouse.create_table("order_lines", LINES.drop(columns="order_ts"))
    with pytest.raises(InputError, match=r"lack column.*order_ts"):
        interactions_from_order_lines(table)


def test_subset_codes_like_the_filtered_frame():
    frame = pd.DataFrame(
        {
            "customer_id": ["c", "a", "b", "a"],
            "item_id": ["z", "x", "y", "y"],
            "ts": pd.to_datetime(
                ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"], utc=True
            ),
        }
    )
    data = Interactions.from_frame(frame)
    mask = np.array([False, True, True, False])
    sub, direct = data.subset(mask), Interactions.from_frame(frame[mask])
    for name in ("customers", "items", "user", "item", "day"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(direct, name))
    assert sub.last_day == direct.last_day
    with pytest.raises(InputError, match="no interaction left"):
        data.subset(np.zeros(4, dtype=bool))


def test_ids_are_text_and_numbers_merge_with_their_text():
    frame = pd.DataFrame(
        {
            "customer_id": [1, "1", 2],
            "item_id": ["x", "x", "y"],
            "ts": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        }
    )
    data = Interactions.from_frame(frame)
    assert data.customers.tolist() == ["1", "2"]
    assert data.user.tolist() == [0, 0, 1]


@pytest.mark.postgres
def test_same_interactions_on_postgresql(postgres_url):
    from omnicrm.warehouse import connect

    con = connect(postgres_url)
    try:
        table = con.create_table("recommend_lines", LINES, temp=True, overwrite=True)
        assert _rows(interactions_from_order_lines(table)) == EXPECTED
        out = interactions_from_order_lines(
            table, since="2026-01-05 08:00", as_of="2026-02-01 08:00"
        )
        assert _rows(out) == [("b", "jam", 1.0)]
    finally:
        con.disconnect()
