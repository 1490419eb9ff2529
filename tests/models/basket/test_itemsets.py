"""frequent_itemsets: output shape, counting rules and bad input."""

from __future__ import annotations

import itertools
import math

import ibis
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.basket import frequent_itemsets, min_count_for
from omnicrm.models.basket.itemsets import _candidates


@pytest.fixture
def baskets() -> pd.DataFrame:
    rows = {1: "abc", 2: "abd", 3: "abc", 4: "ac", 5: "e"}
    return pd.DataFrame(
        [(b, item) for b, items in rows.items() for item in items],
        columns=["basket_id", "item_id"],
    )


def test_result_is_a_frame_of_sorted_itemsets_with_length_count_and_support(baskets) -> None:
    result = frequent_itemsets(baskets, min_support=0.4)
    assert list(result.columns) == ["itemset", "length", "count", "support"]
    assert result.to_dict("list") == {
        "itemset": [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")],
        "length": [1, 1, 1, 2, 2, 2, 3],
        "count": [4, 3, 3, 3, 3, 2, 2],
        "support": [0.8, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4],
    }
    assert result.attrs["n_baskets"] == 5


def test_max_len_limits_the_itemset_size(baskets) -> None:
    assert frequent_itemsets(baskets, min_support=0.4, max_len=1)["length"].max() == 1
    assert frequent_itemsets(baskets, min_support=0.4, max_len=2)["length"].max() == 2


def test_larger_max_len_stops_when_no_itemset_is_frequent(baskets) -> None:
    deep = frequent_itemsets(baskets, min_support=0.4, max_len=6)
    assert deep.equals(frequent_itemsets(baskets, min_support=0.4, max_len=3))


def test_four_item_sets_are_counted_when_asked() -> None:
    rows = pd.DataFrame({"basket_id": [1] * 4 + [2] * 4 + [3] * 2, "item_id": list("abcdabcdab")})
    result = frequent_itemsets(rows, min_support=0.6, max_len=4)
    assert result.loc[result["length"] == 4, "itemset"].tolist() == [("a", "b", "c", "d")]
    assert result.loc[result["length"] == 4, "count"].tolist() == [2]


def test_an_item_repeated_in_a_basket_counts_once() -> None:
    rows = pd.DataFrame({"basket_id": [1, 1, 1, 2], "item_id": ["x", "x", "y", "y"]})
    result = frequent_itemsets(rows, min_support=0.5)
    assert dict(zip(result["itemset"], result["count"], strict=True)) == {
        ("y",): 2,
        ("x",): 1,
        ("x", "y"): 1,
    }


def test_an_item_on_enough_rows_but_in_too_few_baskets_is_not_frequent() -> None:
    # x is on 2 rows (min_count is 2) but in 1 basket: it must not reach the pairs either
    rows = pd.DataFrame({"basket_id": [1, 1, 1, 2, 2, 3, 3], "item_id": list("xxyyzyz")})
    result = frequent_itemsets(rows, min_support=0.6)
    assert dict(zip(result["itemset"], result["count"], strict=True)) == {
        ("y",): 3,
        ("z",): 2,
        ("y", "z"): 2,
    }


@pytest.mark.parametrize(
    "frequent",
    [
        # one item starts many pairs: the join on the shared first item would be large
        [(0, j) for j in range(1, 9)] + [(j, j + 1) for j in range(1, 8)] + [(2, 5), (3, 7)],
        # one item ends many pairs: the join on the overlap would be large
        [(j, 9) for j in range(8)] + [(j, j + 1) for j in range(8)] + [(1, 4), (0, 2)],
        # triples, for 4-item candidates
        [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3), (0, 1, 4), (0, 2, 4), (1, 2, 4), (0, 3, 4)],
        [(0, 1, 2), (0, 1, 3), (0, 2, 3), (0, 2, 4), (2, 3, 4), (0, 3, 4), (1, 3, 4)],
    ],
)
def test_candidates_are_the_itemsets_whose_every_subset_is_frequent(frequent) -> None:
    k = len(frequent[0]) + 1
    items = range(1 + max(max(f) for f in frequent))
    expected = {
        c
        for c in itertools.combinations(items, k)
        if all(s in set(frequent) for s in itertools.combinations(c, k - 1))
    }
    frame = pd.DataFrame(frequent, columns=[f"i{j}" for j in range(1, k)])
    found = _candidates(frame, k)
    assert list(found.columns) == [f"i{j}" for j in range(1, k + 1)]
    assert len(found) == len(expected)  # each candidate generated once
    assert set(map(tuple, found.to_numpy().tolist())) == expected


def test_custom_column_names_and_integer_items() -> None:
    rows = pd.DataFrame({"order": ["o1", "o1", "o2"], "sku": [10, 2, 10]})
    result = frequent_itemsets(rows, min_support=0.5, basket_col="order", item_col="sku")
    assert result["itemset"].tolist() == [(10,), (2,), (2, 10)]


def test_a_warehouse_table_is_counted_where_it_lives(warehouse, baskets) -> None:
    table = warehouse.create_table("baskets", baskets)
    from_table = frequent_itemsets(table, min_support=0.4)
    assert from_table.equals(frequent_itemsets(baskets, min_support=0.4))


def test_min_support_is_compared_as_a_share_without_rounding_error() -> None:
    assert 0.07 * 100 > 7  # the float product overshoots, the share 7/100 does not
    assert min_count_for(0.07, 100) == 7
    assert min_count_for(1.0, 3) == 3
    assert min_count_for(1e-9, 10) == 1
    for n in (1, 3, 7, 100, 999):
        for share in (0.01, 0.1, 0.3, 1 / 3, 0.5, 0.99, 1.0):
            count = min_count_for(share, n)
            assert count / n >= share
            assert count == 1 or (count - 1) / n < share


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -0.1, 1.5, math.nan, "0.1", None, True])
def test_min_support_outside_zero_one_is_refused(baskets, value) -> None:
    with pytest.raises(InputError, match=r"min_support=.*(outside \(0, 1\]|not a number)"):
        frequent_itemsets(baskets, min_support=value)


@pytest.mark.parametrize("value", [0, -1, 2.5, "3"])
def test_max_len_below_one_is_refused(baskets, value) -> None:
    with pytest.raises(InputError, match=r"max_len=.* must be a whole number >= 1"):
        frequent_itemsets(baskets, min_support=0.5, max_len=value)


def test_empty_baskets_are_refused() -> None:
    empty = pd.DataFrame(
        {"basket_id": pd.Series([], dtype=str), "item_id": pd.Series([], dtype=str)}
    )
    with pytest.raises(InputError, match="baskets has no rows"):
        frequent_itemsets(empty, min_support=0.1)


def test_a_missing_column_names_the_argument_to_fix(baskets) -> None:
    with pytest.raises(InputError, match=r"no column 'product_id'.*item_col="):
        frequent_itemsets(baskets, min_support=0.5, item_col="product_id")
    with pytest.raises(InputError, match=r"no column 'order_id'.*basket_col="):
        frequent_itemsets(baskets, min_support=0.5, basket_col="order_id")


def test_empty_ids_are_refused_not_dropped() -> None:
    rows = pd.DataFrame({"basket_id": [1, 1, 2], "item_id": ["a", None, "a"]})
    with pytest.raises(InputError, match=r"column 'item_id' is empty on 1 of 3 rows"):
        frequent_itemsets(rows, min_support=0.5)


def test_something_other_than_a_table_is_refused() -> None:
    with pytest.raises(InputError, match="baskets is a list: pass an Ibis table"):
        frequent_itemsets([("b1", "milk")], min_support=0.5)


def test_an_ibis_memtable_is_accepted() -> None:
    rows = ibis.memtable({"basket_id": [1, 2], "item_id": ["a", "a"]})
    assert frequent_itemsets(rows, min_support=1.0)["itemset"].tolist() == [("a",)]
