"""Item-kNN: items bought by the same customers (Deshpande & Karypis 2004, "Item-based top-N").

The binary customer x item matrix ``X`` (scipy.sparse) gives co-buyer counts ``C = X^T X``.
Similarity of items *i* and *j* with ``n_i`` buyers:

- cosine: ``C_ij / sqrt(n_i n_j)``;
- Jaccard: ``C_ij / (n_i + n_j - C_ij)``.

Pairs with fewer than ``min_common`` common buyers are dropped and each item keeps its
``neighbours`` most similar items. A customer's score for item *i* is the sum of the
similarities of *i* to the items in their history (``X_u S``); the reason names the history
item contributing most: "often bought with Greek yogurt".

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"customer_id": list("aabbc"), "item_id": list("xyxyx"),
...                   "ts": pd.to_datetime(["2026-01-01"] * 5)})
>>> ItemKNNRecommender().fit(f).recommend(["c"], k=2)[["item_id", "reason"]].values.tolist()
[['y', 'often bought with x'], ['x', 'popular with customers']]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import Recommender
from omnicrm.models.recommend.interactions import Interactions

SIMILARITIES: tuple[str, ...] = ("cosine", "jaccard")


def item_similarity(
    x: sp.csr_matrix, *, similarity: str = "cosine", neighbours: int = 50, min_common: int = 1
) -> sp.csr_matrix:
    """Item x item similarity from a binary customer x item matrix, pruned to top neighbours.

    Examples
    --------
    >>> x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=float))
    >>> np.round(item_similarity(x).toarray(), 3).tolist()
    [[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.5, 0.5, 0.0]]
    """
    co = (x.T @ x).tocoo()
    n = np.asarray(x.sum(axis=0)).ravel()
    keep = (co.row != co.col) & (co.data >= min_common)
    row, col, common = co.row[keep], co.col[keep], co.data[keep]
    if similarity == "cosine":
        sim = common / np.sqrt(n[row] * n[col])
    else:
        sim = common / (n[row] + n[col] - common)
    # top ``neighbours`` per row, ties by column: sort by (row, -sim, col), rank within row
    order = np.lexsort((col, -sim, row))
    row, col, sim = row[order], col[order], sim[order]
    starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1] if len(row) else np.array([], int)
    first = np.repeat(starts, np.diff(np.r_[starts, len(row)])) if len(row) else starts
    within = np.arange(len(row)) - first
    top = within < neighbours
    return sp.csr_matrix((sim[top], (row[top], col[top])), shape=(x.shape[1], x.shape[1]))


def strongest_history_item(
    x: sp.csr_matrix,
    users: np.ndarray,
    items: np.ndarray,
    similarity: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """For each (user, item) pair, the item of the user's history most similar to it.

    ``similarity(history_items, items)`` returns one value per pair of equal-length arrays.
    Returns -1 where the user has no history item with a positive similarity.
    """
    starts, ends = x.indptr[users], x.indptr[users + 1]
    lens = ends - starts
    total = int(lens.sum())
    out = np.full(len(users), -1, dtype=np.int64)
    if total == 0:
        return out
    pair = np.repeat(np.arange(len(users)), lens)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens)
    hist = x.indices[np.arange(total) + offsets]
    vals = np.asarray(similarity(hist, items[pair]), dtype=np.float64)
    vals = np.where(hist == items[pair], -np.inf, vals)
    # per pair (contiguous groups): the best value, then the lowest item id reaching it
    has = lens > 0
    bounds = np.r_[0, np.cumsum(lens[has])[:-1]]
    best_val = np.maximum.reduceat(vals, bounds)
    at_best = vals == np.repeat(best_val, lens[has])
    candidate = np.where(at_best, hist, np.iinfo(np.int64).max)
    best_item = np.minimum.reduceat(candidate, bounds)
    good = best_val > 0
    out[np.flatnonzero(has)[good]] = best_item[good]
    return out


class ItemKNNRecommender(Recommender):
    """Item-to-item collaborative filtering on co-buyers (see the module doc).

    Parameters
    ----------
    similarity : {"cosine", "jaccard"}
    neighbours : int
        Similar items kept per item.
    min_common : int
        Common buyers needed for a similarity.

    Examples
    --------
    >>> ItemKNNRecommender(similarity="jaccard").similarity
    'jaccard'
    """

    def __init__(self, similarity: str = "cosine", neighbours: int = 50, min_common: int = 1):
        self.similarity = similarity
        self.neighbours = neighbours
        self.min_common = min_common

    def _fit(self, data: Interactions) -> None:
        if self.similarity not in SIMILARITIES:
            raise InputError(
                f"similarity={self.similarity!r} is not one of {', '.join(SIMILARITIES)}"
            )
        for name in ("neighbours", "min_common"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{name}={v!r} must be a whole number >= 1")
        self.history_ = data.matrix()
        self.similarity_ = item_similarity(
            self.history_,
            similarity=self.similarity,
            neighbours=self.neighbours,
            min_common=self.min_common,
        )

    def _score(self, users: np.ndarray) -> np.ndarray:
        dense = (self.history_[users] @ self.similarity_).toarray()
        dense[dense <= 0] = np.nan
        return dense

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        sim = self.similarity_

        def lookup(hist: np.ndarray, target: np.ndarray) -> np.ndarray:
            return np.asarray(sim[hist, target]).ravel()

        best = strongest_history_item(self.history_, users, items, lookup)
        names = self.item_names_[np.maximum(best, 0)]
        return np.where(
            best >= 0, "often bought with " + names.astype(object), "customers like you bought this"
        ).astype(object)
