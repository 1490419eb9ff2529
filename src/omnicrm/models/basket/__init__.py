"""Market-basket analysis: frequent itemsets, association rules and their uses."""

from omnicrm.models.basket.cart import bought_together, bundle_candidates, complete_cart
from omnicrm.models.basket.estimator import BasketRules
from omnicrm.models.basket.itemsets import frequent_itemsets, min_count_for
from omnicrm.models.basket.orders import (
    BASKET_KINDS,
    LEVELS,
    basket_rules_by_level,
    baskets_by_level,
    baskets_from_order_lines,
)
from omnicrm.models.basket.rules import association_rules

__all__ = [
    "BASKET_KINDS",
    "LEVELS",
    "BasketRules",
    "association_rules",
    "basket_rules_by_level",
    "baskets_by_level",
    "baskets_from_order_lines",
    "bought_together",
    "bundle_candidates",
    "complete_cart",
    "frequent_itemsets",
    "min_count_for",
]
