"""Time-split evaluation of recommenders: fit before ``as_of``, judge on what came after.

:func:`time_split` cuts interactions at ``as_of``; the test part is either each customer's
**next basket** (their first purchase time from ``as_of`` on) or everything in the **next
``days`` days**. :func:`evaluate_recommender` fits a model on the training part, recommends
``k`` items to every test customer (unknown ones get the cold-start fallback) and reports the
metrics of :mod:`omnicrm.models.recommend.metrics`. :func:`compare_recommenders` does it for
several models on the same split, as one table.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.recommend import PopularityRecommender
>>> f = pd.DataFrame({"customer_id": list("aabbc"), "item_id": list("xyxyx"),
...                   "ts": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-02",
...                                         "2026-01-03", "2026-02-02"], utc=True)})
>>> train, test = time_split(f, "2026-01-15")
>>> evaluate_recommender(PopularityRecommender(), train, test, k=1)["recall"]
0.5
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import Recommender, check_k
from omnicrm.models.recommend.interactions import split_by_time
from omnicrm.models.recommend.metrics import (
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    repeat_explore_recall,
)

TARGETS: tuple[str, ...] = ("next_basket", "days")


def time_split(
    interactions: pd.DataFrame, as_of: object, *, target: str = "next_basket", days: int = 28
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows before ``as_of`` and the test rows after it (see the module doc).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": ["a", "a", "a"], "item_id": ["x", "y", "z"],
    ...                   "ts": pd.to_datetime(["2026-01-01", "2026-01-20", "2026-01-25"],
    ...                                        utc=True)})
    >>> time_split(f, "2026-01-15")[1].item_id.tolist()
    ['y']
    >>> time_split(f, "2026-01-15", target="days", days=30)[1].item_id.tolist()
    ['y', 'z']
    """
    if target not in TARGETS:
        raise InputError(f"target={target!r} is not one of {', '.join(TARGETS)}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InputError(f"days={days!r} must be a whole number of days >= 1")
    train, rest = split_by_time(interactions, as_of)
    if train.empty:
        raise InputError(f"no interaction before as_of={as_of}; choose a later as_of")
    ts = pd.to_datetime(rest["ts"], utc=True)
    if target == "next_basket":
        first = ts.groupby(rest["customer_id"]).transform("min")
        test = rest[(ts == first).to_numpy()]
    else:
        cut = pd.Timestamp(as_of)
        cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
        test = rest[(ts < cut + pd.Timedelta(days=days)).to_numpy()]
    return train, test.reset_index(drop=True)


def evaluate_recommender(
    model: Recommender,
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    *,
    categories: pd.Series | Mapping | None = None,
    segments: pd.DataFrame | None = None,
    fit: bool = True,
) -> dict[str, Any]:
    """Fit ``model`` on ``train`` and measure its top-``k`` lists against ``test``.

    Parameters
    ----------
    model : Recommender
    train, test : pandas.DataFrame
        Interactions (from :func:`time_split`).
    k : int
    categories : Series or mapping, optional
        Item id -> category, for ``diversity`` (NaN without it).
    segments : pandas.DataFrame, optional
        Passed to ``fit``.
    fit : bool
        False to evaluate an already fitted model.

    Returns
    -------
    dict
        ``precision, recall, ndcg, hit_rate, coverage, diversity, novelty, recall_repeat,
        recall_explore, repeat_share, customers, cold_start_customers, k``.
    """
    k = check_k(k)
    if test.empty:
        raise InputError("the test window has no purchases; choose an earlier as_of")
    if fit:
        model.fit(train, segments=segments)
    customers = pd.unique(test["customer_id"].astype(str))
    recs = model.recommend(customers, k)
    truth = test.assign(
        customer_id=test["customer_id"].astype(str), item_id=test["item_id"].astype(str)
    )
    history = train.assign(
        customer_id=train["customer_id"].astype(str), item_id=train["item_id"].astype(str)
    )
    buyers = history.drop_duplicates(["customer_id", "item_id"]).groupby("item_id").size()
    out: dict[str, Any] = dict(ranking_metrics(recs, truth, k))
    out["coverage"] = catalogue_coverage(recs, len(model.item_index_), k)
    out["diversity"] = (
        intra_list_diversity(recs, categories, k) if categories is not None else float("nan")
    )
    out["novelty"] = novelty(recs, buyers, history["customer_id"].nunique(), k)
    out.update(repeat_explore_recall(recs, truth, history, k))
    out["customers"] = len(customers)
    out["cold_start_customers"] = int(recs.loc[recs["cold_start"], "customer_id"].nunique())
    out["k"] = k
    return out


def compare_recommenders(
    models: Mapping[str, Recommender],
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    **kwargs: Any,
) -> pd.DataFrame:
    """One row per model with the metrics of :func:`evaluate_recommender`, best recall first.

    Examples
    --------
    >>> import pandas as pd
    >>> from omnicrm.models.recommend import PopularityRecommender
    >>> f = pd.DataFrame({"customer_id": list("aab"), "item_id": list("xyx"),
    ...                   "ts": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-01"],
    ...                                        utc=True)})
    >>> train, test = time_split(f, "2026-01-15")
    >>> compare_recommenders({"pop": PopularityRecommender()}, train, test, k=1).index.tolist()
    ['pop']
    """
    if not models:
        raise InputError("models is empty; pass {name: recommender}")
    rows = {
        name: evaluate_recommender(model, train, test, k, **kwargs)
        for name, model in models.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    order = np.lexsort((np.arange(len(table)), -table["recall"].to_numpy()))
    return table.iloc[order]
