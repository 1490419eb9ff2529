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
CODE_TYPE = dt.int32  # item codes: at most one per distinct item


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
    check_columns(table.columns, {basket_col: "basket_col", item_col: "item_col"}, name="baskets")
    rows = table.select(basket=table[basket_col], item=table[item_col])
    n_baskets = _count_baskets(rows, basket_col=basket_col, item_col=item_col)
    min_count = min_count_for(min_support, n_baskets)
    item_type = rows.schema()["item"]

    # An item's rows are its baskets plus its repeats within a basket, so an item on fewer than
    # min_count rows cannot be frequent. Only the others get integer codes, in ascending item
    # order, so every later join and group-by works on small integers and "code_a < code_b"
    # means "item_a < item_b". This needs no de-duplication of the raw rows.
    listed = (
        rows.group_by("item")
        .agg(n_rows=rows.count())
        .filter(lambda t: t["n_rows"] >= min_count)
        .execute()
    )
    items = listed["item"].sort_values(kind="stable", ignore_index=True)
    if items.empty:
        return _assemble([], n_baskets)
    codes = ibis.memtable(
        {"item": items, "code": np.arange(len(items), dtype=np.int32)},
        schema=ibis.schema({"item": item_type, "code": CODE_TYPE}),
    )
    coded = (
        rows.join(codes, rows.item == codes.item)
        .select(basket=rows.basket, item=codes.code)
        .distinct()  # an item repeated in a basket counts once
    )
    with _materialise(coded) as cached:
        levels = [_count(cached.select(basket=cached.basket, i1=cached.item), ["i1"], min_count)]
        if max_len >= 2 and len(levels[0]) >= 2:
            levels += _higher_levels(cached, levels[0], len(items), max_len, min_count)
    labels = items.to_numpy(dtype=object)
    for level in levels:
        for column in level.columns.drop("count"):
            level[column] = labels[level[column].to_numpy(dtype=np.int64)]
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
    baskets: ibis.Table, singles: pd.DataFrame, n_codes: int, max_len: int, min_count: int
) -> list[pd.DataFrame]:
    """Levels 2..max_len; ``baskets`` is distinct (basket, item code) rows of the coded items.

    Level 2 joins the baskets with themselves on the basket with ``item_a < item_b``. Level
    *k* >= 3 first generates the candidates from the frequent (*k*-1)-itemsets (pandas, few
    rows), then finds their occurrences from scratch: the baskets' rows are restricted, position
    by position, to the items a candidate has at that position, joined on the basket in
    ascending item order, and kept only where the first *j* items are the first *j* items of a
    candidate (prefixes, then the candidates themselves). Rebuilding each level from the coded
    baskets costs a join per position but materialises nothing and holds no occurrence table
    between levels.
    """
    if len(singles) < n_codes:  # some items are on enough rows but not in enough baskets
        baskets = _restricted(baskets, singles["i1"])
    pairs = _extend(baskets.select(basket=baskets.basket, i1=baskets.item), baskets, ["i1", "i2"])
    levels = [_count(pairs, ["i1", "i2"], min_count)]
    for k in range(3, max_len + 1):
        if levels[-1].empty:
            break
        candidates = _candidates(levels[-1], k)
        if candidates.empty:
            break
        levels.append(
            _count(_occurrences(baskets, candidates), list(candidates.columns), min_count)
        )
    return [level for level in levels if not level.empty]


def _occurrences(baskets: ibis.Table, candidates: pd.DataFrame) -> ibis.Table:
    """(basket, i1..ik) for every basket holding every item of a candidate k-itemset."""
    names = list(candidates.columns)
    side = _restricted(baskets, candidates[names[0]])
    found = side.select(basket=side.basket, i1=side.item)
    for j in range(2, len(names) + 1):
        found = _extend(found, _restricted(baskets, candidates[names[j - 1]]), names[:j])
        found = found.semi_join(_upload(candidates[names[:j]].drop_duplicates()), names[:j])
    return found


def _restricted(baskets: ibis.Table, items: pd.Series) -> ibis.Table:
    """The baskets' rows of the given item codes only."""
    wanted = pd.DataFrame({"item": np.unique(items.to_numpy())})
    return baskets.semi_join(_upload(wanted), "item")


def _extend(found: ibis.Table, side: ibis.Table, names: list[str]) -> ibis.Table:
    """Append to each row of ``found`` (basket + names[:-1]) every later item of its basket."""
    side = side.view()  # a fresh reference: ``side`` may be ``found``'s own source
    last = names[-2]
    return found.join(side, [found.basket == side.basket, found[last] < side.item]).select(
        basket=found.basket, **{c: found[c] for c in names[:-1]}, **{names[-1]: side.item}
    )


def _count(found: ibis.Table, names: list[str], min_count: int) -> pd.DataFrame:
    """Itemsets (``names`` columns) on at least ``min_count`` rows of ``found``, with ``count``."""
    return (
        found.group_by(names)
        .agg(count=found.count())
        .filter(lambda t: t["count"] >= min_count)
        .execute()
    )


def _materialise(expr: ibis.Table) -> ibis.Table:
    """``expr.cache()`` that also works when ``expr`` uses uploaded in-memory tables.

    Ibis 12's PySpark backend compiles a cached table without registering the in-memory tables
    it reads (DuckDB does register them). Executing ``expr.limit(0)`` first registers them on any
    backend, at the cost of an empty query, which DuckDB is spared.
    """
    if expr.get_backend().name != "duckdb":
        expr.limit(0).execute()
    return expr.cache()


def _candidates(frequent: pd.DataFrame, k: int) -> pd.DataFrame:
    """Apriori candidate k-itemsets from the frequent (k-1)-itemsets (columns i1..i{k-1}).

    Every candidate is the union of two frequent (k-1)-itemsets, either the two that share
    their first k-2 items (Agrawal & Srikant's join) or the two that overlap on k-2 items with
    one starting first and the other ending last (first k-2 of one = last k-2 of the other).
    Both joins produce each candidate once; the one with fewer rows is used (a popular item
    shares its prefix with many itemsets). A candidate is kept only when its other
    (k-1)-subsets are frequent too (the Apriori property).

    Examples
    --------
    >>> pairs = pd.DataFrame({"i1": [0, 0, 1, 1], "i2": [1, 2, 2, 3]})
    >>> _candidates(pairs, 3)
       i1  i2  i3
    0   0   1   2
    """
    names = [f"i{j}" for j in range(1, k + 1)]
    keys = frequent[names[:-1]].astype("int64").reset_index(drop=True)
    first, middle, last = names[0], names[1:-1], names[-1]
    # join on the prefix: (P, x) + (P, y), x < y  ->  (P, x, y)
    prefix_groups = keys.groupby(names[:-2], sort=False).size().to_numpy()
    prefix_rows = int((prefix_groups * (prefix_groups - 1) // 2).sum())
    # join on the overlap: (a, M) + (M, c)  ->  (a, M, c), ascending by construction
    as_tail = keys.groupby(names[1:-1], sort=False).size().rename("tail")
    as_head = keys.groupby(names[:-2], sort=False).size().rename("head")
    overlap_rows = int((as_tail.rename_axis(middle) * as_head.rename_axis(middle)).fillna(0).sum())
    if prefix_rows <= overlap_rows:
        left = keys
        right = keys.rename(columns={names[-2]: last})[[*names[:-2], last]]
        joined = left.merge(right, on=names[:-2])
        joined = joined[(joined[names[-2]] < joined[last]).to_numpy()]
        checked = list(range(k - 2))  # subsets dropping one of the first k-2 items
    else:
        left = keys.set_axis([first, *middle], axis=1)
        right = keys.set_axis([*middle, last], axis=1)
        joined = left.merge(right, on=middle)
        checked = list(range(1, k - 1))  # subsets dropping one of the middle items
    frequent_keys = pd.MultiIndex.from_frame(keys)
    for dropped in checked:
        subset = [n for j, n in enumerate(names) if j != dropped]
        if joined.empty:
            break
        probe = pd.MultiIndex.from_frame(joined[subset].set_axis(names[:-1], axis=1))
        joined = joined[probe.isin(frequent_keys)]
    return joined[names].reset_index(drop=True)


def _upload(frame: pd.DataFrame) -> ibis.Table:
    schema = ibis.schema(dict.fromkeys(frame.columns, CODE_TYPE))
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
    return pd.DataFrame({"itemset": pd.Series([], dtype=object), "length": [], "count": []})
