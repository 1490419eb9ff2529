"""Cold start for new products: similar catalogue items by category, brand and price.

A product nobody has bought yet has no co-buyers, so collaborative recommenders cannot place
it. :func:`similar_products` finds its closest catalogue neighbours from attributes alone:

``score = 0.5 * same category + 0.2 * same subcategory + 0.15 * same brand
+ 0.15 * exp(-|log(price_a / price_b)|)``

(missing attributes never match; the price term is 0 when either price is missing). The
weights are data (:data:`WEIGHTS`) and can be overridden. With ``buyers`` (item id -> buyers),
ties go to the more bought neighbour, whose audience is the natural first audience of the new
product.

Customers unknown to a model (cold-start customers) are handled by every recommender itself:
see :class:`~omnicrm.models.recommend.popularity.Fallback`.

Examples
--------
>>> import pandas as pd
>>> products = pd.DataFrame({
...     "product_id": ["new", "a", "b", "c"], "category": ["Dairy", "Dairy", "Dairy", "Bakery"],
...     "brand": ["Farm", "Farm", "Other", "Farm"], "unit_price": [3.0, 2.9, 3.1, 3.0]})
>>> similar_products(products, ["new"], k=2)[["similar_id", "rank"]].values.tolist()
[['a', 1], ['b', 2]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import check_k

WEIGHTS: dict[str, float] = {"category": 0.5, "subcategory": 0.2, "brand": 0.15, "price": 0.15}
"""Default weight of each attribute in the product similarity."""


def _same(col: pd.Series, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    v = col.to_numpy(dtype=object)
    va, vb = v[a], v[b]
    return (pd.notna(va) & pd.notna(vb) & (va == vb)).astype(np.float64)


def similar_products(
    products: pd.DataFrame,
    item_ids: Iterable[str],
    k: int = 5,
    *,
    weights: Mapping[str, float] | None = None,
    buyers: pd.Series | Mapping | None = None,
) -> pd.DataFrame:
    """The ``k`` catalogue products most similar to each of ``item_ids`` (see module doc).

    Parameters
    ----------
    products : pandas.DataFrame
        ``product_id, category`` and optionally ``subcategory, brand, unit_price``.
    item_ids : iterable of str
        Products to place (usually new ones); each must be in ``products``.
    k : int
    weights : mapping, optional
        Overrides of :data:`WEIGHTS`.
    buyers : Series or mapping, optional
        Item id -> buyers, to break ties.

    Returns
    -------
    pandas.DataFrame
        ``item_id, similar_id, rank, score, reason``.
    """
    k = check_k(k)
    if "product_id" not in products.columns or "category" not in products.columns:
        raise InputError(
            "products need columns product_id and category (products table, docs/data-model.md)"
        )
    w = {**WEIGHTS, **(weights or {})}
    unknown = set(w) - set(WEIGHTS)
    if unknown:
        raise InputError(
            f"weights name unknown attribute(s) {sorted(unknown)}; use {', '.join(WEIGHTS)}"
        )
    catalogue = products.drop_duplicates("product_id").reset_index(drop=True)
    index = pd.Index(catalogue["product_id"].astype(str))
    if isinstance(item_ids, str):
        item_ids = [item_ids]
    wanted = [str(i) for i in item_ids]
    pos = index.get_indexer(wanted)
    if (pos < 0).any():
        missing = wanted[int(np.flatnonzero(pos < 0)[0])]
        raise InputError(
            f"product {missing!r} is not in the catalogue; load it into the products table first"
        )
    n = len(index)
    a = np.repeat(pos, n)
    b = np.tile(np.arange(n), len(pos))
    score = w["category"] * _same(catalogue["category"], a, b)
    reasons = np.where(score > 0, "same category", "")
    for attr in ("subcategory", "brand"):
        if attr in catalogue.columns:
            same = _same(catalogue[attr], a, b)
            score = score + w[attr] * same
            reasons = np.where(
                same > 0, np.char.add(reasons.astype(str), f", same {attr}"), reasons
            )
    if "unit_price" in catalogue.columns:
        price = pd.to_numeric(catalogue["unit_price"].astype(object), errors="coerce")
        p = price.to_numpy(dtype=np.float64)
        with np.errstate(all="ignore"):
            closeness = np.exp(-np.abs(np.log(p[a] / p[b])))
        closeness = np.where(np.isfinite(closeness), closeness, 0.0)
        score = score + w["price"] * closeness
    pop = (
        pd.Series(buyers, dtype=float).reindex(index).fillna(0.0).to_numpy()
        if buyers is not None
        else np.zeros(n)
    )
    keep = a != b
    frame = pd.DataFrame(
        {
            "q": np.repeat(np.arange(len(pos)), n)[keep],
            "b": b[keep],
            "score": score[keep],
            "pop": pop[b[keep]],
            "reason": np.asarray(reasons, dtype=object)[keep],
        }
    )
    frame = frame.sort_values(
        ["q", "score", "pop", "b"], ascending=[True, False, False, True], kind="stable"
    )
    frame["rank"] = frame.groupby("q").cumcount() + 1
    frame = frame[frame["rank"] <= k]
    reason = frame["reason"].str.lstrip(", ").replace("", "similar price")
    return pd.DataFrame(
        {
            "item_id": np.asarray(wanted, dtype=object)[frame["q"].to_numpy()],
            "similar_id": index.to_numpy()[frame["b"].to_numpy()],
            "rank": frame["rank"].to_numpy(np.int64),
            "score": frame["score"].to_numpy(),
            "reason": reason.to_numpy(dtype=object),
        }
    )
