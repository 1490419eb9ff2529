"""Top-k recommendation metrics, computed on frames without per-customer loops.

``recs`` holds ``customer_id, item_id, rank`` (rank 1 = best); ``truth`` holds the
``customer_id, item_id`` pairs bought in the test window (duplicates count once). Ranking
metrics are averaged over the customers in ``truth`` (a customer with no recommendation scores
0); only ranks ``<= k`` count.

==================  =========================================================================
metric              per customer *u* with test items *T_u* and hits *H_u* in the top *k*
==================  =========================================================================
precision@k         ``|H_u| / k``
recall@k            ``|H_u| / |T_u|``
ndcg@k              ``sum_{i in H_u} 1/log2(rank_i + 1)`` over its ideal
                    ``sum_{r=1}^{min(|T_u|, k)} 1/log2(r + 1)`` (Järvelin & Kekäläinen 2002)
hit_rate@k          1 when ``|H_u| > 0``
coverage            distinct recommended items / catalogue size (Ge et al. 2010)
diversity           mean intra-list dissimilarity: share of pairs of a list in different
                    categories (Ziegler et al. 2005)
novelty             mean of ``-log2(p_i)`` over recommended items, ``p_i`` = share of customers
                    who bought *i* in training (unseen items count one buyer) (Zhou et al. 2010)
recall_repeat /     recall restricted to test items the customer bought before / never bought
recall_explore      (averaged over customers having such items)
==================  =========================================================================

Examples
--------
>>> import pandas as pd
>>> recs = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "item_id": ["x", "y", "x", "z"],
...                      "rank": [1, 2, 1, 2]})
>>> truth = pd.DataFrame({"customer_id": ["a", "b", "b"], "item_id": ["y", "q", "r"]})
>>> ranking_metrics(recs, truth, k=2)["recall"]
0.5
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import check_k


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} lacks column(s) {', '.join(missing)}; it needs {', '.join(columns)}"
        )


def _hits(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.Series]:
    _require(recs, ("customer_id", "item_id", "rank"), "recs")
    _require(truth, ("customer_id", "item_id"), "truth")
    top = recs.loc[recs["rank"] <= k, ["customer_id", "item_id", "rank"]]
    truth = truth[["customer_id", "item_id"]].drop_duplicates()
    hits = top.merge(truth, on=["customer_id", "item_id"], how="inner")
    sizes = truth.groupby("customer_id").size()
    return hits, sizes


def ranking_metrics(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> dict[str, float]:
    """precision, recall, ndcg and hit_rate at ``k`` (see the module doc).

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": ["a", "a"], "item_id": ["x", "y"], "rank": [1, 2]})
    >>> truth = pd.DataFrame({"customer_id": ["a"], "item_id": ["y"]})
    >>> m = ranking_metrics(recs, truth, k=2)
    >>> m["precision"], round(m["ndcg"], 4), m["hit_rate"]
    (0.5, 0.6309, 1.0)
    """
    k = check_k(k)
    hits, sizes = _hits(recs, truth, k)
    if sizes.empty:
        raise InputError(
            "truth is empty: no test purchases to evaluate against (choose an "
            "earlier as_of or a longer test window)"
        )
    n_hits = hits.groupby("customer_id").size().reindex(sizes.index, fill_value=0)
    gain = 1.0 / np.log2(hits["rank"].to_numpy() + 1.0)
    dcg = pd.Series(gain, index=hits["customer_id"].to_numpy()).groupby(level=0).sum()
    dcg = dcg.reindex(sizes.index, fill_value=0.0)
    ideal_table = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1.0))]
    idcg = ideal_table[np.minimum(sizes.to_numpy(), k)]
    return {
        "precision": float((n_hits / k).mean()),
        "recall": float((n_hits / sizes).mean()),
        "ndcg": float((dcg.to_numpy() / idcg).mean()),
        "hit_rate": float((n_hits > 0).mean()),
    }


def catalogue_coverage(recs: pd.DataFrame, n_items: int, k: int | None = None) -> float:
    """Share of the catalogue's ``n_items`` recommended to at least one customer.

    Examples
    --------
    >>> import pandas as pd
    >>> catalogue_coverage(pd.DataFrame({"item_id": ["x", "y", "x"], "rank": [1, 1, 2]}), 4)
    0.5
    """
    if n_items <= 0:
        raise InputError(f"n_items={n_items!r}: the catalogue must have at least one item")
    top = recs if k is None else recs[recs["rank"] <= k]
    return float(top["item_id"].nunique() / n_items)


def intra_list_diversity(
    recs: pd.DataFrame, categories: pd.Series | dict, k: int | None = None
) -> float:
    """Mean share of item pairs in a customer's list that differ in category.

    Items without a category are their own category. Lists of one item are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": ["a"] * 3, "item_id": ["x", "y", "z"],
    ...                      "rank": [1, 2, 3]})
    >>> round(intra_list_diversity(recs, {"x": "Dairy", "y": "Dairy", "z": "Bakery"}), 4)
    0.6667
    """
    top = recs if k is None else recs[recs["rank"] <= k]
    cats = pd.Series(categories, dtype=object)
    cat = top["item_id"].map(cats)
    cat = cat.where(cat.notna(), "\0item:" + top["item_id"].astype(str))
    frame = pd.DataFrame({"customer_id": top["customer_id"].to_numpy(), "cat": cat.to_numpy()})
    per_cat = frame.groupby(["customer_id", "cat"]).size()
    same = (per_cat * (per_cat - 1)).groupby(level=0).sum()
    n = frame.groupby("customer_id").size()
    pairs = n * (n - 1)
    ok = pairs > 0
    if not ok.any():
        return float("nan")
    return float((1.0 - same[ok] / pairs[ok]).mean())


def novelty(
    recs: pd.DataFrame, buyers: pd.Series | dict, n_customers: int, k: int | None = None
) -> float:
    """Mean self-information ``-log2(buyers_i / n_customers)`` of the recommended items.

    Examples
    --------
    >>> import pandas as pd
    >>> novelty(pd.DataFrame({"item_id": ["x", "y"], "rank": [1, 2]}), {"x": 4, "y": 1}, 4)
    1.0
    """
    if n_customers <= 0:
        raise InputError(f"n_customers={n_customers!r} must be positive")
    top = recs if k is None else recs[recs["rank"] <= k]
    if top.empty:
        return float("nan")
    count = top["item_id"].map(pd.Series(buyers, dtype=float)).fillna(1.0).clip(lower=1.0)
    return float((-np.log2(count.to_numpy() / n_customers)).mean())


def repeat_explore_recall(
    recs: pd.DataFrame, truth: pd.DataFrame, history: pd.DataFrame, k: int
) -> dict[str, float]:
    """Recall on re-bought items vs on items new to the customer, and the repeat share.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": ["a", "a"], "item_id": ["x", "n"], "rank": [1, 2]})
    >>> truth = pd.DataFrame({"customer_id": ["a"] * 3, "item_id": ["x", "y", "m"]})
    >>> history = pd.DataFrame({"customer_id": ["a", "a"], "item_id": ["x", "y"]})
    >>> repeat_explore_recall(recs, truth, history, k=2)
    {'recall_repeat': 0.5, 'recall_explore': 0.0, 'repeat_share': 0.6666666666666666}
    """
    k = check_k(k)
    _require(history, ("customer_id", "item_id"), "history")
    truth = truth[["customer_id", "item_id"]].drop_duplicates()
    seen = history[["customer_id", "item_id"]].drop_duplicates().assign(_seen=True)
    truth = truth.merge(seen, on=["customer_id", "item_id"], how="left")
    truth["_seen"] = truth["_seen"].eq(True)
    out: dict[str, float] = {}
    for name, part in (
        ("recall_repeat", truth[truth["_seen"]]),
        ("recall_explore", truth[~truth["_seen"]]),
    ):
        out[name] = ranking_metrics(recs, part, k)["recall"] if len(part) else float("nan")
    out["repeat_share"] = float(truth["_seen"].mean()) if len(truth) else float("nan")
    return out
