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
    support = itemsets["support"].to_numpy(dtype="float64")
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    # Items become integer codes in ascending item order, so an itemset is a row of codes and
    # every look-up, filter and sort below works on integer arrays, never on tuples.
    flat = np.array([item for key in keys for item in key], dtype=object)
    codes, labels = pd.factorize(flat, sort=True)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    tables = {
        size: _SizeTable(np.flatnonzero(lengths == size), codes, starts, size)
        for size in np.unique(lengths).tolist()
    }
    for table in tables.values():
        table.check_unique(labels)

    parts = [_split(table, tables, support, labels) for size, table in tables.items() if size >= 2]
    parts = [p for p in parts if p is not None]
    if not parts:
        return _empty_rules()
    width = max(tables)
    antecedent = np.concatenate([_pad(p["antecedent"], width) for p in parts])
    consequent = np.concatenate([_pad(p["consequent"], width) for p in parts])
    s_a, s_c, s_ac = (np.concatenate([p[name] for p in parts]) for name in ("s_a", "s_c", "s_ac"))

    confidence = s_ac / s_a
    lift = confidence / s_c
    keep = np.flatnonzero((confidence >= min_confidence) & (lift >= min_lift))
    # confidence, lift and support descending, then antecedent and consequent ascending (codes
    # are in item order; a shorter itemset, padded with -1, sorts before its extensions)
    order = np.lexsort(
        [
            *consequent[keep].T[::-1],
            *antecedent[keep].T[::-1],
            -s_ac[keep],
            -lift[keep],
            -confidence[keep],
        ]
    )
    keep = keep[order]
    confidence, s_a, s_c, s_ac = confidence[keep], s_a[keep], s_c[keep], s_ac[keep]
    below_one = confidence < 1.0
    conviction = np.full(len(confidence), np.inf)
    conviction[below_one] = (1.0 - s_c[below_one]) / (1.0 - confidence[below_one])
    return pd.DataFrame(
        {
            "antecedent": _tuples(antecedent[keep], labels),
            "consequent": _tuples(consequent[keep], labels),
            "antecedent_support": s_a,
            "consequent_support": s_c,
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
            "leverage": s_ac - s_a * s_c,
            "conviction": conviction,
        }
    )


class _SizeTable:
    """The itemsets of one size: their rows, their codes as an (m, size) array, a look-up."""

    def __init__(self, rows: np.ndarray, codes: np.ndarray, starts: np.ndarray, size: int):
        self.rows = rows
        self.codes = codes[starts[rows][:, None] + np.arange(size)]
        self.index = pd.MultiIndex.from_arrays(list(self.codes.T))

    def check_unique(self, labels: np.ndarray) -> None:
        repeated = self.index.duplicated()
        if repeated.any():
            key = tuple(labels[self.codes[int(np.flatnonzero(repeated)[0])]].tolist())
            raise InputError(
                f"itemsets lists the itemset {key!r} more than once: pass each itemset once "
                "(e.g. itemsets.drop_duplicates('itemset'))"
            )

    def find(self, wanted: np.ndarray, labels: np.ndarray, role: str) -> np.ndarray:
        """Rows (in the itemsets frame) of the itemsets given as an (n, size) code array."""
        found = self.index.get_indexer(pd.MultiIndex.from_arrays(list(wanted.T)))
        if (found < 0).any():
            _missing(wanted[int(np.flatnonzero(found < 0)[0])], labels, role)
        return self.rows[found]


def _split(
    table: _SizeTable, tables: dict[int, _SizeTable], support: np.ndarray, labels: np.ndarray
) -> dict[str, list[np.ndarray] | np.ndarray] | None:
    """Every (antecedent, consequent) split of one size's itemsets, with the three supports."""
    size = table.codes.shape[1]
    if len(table.rows) == 0:
        return None
    antecedents, consequents, s_a, s_c = [], [], [], []
    positions = range(size)
    for n_antecedent in range(1, size):
        for chosen in combinations(positions, n_antecedent):
            rest = [p for p in positions if p not in chosen]
            for part, store, supports, role in (
                (list(chosen), antecedents, s_a, "antecedent"),
                (rest, consequents, s_c, "consequent"),
            ):
                codes = table.codes[:, part]
                if len(part) not in tables:
                    _missing(codes[0], labels, role)
                store.append(codes)
                supports.append(support[tables[len(part)].find(codes, labels, role)])
    repeats = len(antecedents)
    return {
        "antecedent": antecedents,
        "consequent": consequents,
        "s_a": np.concatenate(s_a),
        "s_c": np.concatenate(s_c),
        "s_ac": np.tile(support[table.rows], repeats),
    }


def _pad(parts: list[np.ndarray], width: int) -> np.ndarray:
    """Stack code arrays of different widths into one (n, width) array, padded with -1."""
    return np.concatenate(
        [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=-1) for p in parts]
    )


def _tuples(codes: np.ndarray, labels: np.ndarray) -> pd.Series:
    """Tuples of item labels from an (n, width) code array padded with -1."""
    result = np.empty(len(codes), dtype=object)
    widths = (codes >= 0).sum(axis=1)
    for width in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == width)
        columns = [labels[codes[rows, j]] for j in range(width)]
        result[rows] = np.fromiter(zip(*columns, strict=True), dtype=object, count=len(rows))
    return pd.Series(result, dtype=object)


def _missing(codes: np.ndarray, labels: np.ndarray, role: str) -> None:
    missing = tuple(labels[codes].tolist())
    raise InputError(
        f"itemsets lacks the {role} {missing!r}, a subset of a listed itemset: pass the "
        "complete result of frequent_itemsets() (do not filter it before making rules)"
    )


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
