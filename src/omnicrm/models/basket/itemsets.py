"""Frequent itemsets counted in the warehouse with Ibis (Apriori, one level per query).

The baskets are ``(basket, item)`` rows. Level 1 counts every item; the frequent ones get
integer codes in ascending item order and the baskets are reduced to them once. Level 2 joins
the baskets with themselves on the basket id with ``item_a < item_b``, so each pair is produced
once; level *k* >= 3 joins the baskets' occurrences of frequent *(k-1)*-itemsets with themselves
on the basket and the first *k-2* items and keeps only the candidates whose every
*(k-1)*-subset is frequent (the Apriori property, Agrawal & Srikant 1994). Each level is one
``group_by`` + ``count`` executed by the backend, so the same code runs on DuckDB, PostgreSQL
and Spark; only the frequent itemsets of each level (few) come back to Python to generate the
next candidates.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.basket import frequent_itemsets
>>> baskets = pd.DataFrame({
...     "basket_id": [1, 1, 2, 2, 2, 3],
...     "item_id": ["milk", "bread", "milk", "bread", "eggs", "milk"],
... })
>>> frequent_itemsets(baskets, min_support=0.5)[["itemset", "count", "support"]]
         itemset  count   support
0        (milk,)      3  1.000000
1       (bread,)      2  0.666667
2  (bread, milk)      2  0.666667
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.basket.checks import (
    as_table,
    check_columns,
    check_fraction,
    check_positive_int,
)

ITEMSET_COLUMNS = ("itemset", "length", "count", "support")


def frequent_itemsets(
    baskets: ibis.Table | pd.DataFrame,
    *,
    min_support: float,
    max_len: int = 3,
    basket_col: str = "basket_id",
    item_col: str = "item_id",
) -> pd.DataFrame:
    """Itemsets found in at least ``min_support`` of the baskets, counted in the warehouse.

    Parameters
    ----------
    baskets : ibis.Table or pandas.DataFrame
        One row per (basket, item). Repeated items within a basket count once. A DataFrame is
        wrapped with :func:`ibis.memtable` and counted by Ibis' default backend (DuckDB).
    min_support : float
        Minimum share of baskets, in (0, 1]. An itemset is kept when
        ``count / n_baskets >= min_support`` (the same float comparison as mlxtend).
    max_len : int
        Largest itemset size (>= 1).
    basket_col, item_col : str
        Column names of the basket id and the item id.

    Returns
    -------
    pandas.DataFrame
        Materialised (not lazy): one row per frequent itemset with ``itemset`` (a tuple of
        items in ascending order), ``length``, ``count`` (number of baskets holding every item)
        and ``support`` (``count / n_baskets``). Rows are ordered by length, then count
        (descending), then itemset. ``attrs["n_baskets"]`` holds the number of baskets.

    Raises
    ------
    InputError
        For a ``min_support`` outside (0, 1], ``max_len`` < 1, a missing column, empty ids or
        no baskets at all.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"basket_id": ["a", "a", "b"], "item_id": ["x", "y", "x"]})
    >>> frequent_itemsets(rows, min_support=1.0)["itemset"].tolist()
    [('x',)]
    """
    min_support = check_fraction("min_support", min_support, allow_zero=False)
    max_len = check_positive_int(
        "max_len", max_len, hint=" (1 = single items, 2 = pairs, 3 = triples)"
    )
    table = as_table(baskets, name="baskets")
    check_columns(
        table.columns, {basket_col: "basket_col", item_col: "item_col"}, name="baskets"
    )
    rows = table.select(basket=table[basket_col], item=table[item_col])
    n_baskets = _count_baskets(rows, basket_col=basket_col, item_col=item_col)
    min_count = min_count_for(min_support, n_baskets)
    item_type = rows.schema()["item"]

    distinct = rows.distinct()
    singles = (
        distinct.group_by(i1=distinct.item)
        .agg(count=distinct.basket.count())
        .filter(lambda t: t["count"] >= min_count)
        .execute()
        .sort_values("i1", kind="stable", ignore_index=True)
    )
    levels = [singles]
    if max_len >= 2 and len(singles) >= 2:
        # Frequent items get integer codes in ascending item order, so every join and group-by
        # of the higher levels works on integers and "code_a < code_b" means "item_a < item_b".
        codes = ibis.memtable(
            {"item": singles["i1"], "code": np.arange(len(singles), dtype=np.int64)},
            schema=ibis.schema({"item": item_type, "code": dt.int64}),
        )
        coded = (
            rows.join(codes, rows.item == codes.item)
            .select(basket=rows.basket, item=codes.code)
            .distinct()  # on integers: cheaper than on the original item ids
        )
        with _materialise(coded) as cached:
            found = _higher_levels(cached, max_len, min_count, dt.int64)
        items = singles["i1"].to_numpy(dtype=object)
        for level in found:
            for column in level.columns.drop("count"):
                level[column] = items[level[column].to_numpy(dtype=np.int64)]
        levels += found
    return _assemble(levels, n_baskets)


def min_count_for(min_support: float, n_baskets: int) -> int:
    """Smallest basket count ``c`` with ``c / n_baskets >= min_support`` (float division).

    Using the same floating-point comparison as the support column avoids an off-by-one when
    ``min_support * n_baskets`` is not exactly representable (``0.07 * 100 == 7.000000000000001``).

    Examples
    --------
    >>> min_count_for(0.07, 100)
    7
    >>> min_count_for(0.5, 3)
    2
    """
    count = max(1, math.ceil(min_support * n_baskets))
    while count > 1 and (count - 1) / n_baskets >= min_support:
        count -= 1
    while count / n_baskets < min_support:
        count += 1
    return count


def _count_baskets(rows: ibis.Table, *, basket_col: str, item_col: str) -> int:
    stats = rows.aggregate(
        n_rows=rows.count(),
        n_baskets=rows.basket.nunique(),
        null_baskets=rows.basket.isnull().sum(),
        null_items=rows.item.isnull().sum(),
    ).execute()
    n_rows, n_baskets, null_baskets, null_items = (
        0 if pd.isna(value) else int(value) for value in stats.iloc[0]
    )
    if n_rows == 0:
        raise InputError(
            "baskets has no rows: there is nothing to count. Check the date range or filters "
            "that produced the baskets (for order lines, that some lines are not returns)"
        )
    for column, nulls in ((basket_col, null_baskets), (item_col, null_items)):
        if nulls:
            raise InputError(
                f"baskets column {column!r} is empty on {nulls} of {n_rows} rows: drop those rows "
                f"or fill the ids (e.g. baskets.dropna(subset=[{column!r}]))"
            )
    return n_baskets


def _higher_levels(
    baskets: ibis.Table, max_len: int, min_count: int, item_type: dt.DataType
) -> list[pd.DataFrame]:
    """Levels 2..max_len; ``baskets`` is distinct (basket, item) rows of frequent items.

    Level k joins the baskets' occurrences of frequent (k-1)-itemsets with themselves on the
    basket and the first k-2 items (the prefix join of Apriori's candidate generation, done per
    basket), keeps the candidates and counts them. When a next level follows, the join is
    materialised once (``cache``) so that counting it and extending its frequent rows do not
    recompute it.
    """
    occurrences = baskets.select(basket=baskets.basket, i1=baskets.item)
    levels: list[pd.DataFrame] = []
    cached: list[ibis.Table] = []  # materialised joins still held; released once unused
    try:
        for k in range(2, max_len + 1):
            names = [f"i{j}" for j in range(1, k + 1)]
            prefix, last = names[:-2], names[-2]
            other = occurrences.view()  # a fresh self-reference for each join
            grown = occurrences.join(
                other,
                [occurrences.basket == other.basket]
                + [occurrences[c] == other[c] for c in prefix]
                + [occurrences[last] < other[last]],
            ).select(
                basket=occurrences.basket,
                **{c: occurrences[c] for c in names[:-1]},
                **{names[-1]: other[last]},
            )
            if levels:  # k >= 3: keep candidates whose every (k-1)-subset is frequent
                candidates = _candidates(levels[-1], k)
                if candidates.empty:
                    break
                grown = grown.semi_join(_upload(candidates, item_type), names)
            if k < max_len:  # counted now and extended next: materialise the join once
                grown = _hold(_materialise(grown), cached)
            counted = (
                grown.group_by(names)
                .agg(count=grown.basket.count())
                .filter(lambda t: t["count"] >= min_count)
                .execute()
            )
            if counted.empty:
                break
            levels.append(counted)
            if k < max_len:  # occurrences of the frequent k-itemsets only, extended next
                occurrences = grown.semi_join(_upload(counted[names], item_type), names)
                while len(cached) > 1:  # the previous level's table is no longer needed
                    cached.pop(0).release()
    finally:
        for table in cached:
            table.release()
    return levels


def _materialise(expr: ibis.Table) -> ibis.Table:
    """``expr.cache()`` that also works when ``expr`` uses uploaded in-memory tables.

    Ibis 12's PySpark backend compiles a cached table without registering the in-memory tables
    it reads (DuckDB does register them). Executing ``expr.limit(0)`` first registers them on any
    backend, at the cost of an empty query.
    """
    expr.limit(0).execute()
    return expr.cache()


def _hold(table: ibis.Table, cached: list[ibis.Table]) -> ibis.Table:
    cached.append(table)
    return table


def _candidates(frequent: pd.DataFrame, k: int) -> pd.DataFrame:
    """Apriori candidate k-itemsets from the frequent (k-1)-itemsets (columns i1..i{k-1})."""
    prefix = [f"i{j}" for j in range(1, k - 1)]
    last, new = f"i{k - 1}", f"i{k}"
    left = frequent[[*prefix, last]]
    right = frequent[[*prefix, last]].rename(columns={last: new})
    joined = left.merge(right, on=prefix)
    joined = joined[joined[last] < joined[new]]
    names = [f"i{j}" for j in range(1, k + 1)]
    keys = frequent[names[:-1]]
    for dropped in range(k - 2):  # the two subsets dropping i{k-1} or i{k} are the parents
        subset = [n for j, n in enumerate(names) if j != dropped]
        probe = joined[subset].set_axis(names[:-1], axis=1)
        found = probe.merge(keys, how="left", indicator=True)["_merge"].eq("both")
        joined = joined[found.to_numpy()]
    return joined[names].reset_index(drop=True)


def _upload(frame: pd.DataFrame, item_type: dt.DataType) -> ibis.Table:
    schema = ibis.schema(dict.fromkeys(frame.columns, item_type))
    return ibis.memtable(frame.reset_index(drop=True), schema=schema)


def _assemble(levels: list[pd.DataFrame], n_baskets: int) -> pd.DataFrame:
    parts = []
    for k, level in enumerate(levels, start=1):
        items = [level[f"i{j}"].tolist() for j in range(1, k + 1)]
        counts = level["count"].astype("int64").to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "itemset": pd.Series(list(zip(*items, strict=True)), dtype=object),
                    "length": k,
                    "count": counts,
                }
            )
        )
    result = pd.concat(parts, ignore_index=True) if parts else _empty()
    result["length"] = result["length"].astype("int64")
    result["count"] = result["count"].astype("int64")
    result["support"] = result["count"].to_numpy(dtype="float64") / float(n_baskets)
    result = result.sort_values(
        ["length", "count", "itemset"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
    result.attrs["n_baskets"] = n_baskets
    return result[list(ITEMSET_COLUMNS)]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"itemset": pd.Series([], dtype=object), "length": [], "count": []}
    )
