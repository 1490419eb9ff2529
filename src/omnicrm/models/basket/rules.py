"""Association rules from frequent itemsets: every split of each itemset into A -> C.

For a rule A -> C over N baskets, with s(X) the share of baskets holding every item of X
(Agrawal, Imieliński & Swami 1993; Brin, Motwani, Ullman & Tsur 1997 for conviction;
Piatetsky-Shapiro 1991 for leverage):

* support     s(A ∪ C)
* confidence  s(A ∪ C) / s(A)
* lift        confidence / s(C)
* leverage    s(A ∪ C) − s(A)·s(C)
* conviction  (1 − s(C)) / (1 − confidence), infinite when confidence = 1

These are the definitions and column meanings of ``mlxtend.frequent_patterns.association_rules``,
which the test-suite uses as the reference.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.basket import association_rules, frequent_itemsets
>>> baskets = pd.DataFrame({
...     "basket_id": [1, 1, 2, 2, 3, 4],
...     "item_id": ["milk", "bread", "milk", "bread", "milk", "eggs"],
... })
>>> itemsets = frequent_itemsets(baskets, min_support=0.25)
>>> rules = association_rules(itemsets, min_confidence=0.6)
>>> rules[["antecedent", "consequent", "confidence", "lift"]]
  antecedent consequent  confidence      lift
0   (bread,)    (milk,)    1.000000  1.333333
1    (milk,)   (bread,)    0.666667  1.333333
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.basket.checks import (
    check_fraction,
    check_frame_columns,
    check_non_negative,
)

RULE_COLUMNS = (
    "antecedent",
    "consequent",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
)


def association_rules(
    itemsets: pd.DataFrame,
    *,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
) -> pd.DataFrame:
    """Every rule A -> C that splits a frequent itemset, with its strength metrics.

    Parameters
    ----------
    itemsets : pandas.DataFrame
        Frequent itemsets with columns ``itemset`` (tuple of items) and ``support``, as
        returned by :func:`~omnicrm.models.basket.frequent_itemsets`. Every subset of an itemset
        must be present too (true of any frequent-itemset result, by the Apriori property).
    min_confidence : float
        Keep rules with ``confidence >= min_confidence`` (in [0, 1]).
    min_lift : float
        Keep rules with ``lift >= min_lift`` (>= 0; 1 means "no better than chance").

    Returns
    -------
    pandas.DataFrame
        One row per rule: ``antecedent`` and ``consequent`` (tuples of items in ascending
        order, disjoint), ``antecedent_support``, ``consequent_support``, ``support``,
        ``confidence``, ``lift``, ``leverage`` and ``conviction`` (``inf`` when
        confidence = 1). Ordered by confidence, lift and support (descending), then by
        antecedent and consequent.

    Raises
    ------
    InputError
        For a missing column, repeated itemsets, an itemset whose subset is missing, or a
        threshold out of range.

    Examples
    --------
    >>> import pandas as pd
    >>> sets = pd.DataFrame({"itemset": [("a",), ("b",), ("a", "b")], "support": [0.5, 0.5, 0.5]})
    >>> association_rules(sets)[["antecedent", "consequent", "confidence", "conviction"]]
      antecedent consequent  confidence  conviction
    0       (a,)       (b,)         1.0         inf
    1       (b,)       (a,)         1.0         inf
    """
    check_frame_columns(
        itemsets, ["itemset", "support"], name="itemsets", made_by="frequent_itemsets()"
    )
    min_confidence = check_fraction("min_confidence", min_confidence, allow_zero=True)
    min_lift = check_non_negative("min_lift", min_lift)

    keys = [tuple(sorted(items)) for items in itemsets["itemset"]]
    index = pd.Index(keys, tupleize_cols=False, dtype=object)
    if not index.is_unique:
        repeated = index[index.duplicated()][0]
        raise InputError(
            f"itemsets lists the itemset {repeated!r} more than once: pass each itemset once "
            "(e.g. itemsets.drop_duplicates('itemset'))"
        )
    support = itemsets["support"].to_numpy(dtype="float64")
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))

    parts = [
        _split(np.array([keys[i] for i in np.flatnonzero(lengths == size)], dtype=object), size)
        for size in sorted(set(lengths.tolist()))
        if size >= 2
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_rules()
    rules = pd.concat(parts, ignore_index=True)

    s_ac = support[_positions(index, rules["whole"], "itemset")]
    s_a = support[_positions(index, rules["antecedent"], "antecedent")]
    s_c = support[_positions(index, rules["consequent"], "consequent")]
    confidence = s_ac / s_a
    below_one = confidence < 1.0
    conviction = np.full(len(confidence), np.inf)
    conviction[below_one] = (1.0 - s_c[below_one]) / (1.0 - confidence[below_one])
    result = pd.DataFrame(
        {
            "antecedent": rules["antecedent"],
            "consequent": rules["consequent"],
            "antecedent_support": s_a,
            "consequent_support": s_c,
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
            "leverage": s_ac - s_a * s_c,
            "conviction": conviction,
        }
    )
    keep = (result["confidence"] >= min_confidence) & (result["lift"] >= min_lift)
    result = result[keep.to_numpy()]
    return result.sort_values(
        ["confidence", "lift", "support", "antecedent", "consequent"],
        ascending=[False, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)[list(RULE_COLUMNS)]


def _split(items: np.ndarray, size: int) -> pd.DataFrame:
    """All (antecedent, consequent) splits of ``size``-itemsets given as an (m, size) array."""
    if items.size == 0:
        return pd.DataFrame()
    items = items.reshape(len(items), size)
    whole = _tuples(items)
    frames = []
    positions = range(size)
    for n_antecedent in range(1, size):
        for chosen in combinations(positions, n_antecedent):
            rest = [p for p in positions if p not in chosen]
            frames.append(
                pd.DataFrame(
                    {
                        "whole": whole,
                        "antecedent": _tuples(items[:, list(chosen)]),
                        "consequent": _tuples(items[:, rest]),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _tuples(items: np.ndarray) -> pd.Series:
    return pd.Series(list(map(tuple, items.tolist())), dtype=object)


def _positions(index: pd.Index, wanted: pd.Series, role: str) -> np.ndarray:
    found = index.get_indexer(pd.Index(wanted.to_list(), tupleize_cols=False, dtype=object))
    if (found < 0).any():
        missing = wanted.iloc[int(np.flatnonzero(found < 0)[0])]
        raise InputError(
            f"itemsets lacks the {role} {missing!r}, a subset of a listed itemset: pass the "
            "complete result of frequent_itemsets() (do not filter it before making rules)"
        )
    return found


def _empty_rules() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "antecedent": pd.Series([], dtype=object),
            "consequent": pd.Series([], dtype=object),
        }
    )
    for column in RULE_COLUMNS[2:]:
        frame[column] = pd.Series([], dtype="float64")
    return frame
