"""Baskets from the warehouse's ``order_lines``, at product or category level, and their rules.

A basket is one order (``per="order"``) or everything one customer bought on one UTC day
(``per="customer_day"``; anonymous orders stay one basket each). Returns are excluded by
netting quantities: an item is in a basket when its quantity in that basket adds up to more than
zero, so a line bought and cancelled in the same order does not count, and a return booked as its
own order (negative quantities only) yields no basket.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.basket import baskets_from_order_lines
>>> lines = pd.DataFrame({
...     "order_id": ["o1", "o1", "o1", "o2"],
...     "product_id": ["milk", "bread", "milk", "milk"],
...     "quantity": [1, 2, -1, -1],
... })
>>> baskets_from_order_lines(lines).execute()
  basket_id item_id
0        o1   bread
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.basket.checks import as_table
from omnicrm.models.basket.itemsets import frequent_itemsets
from omnicrm.models.basket.rules import association_rules

#: Basket definitions: the key that groups order lines into one basket.
BASKET_KINDS = ("order", "customer_day")

#: Item levels of the product hierarchy and the ``products`` column naming the item at each.
LEVELS = {
    "product": "product_id",
    "subcategory": "subcategory",
    "category": "category",
    "department": "department",
    "brand": "brand",
}


def baskets_from_order_lines(
    lines: ibis.Table | pd.DataFrame,
    *,
    per: str = "order",
    as_of: dt.date | dt.datetime | str | None = None,
) -> ibis.Table:
    """(basket_id, item_id) rows of products bought, returns excluded; a lazy Ibis expression.

    Parameters
    ----------
    lines : ibis.Table or pandas.DataFrame
        The ``order_lines`` contract table (needs ``order_id``, ``product_id``, ``quantity``;
        also ``customer_id`` and ``order_ts`` for ``per="customer_day"``, ``order_ts`` for
        ``as_of``).
    per : {"order", "customer_day"}
        One basket per order, or per customer and UTC day (orders without a customer stay
        one basket each).
    as_of : date, datetime or ISO string, optional
        Use only lines with ``order_ts`` strictly before this instant (UTC); a date means its
        midnight.

    Returns
    -------
    ibis.Table
        Distinct ``basket_id`` (string) and ``item_id`` (the product id) rows.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2"], "product_id": ["tea", "milk"], "quantity": [1, 1],
    ...     "customer_id": ["c1", "c1"],
    ...     "order_ts": pd.to_datetime(["2026-01-05 09:00", "2026-01-05 18:00"], utc=True),
    ... })
    >>> baskets_from_order_lines(lines, per="customer_day").order_by("item_id").execute()
             basket_id item_id
    0  c:c1:2026-01-05    milk
    1  c:c1:2026-01-05     tea
    """
    if per not in BASKET_KINDS:
        raise InputError(f"per={per!r} is not a basket definition: use one of {BASKET_KINDS}")
    table = as_table(lines, name="lines")
    required = ["order_id", "product_id", "quantity"]
    if per == "customer_day":
        required += ["customer_id", "order_ts"]
    elif as_of is not None:
        required.append("order_ts")
    _check_contract_columns(table, required, name="lines (order_lines)")
    if as_of is not None:
        table = table.filter(table.order_ts < _as_timestamp(as_of))
    if per == "order":
        basket = table.order_id.cast("string")
    else:
        day = table.order_ts.date().cast("string")
        basket = ibis.ifelse(
            table.customer_id.isnull(),
            "o:" + table.order_id.cast("string"),
            "c:" + table.customer_id.cast("string") + ":" + day,
        )
    keyed = table.select(basket_id=basket, item_id=table.product_id, quantity=table.quantity)
    netted = keyed.group_by(["basket_id", "item_id"]).agg(quantity=keyed.quantity.sum())
    return netted.filter(netted.quantity > 0).select("basket_id", "item_id")


def baskets_by_level(
    lines: ibis.Table | pd.DataFrame,
    products: ibis.Table | pd.DataFrame | None = None,
    *,
    level: str = "product",
    per: str = "order",
    as_of: dt.date | dt.datetime | str | None = None,
) -> ibis.Table:
    """Baskets whose items are products or a level of the product hierarchy (lazy Ibis).

    Each product is replaced by its ``level`` value from ``products``; a basket holding two
    yogurts holds the subcategory "Yogurt" once. Lines whose product has no value at that level
    (e.g. an empty optional ``subcategory``) or is missing from ``products`` are left out.

    Parameters
    ----------
    lines : ibis.Table or pandas.DataFrame
        The ``order_lines`` contract table.
    products : ibis.Table or pandas.DataFrame, optional
        The ``products`` contract table; not needed for ``level="product"``.
    level : {"product", "subcategory", "category", "department", "brand"}
        Item granularity.
    per, as_of
        As in :func:`baskets_from_order_lines`.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"order_id": ["o1", "o1"], "product_id": ["p1", "p2"],
    ...                       "quantity": [1, 1]})
    >>> products = pd.DataFrame({"product_id": ["p1", "p2"], "category": ["Dairy", "Dairy"]})
    >>> baskets_by_level(lines, products, level="category").execute()
      basket_id item_id
    0        o1   Dairy
    """
    if level not in LEVELS:
        raise InputError(
            f"level={level!r} is not a level of the product hierarchy: use one of {tuple(LEVELS)}"
        )
    baskets = baskets_from_order_lines(lines, per=per, as_of=as_of)
    if level == "product":
        return baskets
    if products is None:
        raise InputError(
            f"level={level!r} needs the products table to map products to {level}: pass "
            "products=con.table('products')"
        )
    catalogue = as_table(products, name="products")
    column = LEVELS[level]
    _check_contract_columns(catalogue, ["product_id", column], name="products")
    mapping = catalogue.select(product_id=catalogue.product_id, level_item=catalogue[column])
    mapped = baskets.join(mapping, baskets.item_id == mapping.product_id)
    mapped = mapped.filter(mapped.level_item.notnull())
    return mapped.select(basket_id=mapped.basket_id, item_id=mapped.level_item).distinct()


def basket_rules_by_level(
    lines: ibis.Table | pd.DataFrame,
    products: ibis.Table | pd.DataFrame | None = None,
    *,
    level: str = "product",
    min_support: float,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    max_len: int = 3,
    per: str = "order",
    as_of: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Association rules between products or between categories, straight from order lines.

    Builds the baskets with :func:`baskets_by_level`, counts the frequent itemsets in the
    warehouse with :func:`~omnicrm.models.basket.frequent_itemsets` and derives the rules with
    :func:`~omnicrm.models.basket.association_rules`; see those for the parameters.

    Returns
    -------
    pandas.DataFrame
        The rules, with an extra ``level`` column naming the item granularity.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o1", "o2", "o2", "o3"],
    ...     "product_id": ["yogurt1", "granola", "yogurt2", "granola", "yogurt1"],
    ...     "quantity": [1, 1, 2, 1, 1],
    ... })
    >>> products = pd.DataFrame({
    ...     "product_id": ["yogurt1", "yogurt2", "granola"],
    ...     "category": ["Dairy", "Dairy", "Cereal"],
    ... })
    >>> rules = basket_rules_by_level(lines, products, level="category", min_support=0.5)
    >>> rules[["antecedent", "consequent", "confidence"]]
      antecedent consequent  confidence
    0  (Cereal,)   (Dairy,)    1.000000
    1   (Dairy,)  (Cereal,)    0.666667
    """
    baskets = baskets_by_level(lines, products, level=level, per=per, as_of=as_of)
    itemsets = frequent_itemsets(baskets, min_support=min_support, max_len=max_len)
    rules = association_rules(itemsets, min_confidence=min_confidence, min_lift=min_lift)
    rules.insert(0, "level", level)
    return rules


def _check_contract_columns(table: ibis.Table, required: list[str], *, name: str) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(
            f"{name} has no column(s) {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(repr, table.columns))}): load the data through the "
            "omnicrm contract (see docs/data-model.md) or rename the column(s)"
        )


def _as_timestamp(as_of: dt.date | dt.datetime | str) -> ibis.Scalar:
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"as_of={as_of!r} is not a date or time: pass e.g. '2026-01-31' or a datetime"
        ) from exc
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return ibis.timestamp(stamp.to_pydatetime()).cast("timestamp('UTC')")
