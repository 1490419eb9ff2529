"""Using the rules: bought together, cart completion and bundles with exact prices."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.basket import (
    association_rules,
    bought_together,
    bundle_candidates,
    complete_cart,
    frequent_itemsets,
)


def _rules(*rows) -> pd.DataFrame:
    """Rules given as (antecedent, consequent, support, confidence, lift)."""
    return pd.DataFrame(rows, columns=["antecedent", "consequent", "support", "confidence", "lift"])


RULES = _rules(
    (("pasta",), ("sauce",), 0.20, 0.60, 2.0),
    (("pasta",), ("parmesan",), 0.10, 0.30, 3.0),
    (("pasta",), ("wine",), 0.02, 0.06, 4.0),
    (("pasta", "sauce"), ("parmesan",), 0.08, 0.70, 2.5),
    (("sauce",), ("basil",), 0.05, 0.70, 1.8),
    (("wine",), ("cheese",), 0.05, 0.90, 5.0),
    (("pasta",), ("sauce", "parmesan"), 0.08, 0.25, 3.1),  # multi-item consequent: not a pick
)


# --- bought together --------------------------------------------------------------------------


def test_bought_together_ranks_by_lift_by_default() -> None:
    picks = bought_together(RULES, "pasta")
    assert picks["item"].tolist() == ["wine", "parmesan", "sauce"]
    assert picks.loc[0, "reason"] == "often bought with pasta (6%)"


def test_bought_together_by_confidence_and_with_a_minimum_support() -> None:
    picks = bought_together(RULES, "pasta", by="confidence", min_support=0.05)
    assert picks["item"].tolist() == ["sauce", "parmesan"]


def test_bought_together_top_k_and_unknown_item() -> None:
    assert bought_together(RULES, "pasta", k=1)["item"].tolist() == ["wine"]
    assert bought_together(RULES, "caviar").empty


# --- cart completion --------------------------------------------------------------------------


def test_cart_completion_uses_the_most_confident_matching_rule() -> None:
    picks = complete_cart(RULES, ["pasta", "sauce"])
    assert picks["item"].tolist() == ["parmesan", "basil", "wine"]
    parmesan = picks.set_index("item").loc["parmesan"]
    # pasta+sauce -> parmesan (0.70) beats pasta -> parmesan (0.30)
    assert parmesan["antecedent"] == ("pasta", "sauce")
    assert parmesan["confidence"] == 0.70
    assert parmesan["reason"] == "often bought with pasta and sauce (70%)"


def test_ties_on_confidence_are_broken_by_lift() -> None:
    picks = complete_cart(RULES, ["pasta", "sauce"]).head(2)
    # parmesan and basil both at confidence 0.70: parmesan's rule has lift 2.5, basil's 1.8
    assert picks["confidence"].tolist() == [0.70, 0.70]
    assert picks["item"].tolist() == ["parmesan", "basil"]


def test_items_already_in_the_cart_are_never_suggested() -> None:
    picks = complete_cart(RULES, ["pasta", "sauce", "parmesan"])
    assert not set(picks["item"]) & {"pasta", "sauce", "parmesan"}


def test_a_rule_applies_only_when_its_whole_antecedent_is_in_the_cart() -> None:
    picks = complete_cart(RULES, ["sauce"])
    assert picks["item"].tolist() == ["basil"]  # pasta+sauce -> parmesan needs pasta too


def test_cart_completion_limits_and_filters() -> None:
    assert complete_cart(RULES, ["pasta", "sauce"], k=1)["item"].tolist() == ["parmesan"]
    assert "wine" not in complete_cart(RULES, ["pasta"], min_support=0.05)["item"].tolist()
    assert complete_cart(RULES, ["pasta"], by="lift")["item"].tolist()[0] == "wine"


def test_an_empty_cart_or_no_rule_gives_no_suggestion() -> None:
    assert complete_cart(RULES, []).empty
    assert complete_cart(RULES, ["caviar"]).empty
    assert list(complete_cart(RULES, []).columns) == [
        "item",
        "antecedent",
        "support",
        "confidence",
        "lift",
        "reason",
    ]


def test_cart_completion_on_mined_rules() -> None:
    baskets = pd.DataFrame(
        {
            "basket_id": [1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
            "item_id": [
                "tea",
                "milk",
                "sugar",
                "tea",
                "milk",
                "tea",
                "lemon",
                "milk",
                "bread",
                "tea",
            ],
        }
    )
    rules = association_rules(frequent_itemsets(baskets, min_support=0.2))
    picks = complete_cart(rules, {"tea"}, k=2)
    assert picks["item"].tolist() == ["milk", "lemon"]
    assert picks.loc[0, "confidence"] == pytest.approx(0.5)  # tea in 4 baskets, with milk in 2


def test_a_single_string_is_not_a_cart() -> None:
    with pytest.raises(InputError, match=r"basket_items='pasta' is not a collection.*\['milk'\]"):
        complete_cart(RULES, "pasta")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, r"k=0 must be a whole number >= 1"),
        ({"by": "price"}, r"by='price' is not a"),
        ({"min_support": 2}, r"min_support=2 is outside \[0, 1\]"),
    ],
)
def test_bad_cart_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        complete_cart(RULES, ["pasta"], **kwargs)


def test_rules_without_the_needed_columns_are_refused() -> None:
    with pytest.raises(InputError, match=r"rules lacks column\(s\) 'lift'.*association_rules"):
        bought_together(RULES.drop(columns="lift"), "pasta")


# --- bundles ----------------------------------------------------------------------------------

ITEMSETS = pd.DataFrame(
    {
        "itemset": [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")],
        "support": [0.2, 0.25, 0.5, 0.1, 0.05, 0.125, 0.05],
    }
)


def test_bundle_lift_compares_with_independent_purchases() -> None:
    bundles = bundle_candidates(ITEMSETS, min_lift=0.0)
    lift = dict(zip(bundles["itemset"], bundles["lift"], strict=True))
    assert lift[("a", "b")] == pytest.approx(0.1 / (0.2 * 0.25))  # 2.0
    assert lift[("a", "b", "c")] == pytest.approx(0.05 / (0.2 * 0.25 * 0.5))  # 2.0
    assert lift[("a", "c")] == pytest.approx(0.5)


def test_bundles_are_filtered_by_lift_size_and_support_and_ranked() -> None:
    bundles = bundle_candidates(ITEMSETS)  # min_lift 1
    assert bundles["itemset"].tolist() == [("a", "b"), ("a", "b", "c"), ("b", "c")]
    assert bundle_candidates(ITEMSETS, sizes=[3])["itemset"].tolist() == [("a", "b", "c")]
    assert bundle_candidates(ITEMSETS, min_support=0.1)["itemset"].tolist() == [
        ("a", "b"),
        ("b", "c"),
    ]
    assert len(bundle_candidates(ITEMSETS, k=1)) == 1


def test_bundle_prices_are_exact_and_rounded_half_up_to_the_cent() -> None:
    prices = {"a": Decimal("2.99"), "b": Decimal("1.50"), "c": Decimal("0.35")}
    bundles = bundle_candidates(ITEMSETS, prices=prices).set_index("itemset")
    ab = bundles.loc[[("a", "b")]].iloc[0]
    assert ab["list_price"] == Decimal("4.49")
    assert ab["suggested_price"] == Decimal("4.04")  # 4.041 -> 4.04
    assert ab["saving"] == Decimal("0.45")
    abc = bundles.loc[[("a", "b", "c")]].iloc[0]
    assert abc["list_price"] == Decimal("4.84")
    assert abc["suggested_price"] == Decimal("4.36")  # 4.356 -> 4.36
    bc = bundles.loc[[("b", "c")]].iloc[0]
    assert bc["suggested_price"] == Decimal("1.67")  # 1.665 -> 1.67: half-up, not banker's


def test_a_bundle_with_an_unpriced_item_gets_no_price() -> None:
    bundles = bundle_candidates(ITEMSETS, prices=pd.Series({"a": Decimal("1.00"), "b": 2}))
    priced = dict(zip(bundles["itemset"], bundles["suggested_price"], strict=True))
    assert priced[("a", "b")] == Decimal("2.70")
    assert priced[("b", "c")] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prices": {"a": 2.99}}, r"price of 'a' is the float 2.99: money must be exact"),
        ({"prices": {"a": Decimal("-1")}}, r"price of 'a' is Decimal\('-1'\)"),
        ({"prices": [1, 2]}, r"prices is a list"),
        ({"discount": 0.1}, r"discount=0.1 is a float"),
        ({"discount": Decimal("1")}, r"discount=Decimal\('1'\) must be a share in \[0, 1\)"),
        ({"sizes": [1, 2]}, r"sizes=\[1, 2\] must list bundle sizes >= 2"),
        ({"min_lift": -2}, r"min_lift=-2 is negative"),
    ],
)
def test_bad_bundle_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        bundle_candidates(ITEMSETS, **kwargs)


def test_bundles_need_the_singletons() -> None:
    pairs_only = ITEMSETS[ITEMSETS["itemset"].map(len) > 1]
    with pytest.raises(InputError, match=r"lacks the single item 'a'.*independence baseline"):
        bundle_candidates(pairs_only)
