"""``BasketRules``: the basket functions as a scikit-learn-shaped estimator that saves to JSON.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.basket import BasketRules
>>> baskets = pd.DataFrame({
...     "basket_id": [1, 1, 2, 2, 3, 3, 4],
...     "item_id": ["tea", "milk", "tea", "milk", "tea", "lemon", "bread"],
... })
>>> model = BasketRules(min_support=0.25).fit(baskets)
>>> model.n_baskets_
4
>>> model.recommend(["tea"], k=1)[["item", "reason"]]
   item                       reason
0  milk  often bought with tea (67%)
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis
import pandas as pd

from omnicrm.models.base import JSONModel, check_is_fitted
from omnicrm.models.basket.cart import bought_together, bundle_candidates, complete_cart
from omnicrm.models.basket.checks import check_fraction, check_non_negative
from omnicrm.models.basket.itemsets import ITEMSET_COLUMNS, frequent_itemsets
from omnicrm.models.basket.rules import association_rules


class BasketRules(JSONModel):
    """Frequent itemsets and association rules learned from baskets.

    Parameters
    ----------
    min_support : float
        Minimum share of baskets for an itemset, in (0, 1].
    min_confidence, min_lift : float
        Thresholds applied to :attr:`rules_`.
    max_len : int
        Largest itemset size.
    basket_col, item_col : str
        Column names in the baskets given to :meth:`fit`.

    Attributes
    ----------
    n_baskets_ : int
        Number of baskets seen by :meth:`fit`.
    itemset_counts_ : list of [list, int]
        Each frequent itemset (items in ascending order) with its basket count; the learned
        state, saved as is by :meth:`save`.
    itemsets_ : pandas.DataFrame
        The same as a frame (see :func:`~omnicrm.models.basket.frequent_itemsets`).
    rules_ : pandas.DataFrame
        The rules (see :func:`~omnicrm.models.basket.association_rules`).
    """

    _fitted_attributes: ClassVar[tuple[str, ...]] = ("n_baskets_", "itemset_counts_")

    def __init__(
        self,
        min_support: float = 0.01,
        min_confidence: float = 0.0,
        min_lift: float = 0.0,
        max_len: int = 3,
        basket_col: str = "basket_id",
        item_col: str = "item_id",
    ) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.max_len = max_len
        self.basket_col = basket_col
        self.item_col = item_col

    def fit(self, baskets: ibis.Table | pd.DataFrame) -> BasketRules:
        """Count the frequent itemsets of ``baskets`` (in the warehouse for an Ibis table).

        Returns
        -------
        BasketRules
            ``self``, fitted.
        """
        check_fraction("min_confidence", self.min_confidence, allow_zero=True)
        check_non_negative("min_lift", self.min_lift)
        itemsets = frequent_itemsets(
            baskets,
            min_support=self.min_support,
            max_len=self.max_len,
            basket_col=self.basket_col,
            item_col=self.item_col,
        )
        self.n_baskets_ = int(itemsets.attrs["n_baskets"])
        self.itemset_counts_ = [
            [list(items), int(count)]
            for items, count in zip(itemsets["itemset"], itemsets["count"], strict=True)
        ]
        self._cache: dict[str, Any] = {}
        return self

    @property
    def itemsets_(self) -> pd.DataFrame:
        """Frequent itemsets with ``itemset``, ``length``, ``count`` and ``support``."""
        check_is_fitted(self)
        cache = self.__dict__.setdefault("_cache", {})
        if "itemsets" not in cache:
            sets = [tuple(items) for items, _ in self.itemset_counts_]
            counts = [count for _, count in self.itemset_counts_]
            frame = pd.DataFrame(
                {
                    "itemset": pd.Series(sets, dtype=object),
                    "length": pd.Series([len(s) for s in sets], dtype="int64"),
                    "count": pd.Series(counts, dtype="int64"),
                }
            )
            frame["support"] = frame["count"] / float(self.n_baskets_)
            frame.attrs["n_baskets"] = self.n_baskets_
            cache["itemsets"] = frame[list(ITEMSET_COLUMNS)]
        return cache["itemsets"]

    @property
    def rules_(self) -> pd.DataFrame:
        """Association rules meeting ``min_confidence`` and ``min_lift``."""
        itemsets = self.itemsets_
        cache = self._cache
        key = (self.min_confidence, self.min_lift)
        if cache.get("rules_key") != key:
            cache["rules"] = association_rules(
                itemsets, min_confidence=self.min_confidence, min_lift=self.min_lift
            )
            cache["rules_key"] = key
        return cache["rules"]

    def recommend(self, basket_items, k: int = 5, **options: Any) -> pd.DataFrame:
        """Cart completion: see :func:`~omnicrm.models.basket.complete_cart`."""
        return complete_cart(self.rules_, basket_items, k, **options)

    def bought_together(self, item: object, k: int = 10, **options: Any) -> pd.DataFrame:
        """Items bought with ``item``: see :func:`~omnicrm.models.basket.bought_together`."""
        return bought_together(self.rules_, item, k=k, **options)

    def bundles(self, **options: Any) -> pd.DataFrame:
        """Bundle candidates: see :func:`~omnicrm.models.basket.bundle_candidates`."""
        return bundle_candidates(self.itemsets_, **options)
