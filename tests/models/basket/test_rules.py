"""association_rules: hand-computed metrics, thresholds and bad input."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.basket import association_rules, frequent_itemsets


@pytest.fixture
def groceries() -> pd.DataFrame:
    """5 baskets: milk 3, bread 4, butter 3, bread+milk 3, butter+milk 2, bread+butter 3,
    all three 2 (min_support 0.4 drops jam and beer)."""
    baskets = [
        ["milk", "bread", "butter"],
        ["milk", "bread"],
        ["bread", "butter", "jam"],
        ["milk", "bread", "butter"],
        ["beer"],
    ]
    rows = pd.DataFrame(
        [(b, item) for b, items in enumerate(baskets) for item in items],
        columns=["basket_id", "item_id"],
    )
    return frequent_itemsets(rows, min_support=0.4)


def _rule(rules: pd.DataFrame, antecedent: tuple, consequent: tuple) -> pd.Series:
    match = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(match) == 1
    return match.iloc[0]


def test_every_split_of_every_itemset_is_a_rule(groceries) -> None:
    rules = association_rules(groceries)
    # 3 pairs x 2 directions + 1 triple x 6 splits
    assert len(rules) == 12
    assert all(
        set(a).isdisjoint(c) for a, c in zip(rules["antecedent"], rules["consequent"], strict=True)
    )


@pytest.mark.parametrize(
    ("antecedent", "consequent", "expected"),
    [
        # s(A), s(C), s(AC), confidence, lift, leverage, conviction
        (("milk",), ("bread",), (0.6, 0.8, 0.6, 1.0, 1.25, 0.12, math.inf)),
        (("bread",), ("milk",), (0.8, 0.6, 0.6, 0.75, 1.25, 0.12, 1.6)),
        (("butter", "milk"), ("bread",), (0.4, 0.8, 0.4, 1.0, 1.25, 0.08, math.inf)),
        (("bread",), ("butter", "milk"), (0.8, 0.4, 0.4, 0.5, 1.25, 0.08, 1.2)),
        (("milk",), ("butter",), (0.6, 0.6, 0.4, 2 / 3, 10 / 9, 0.04, 1.2)),
    ],
)
def test_metrics_match_hand_computed_values(groceries, antecedent, consequent, expected) -> None:
    rule = _rule(association_rules(groceries), antecedent, consequent)
    names = [
        "antecedent_support",
        "consequent_support",
        "support",
        "confidence",
        "lift",
        "leverage",
        "conviction",
    ]
    assert [rule[n] for n in names] == pytest.approx(list(expected), rel=1e-12)


def test_thresholds_keep_only_strong_rules(groceries) -> None:
    confident = association_rules(groceries, min_confidence=1.0)
    assert set(confident["confidence"]) == {1.0}
    # milk -> bread, butter -> bread, {butter, milk} -> bread
    assert len(confident) == 3
    lifted = association_rules(groceries, min_lift=1.2)
    assert (lifted["lift"] >= 1.2).all()
    # 1.25 for bread-milk, bread-butter (both ways), {butter,milk} -> bread and its mirror;
    # the other six have lift 10/9
    assert len(lifted) == 6


def test_rules_are_ranked_by_confidence_then_lift(groceries) -> None:
    rules = association_rules(groceries)
    keys = list(zip(-rules["confidence"], -rules["lift"], -rules["support"], strict=True))
    assert keys == sorted(keys)


def test_rules_with_equal_metrics_are_ordered_by_antecedent_then_consequent() -> None:
    # every itemset in every basket: all rules have confidence 1, lift 1 and support 1
    itemsets = pd.DataFrame(
        {
            "itemset": [
                ("a",),
                ("b",),
                ("c",),
                ("a", "b"),
                ("a", "c"),
                ("b", "c"),
                ("a", "b", "c"),
            ],
            "support": 1.0,
        }
    )
    rules = association_rules(itemsets)
    pairs = list(zip(rules["antecedent"], rules["consequent"], strict=True))
    assert len(pairs) == 12
    assert pairs == sorted(pairs)
    assert pairs[:3] == [(("a",), ("b",)), (("a",), ("b", "c")), (("a",), ("c",))]


def test_no_rules_without_multi_item_sets() -> None:
    singles = pd.DataFrame({"itemset": [("a",), ("b",)], "support": [0.5, 0.5]})
    rules = association_rules(singles)
    assert rules.empty
    assert "conviction" in rules.columns


def test_itemsets_in_any_order_or_as_lists_are_accepted() -> None:
    itemsets = pd.DataFrame({"itemset": [["b", "a"], ["a"], ["b"]], "support": [0.2, 0.4, 0.5]})
    rule = _rule(association_rules(itemsets), ("a",), ("b",))
    assert rule["confidence"] == pytest.approx(0.5)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(InputError, match=r"itemsets lacks column\(s\) 'support'"):
        association_rules(pd.DataFrame({"itemset": [("a",)]}))
    with pytest.raises(InputError, match="itemsets is a list: pass the pandas DataFrame"):
        association_rules([("a",)])


def test_a_missing_subset_is_refused() -> None:
    itemsets = pd.DataFrame({"itemset": [("a",), ("a", "b")], "support": [0.5, 0.4]})
    with pytest.raises(InputError, match=r"lacks the \w+ \(.b.,\).*do not filter"):
        association_rules(itemsets)


def test_repeated_itemsets_are_refused() -> None:
    itemsets = pd.DataFrame({"itemset": [("a",), ("a",)], "support": [0.5, 0.5]})
    with pytest.raises(InputError, match=r"itemset \('a',\) more than once"):
        association_rules(itemsets)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_confidence": 1.5}, r"min_confidence=1.5 is outside \[0, 1\]"),
        ({"min_confidence": -0.1}, r"min_confidence=-0.1 is outside"),
        ({"min_lift": -1}, r"min_lift=-1 is negative"),
        ({"min_lift": "high"}, r"min_lift='high' is not a number"),
    ],
)
def test_thresholds_out_of_range_are_refused(groceries, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        association_rules(groceries, **kwargs)
