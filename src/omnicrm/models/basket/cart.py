"""Using the rules: bought together, cart completion and bundle candidates.

All three read the pandas frames of :func:`~omnicrm.models.basket.association_rules` and
:func:`~omnicrm.models.basket.frequent_itemsets`; they are cheap table operations meant to run
per request (cart) or per campaign (bundles).

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.basket import association_rules, complete_cart, frequent_itemsets
>>> baskets = pd.DataFrame({
...     "basket_id": [1, 1, 1, 2, 2, 3, 3, 4],
...     "item_id": ["pasta", "sauce", "cheese", "pasta", "sauce", "pasta", "cheese", "wine"],
... })
>>> rules = association_rules(frequent_itemsets(baskets, min_support=0.25))
>>> complete_cart(rules, ["pasta"], k=2)[["item", "confidence", "reason"]]
     item  confidence                         reason
0  cheese    0.666667  often bought with pasta (67%)
1   sauce    0.666667  often bought with pasta (67%)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.basket.checks import (
    check_fraction,
    check_frame_columns,
    check_non_negative,
    check_positive_int,
)
from omnicrm.schema.types import MONEY_SCALE

#: Ranking keys for recommendations: the first is the main criterion, the rest break ties.
RANKINGS = {
    "confidence": ["confidence", "lift", "support"],
    "lift": ["lift", "confidence", "support"],
}

SUGGESTION_COLUMNS = ("item", "antecedent", "support", "confidence", "lift", "reason")
_CENT = Decimal(1).scaleb(-MONEY_SCALE)


def bought_together(
    rules: pd.DataFrame,
    item: object,
    *,
    k: int = 10,
    min_support: float = 0.0,
    by: str = "lift",
) -> pd.DataFrame:
    """ "Frequently bought together": the top-k items that follow ``item`` in the rules.

    Uses the rules ``(item,) -> (other,)``. Ranked by ``by`` (``"lift"`` or ``"confidence"``),
    ties broken by the other one, then support, then the item.

    Parameters
    ----------
    rules : pandas.DataFrame
        Output of :func:`~omnicrm.models.basket.association_rules`.
    item : object
        The product (or category) shown.
    k : int
        Number of suggestions (>= 1).
    min_support : float
        Ignore pairs bought together in fewer than this share of baskets ([0, 1]).
    by : {"lift", "confidence"}
        Main ranking criterion.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``antecedent``, ``support``, ``confidence``, ``lift`` and ``reason``; empty
        when ``item`` has no rule.

    Examples
    --------
    >>> import pandas as pd
    >>> rules = pd.DataFrame({
    ...     "antecedent": [("tea",), ("tea",), ("milk",)],
    ...     "consequent": [("lemon",), ("milk",), ("tea",)],
    ...     "support": [0.1, 0.3, 0.3], "confidence": [0.2, 0.6, 0.5], "lift": [2.5, 1.2, 1.2],
    ... })
    >>> bought_together(rules, "tea")["item"].tolist()
    ['lemon', 'milk']
    """
    _check_rules(rules)
    k = check_positive_int("k", k)
    min_support = check_fraction("min_support", min_support, allow_zero=True)
    order = _ranking(by)
    single = _single_consequent(rules)
    mask = (single["antecedent"].map(len) == 1).to_numpy()
    mask &= (single["antecedent"].str[0] == item).to_numpy()
    mask &= (single["support"] >= min_support).to_numpy()
    chosen = single[mask]
    return _top(chosen, order, k)


def complete_cart(
    rules: pd.DataFrame,
    basket_items: Iterable[object],
    k: int = 5,
    *,
    min_support: float = 0.0,
    by: str = "confidence",
) -> pd.DataFrame:
    """Items the customer may have forgotten, ranked, each with the rule that explains it.

    Every rule whose antecedent is inside the cart and whose single consequent is not votes for
    its consequent; an item's score is its best rule by ``by`` (default: the highest
    confidence, ties by lift, then support). That rule is returned as the explanation
    ("often bought with X").

    Parameters
    ----------
    rules : pandas.DataFrame
        Output of :func:`~omnicrm.models.basket.association_rules`.
    basket_items : iterable
        Items already in the cart (a list, set or Series; not a single string).
    k : int
        Number of suggestions (>= 1).
    min_support : float
        Ignore rules with a support below this share of baskets ([0, 1]).
    by : {"confidence", "lift"}
        Main ranking criterion.

    Returns
    -------
    pandas.DataFrame
        Up to ``k`` rows: ``item``, ``antecedent`` (the items of the cart that explain it),
        ``support``, ``confidence``, ``lift`` and ``reason``. Empty when no rule applies.

    Examples
    --------
    >>> import pandas as pd
    >>> rules = pd.DataFrame({
    ...     "antecedent": [("chips",), ("chips", "salsa"), ("beer",)],
    ...     "consequent": [("salsa",), ("beer",), ("chips",)],
    ...     "support": [0.2, 0.1, 0.2], "confidence": [0.5, 0.8, 0.4], "lift": [2.0, 3.0, 1.5],
    ... })
    >>> complete_cart(rules, {"chips", "salsa"})[["item", "antecedent", "reason"]]
       item      antecedent                                   reason
    0  beer  (chips, salsa)  often bought with chips and salsa (80%)
    """
    _check_rules(rules)
    if isinstance(basket_items, (str, bytes)) or not isinstance(basket_items, Iterable):
        raise InputError(
            f"basket_items={basket_items!r} is not a collection of items: pass a list, "
            "e.g. basket_items=['milk'] rather than 'milk'"
        )
    k = check_positive_int("k", k)
    min_support = check_fraction("min_support", min_support, allow_zero=True)
    order = _ranking(by)
    in_cart = pd.Index(pd.unique(pd.Series(list(basket_items), dtype=object)))
    single = _single_consequent(rules)
    single = single[(single["support"] >= min_support).to_numpy()]
    if single.empty or in_cart.empty:
        return _top(single.iloc[:0], order, k)
    # antecedent inside the cart: every exploded antecedent item is in the cart
    exploded = single["antecedent"].explode()
    inside = exploded.isin(in_cart).groupby(level=0).all()
    applies = inside.reindex(single.index, fill_value=False).to_numpy()
    applies &= ~single["item"].isin(in_cart).to_numpy()
    candidates = single[applies]
    sort_keys = [*order, "antecedent"]
    best = candidates.sort_values(
        sort_keys, ascending=[False] * len(order) + [True], kind="stable"
    ).drop_duplicates("item", keep="first")
    return _top(best, order, k)


def bundle_candidates(
    itemsets: pd.DataFrame,
    *,
    min_support: float = 0.0,
    min_lift: float = 1.0,
    sizes: Iterable[int] = (2, 3),
    prices: Mapping[object, Decimal] | pd.Series | None = None,
    discount: Decimal | str = Decimal("0.10"),
    k: int | None = None,
) -> pd.DataFrame:
    """Pairs and triples bought together far more often than chance: promotion bundles.

    The lift of a bundle S is ``s(S) / Π s({i})`` for i in S — how many times more often its
    items are bought together than if they were bought independently (for a pair this is the
    rule lift). Bundles are ranked by lift, then support.

    Parameters
    ----------
    itemsets : pandas.DataFrame
        Output of :func:`~omnicrm.models.basket.frequent_itemsets` (with its singletons).
    min_support : float
        Minimum share of baskets holding the whole bundle ([0, 1]).
    min_lift : float
        Minimum bundle lift (>= 0; default 1, i.e. more often than chance).
    sizes : iterable of int
        Bundle sizes to consider (each >= 2).
    prices : mapping or pandas.Series, optional
        Unit price of each item as :class:`~decimal.Decimal` (or int / numeric string); floats
        are refused because money is exact. Adds ``list_price`` (sum of prices),
        ``suggested_price`` (list price less ``discount``, rounded half-up to the cent) and
        ``saving``; ``None`` for a bundle with an item without a price.
    discount : Decimal or str
        Share taken off the list price for the suggested bundle price, in [0, 1).
    k : int, optional
        Keep the best ``k`` bundles only.

    Returns
    -------
    pandas.DataFrame
        ``itemset``, ``length``, ``support``, ``lift`` (+ the price columns).

    Examples
    --------
    >>> import pandas as pd
    >>> from decimal import Decimal
    >>> itemsets = pd.DataFrame({
    ...     "itemset": [("a",), ("b",), ("a", "b")], "support": [0.2, 0.25, 0.1],
    ... })
    >>> prices = {"a": Decimal("2.99"), "b": Decimal("1.50")}
    >>> bundle_candidates(itemsets, prices=prices)[["itemset", "lift", "suggested_price"]]
      itemset  lift suggested_price
    0  (a, b)   2.0            4.04
    """
    check_frame_columns(
        itemsets, ["itemset", "support"], name="itemsets", made_by="frequent_itemsets()"
    )
    min_support = check_fraction("min_support", min_support, allow_zero=True)
    min_lift = check_non_negative("min_lift", min_lift)
    sizes = _check_sizes(sizes)
    discount = _check_discount(discount)
    if k is not None:
        k = check_positive_int("k", k)

    keys = itemsets["itemset"].map(lambda items: tuple(sorted(items)))
    lengths = keys.map(len).to_numpy()
    single_support = pd.Series(
        itemsets["support"].to_numpy()[lengths == 1],
        index=[key[0] for key in keys[lengths == 1]],
        dtype="float64",
    )
    chosen = np.isin(lengths, sizes) & (itemsets["support"] >= min_support).to_numpy()
    bundles = pd.DataFrame(
        {
            "itemset": keys[chosen].to_numpy(),
            "length": lengths[chosen].astype("int64"),
            "support": itemsets["support"].to_numpy(dtype="float64")[chosen],
        }
    )
    exploded = bundles["itemset"].explode()
    item_support = single_support.reindex(exploded.to_numpy()).to_numpy()
    if np.isnan(item_support).any():
        missing = exploded.iloc[int(np.flatnonzero(np.isnan(item_support))[0])]
        raise InputError(
            f"itemsets lacks the single item {missing!r}: pass the complete result of "
            "frequent_itemsets() (its singletons give the independence baseline of the lift)"
        )
    product = pd.Series(item_support, index=exploded.index).groupby(level=0).prod()
    bundles["lift"] = bundles["support"].to_numpy() / product.reindex(bundles.index).to_numpy()
    bundles = bundles[(bundles["lift"] >= min_lift).to_numpy()]
    bundles = bundles.sort_values(
        ["lift", "support", "itemset"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    if k is not None:
        bundles = bundles.head(k)
    if prices is not None:
        bundles = _with_prices(bundles, prices, discount)
    return bundles


def _with_prices(
    bundles: pd.DataFrame, prices: Mapping[object, Decimal] | pd.Series, discount: Decimal
) -> pd.DataFrame:
    table = dict(prices.items()) if isinstance(prices, (Mapping, pd.Series)) else None
    if table is None:
        raise InputError(
            f"prices is a {type(prices).__name__}: pass a mapping item -> Decimal price or a "
            "pandas Series indexed by item"
        )
    exact = {item: _money(item, value) for item, value in table.items()}
    keep = Decimal(1) - discount
    list_prices, suggested, savings = [], [], []
    for items in bundles["itemset"]:  # one Decimal sum per bundle; bundles are few
        parts = [exact.get(item) for item in items]
        if any(part is None for part in parts):
            list_prices.append(None)
            suggested.append(None)
            savings.append(None)
            continue
        total = sum(parts, Decimal(0))
        offer = (total * keep).quantize(_CENT, rounding=ROUND_HALF_UP)
        list_prices.append(total)
        suggested.append(offer)
        savings.append(total - offer)
    bundles = bundles.copy()
    bundles["list_price"] = pd.Series(list_prices, index=bundles.index, dtype=object)
    bundles["suggested_price"] = pd.Series(suggested, index=bundles.index, dtype=object)
    bundles["saving"] = pd.Series(savings, index=bundles.index, dtype=object)
    return bundles


def _money(item: object, value: object) -> Decimal | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)):
        raise InputError(
            f"price of {item!r} is the float {value!r}: money must be exact, pass "
            f"Decimal('{value}') (or read prices as DECIMAL from the warehouse)"
        )
    try:
        price = Decimal(value) if isinstance(value, (str, int, Decimal)) else None
    except ArithmeticError:
        price = None
    if price is None or not price.is_finite() or price < 0:
        raise InputError(
            f"price of {item!r} is {value!r}: pass a price >= 0 as Decimal, e.g. Decimal('1.99')"
        )
    return price


def _check_discount(discount: object) -> Decimal:
    if isinstance(discount, float):
        raise InputError(
            f"discount={discount!r} is a float: pass an exact share, e.g. Decimal('0.10') or '0.10'"
        )
    try:
        value = Decimal(discount) if isinstance(discount, (str, int, Decimal)) else None
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value < Decimal(1):
        raise InputError(
            f"discount={discount!r} must be a share in [0, 1), e.g. Decimal('0.10') for 10% off"
        )
    return value


def _check_sizes(sizes: Iterable[int]) -> list[int]:
    values = list(sizes) if isinstance(sizes, Iterable) else [sizes]
    if not values or any(isinstance(s, bool) or not isinstance(s, int) or s < 2 for s in values):
        raise InputError(
            f"sizes={sizes!r} must list bundle sizes >= 2, e.g. sizes=(2, 3) for pairs and triples"
        )
    return values


def _check_rules(rules: object) -> None:
    check_frame_columns(
        rules,
        ["antecedent", "consequent", "support", "confidence", "lift"],
        name="rules",
        made_by="association_rules()",
    )


def _ranking(by: str) -> list[str]:
    if by not in RANKINGS:
        raise InputError(f"by={by!r} is not a ranking: use one of {tuple(RANKINGS)}")
    return RANKINGS[by]


def _single_consequent(rules: pd.DataFrame) -> pd.DataFrame:
    one = (rules["consequent"].map(len) == 1).to_numpy()
    single = rules[one].copy()
    single["item"] = single["consequent"].str[0]
    return single


def _top(rules: pd.DataFrame, order: list[str], k: int) -> pd.DataFrame:
    ranked = rules.sort_values(
        [*order, "item"], ascending=[False] * len(order) + [True], kind="stable"
    ).head(k)
    pairs = zip(ranked["antecedent"], ranked["confidence"], strict=True)
    reasons = [_reason(antecedent, confidence) for antecedent, confidence in pairs]
    ranked = ranked.assign(reason=pd.Series(reasons, index=ranked.index, dtype=object))
    return ranked.reset_index(drop=True)[list(SUGGESTION_COLUMNS)]


def _reason(antecedent: tuple, confidence: float) -> str:
    names = [str(item) for item in antecedent]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"often bought with {joined} ({confidence:.0%})"
