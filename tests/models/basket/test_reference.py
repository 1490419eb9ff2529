"""One shared reference suite: every implementation must find the same itemsets and rules.

Datasets: hand-made ones with hand-computed supports, random baskets with planted
associations, and edge cases (single-item baskets, repeated items, an item in every basket, a
support exactly at the threshold). Implementations: ours on a DuckDB warehouse table, ours on a
pandas DataFrame, ours on PySpark local mode (slow), ours on PostgreSQL, and mlxtend's FP-growth
and Apriori.

The truth each implementation is compared with is independent of all of them: the hand values
where given, otherwise an exhaustive count of every combination of items with numpy (no Apriori
pruning at all). Rules are derived from the true supports with the textbook formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import ibis
import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, fpgrowth
from mlxtend.frequent_patterns import association_rules as mlxtend_rules
from mlxtend.preprocessing import TransactionEncoder

from omnicrm.models.basket import association_rules, frequent_itemsets
from omnicrm.warehouse import connect

TOLERANCE = 1e-12
METRICS = (
    "antecedent support",
    "consequent support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
)

Itemsets = dict[frozenset, float]
Rules = dict[tuple[frozenset, frozenset], dict[str, float]]


@dataclass(frozen=True)
class Dataset:
    name: str
    baskets: list[list]
    min_support: float
    max_len: int = 3
    hand_supports: Itemsets | None = field(default=None)

    def rows(self) -> pd.DataFrame:
        """(basket_id, item_id) rows, repeated items kept as given."""
        pairs = [(b, item) for b, items in enumerate(self.baskets) for item in items]
        return pd.DataFrame(pairs, columns=["basket_id", "item_id"])


def _random_baskets(seed: int, n_baskets: int, n_items: int, *, integer_items: bool) -> list[list]:
    """Zipf-like popularity plus a planted pair (0 -> 1) and a planted triple (5, 6, 7)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    chosen = rng.random((n_baskets, n_items)) < 0.45 * popularity
    chosen[:, 1] |= chosen[:, 0] & (rng.random(n_baskets) < 0.8)
    chosen[:, [5, 6, 7]] |= (rng.random(n_baskets) < 0.12)[:, None]
    labels = [f"sku{i:03d}" for i in range(n_items)]
    names = np.arange(n_items) if integer_items else np.array(labels)
    return [names[row].tolist() for row in chosen if row.any()]


GROCERIES = Dataset(
    "hand-groceries",
    [
        ["milk", "bread", "butter"],
        ["milk", "bread"],
        ["bread", "butter", "jam"],
        ["milk", "bread", "butter"],
        ["beer"],
    ],
    min_support=0.4,
    hand_supports={
        frozenset({"milk"}): 0.6,
        frozenset({"bread"}): 0.8,
        frozenset({"butter"}): 0.6,
        frozenset({"bread", "milk"}): 0.6,
        frozenset({"butter", "milk"}): 0.4,
        frozenset({"bread", "butter"}): 0.6,
        frozenset({"bread", "butter", "milk"}): 0.4,
    },
)
DUPLICATES = Dataset(
    "duplicate-items",
    [["a", "a", "b"], ["a", "b", "b", "b"], ["a"], ["c", "c"]],
    min_support=0.5,
    hand_supports={frozenset({"a"}): 0.75, frozenset({"b"}): 0.5, frozenset({"a", "b"}): 0.5},
)
SINGLES = Dataset(
    "single-item-baskets",
    [["a"], ["b"], ["a"], ["c"], ["a"]],
    min_support=0.2,
    hand_supports={frozenset({"a"}): 0.6, frozenset({"b"}): 0.2, frozenset({"c"}): 0.2},
)
EVERYWHERE = Dataset(
    "item-in-every-basket",
    [["x", "a"], ["x", "b"], ["x", "a", "b"], ["x"]],
    min_support=0.25,
    hand_supports={
        frozenset({"x"}): 1.0,
        frozenset({"a"}): 0.5,
        frozenset({"b"}): 0.5,
        frozenset({"a", "x"}): 0.5,
        frozenset({"b", "x"}): 0.5,
        frozenset({"a", "b"}): 0.25,
        frozenset({"a", "b", "x"}): 0.25,
    },
)
PLANTED = Dataset(
    "random-planted", _random_baskets(7, 400, 40, integer_items=False), min_support=0.02
)
INTEGERS = Dataset(
    "random-integers-len4",
    _random_baskets(11, 300, 24, integer_items=True),
    min_support=0.04,
    max_len=4,
)
# 0.07 * 100 = 7.000000000000001: an itemset in exactly 7 of 100 baskets must be kept
AT_THRESHOLD = Dataset(
    "support-at-threshold",
    _random_baskets(3, 130, 20, integer_items=False)[:100],
    min_support=0.07,
)
DATASETS = [GROCERIES, DUPLICATES, SINGLES, EVERYWHERE, PLANTED, INTEGERS, AT_THRESHOLD]
HAND_MADE = [d for d in DATASETS if d.hand_supports is not None]


# --- the independent truth -------------------------------------------------------------------


def brute_force_itemsets(dataset: Dataset) -> Itemsets:
    """Count every combination of up to max_len items in a one-hot matrix (no pruning)."""
    items = sorted({item for basket in dataset.baskets for item in basket})
    position = {item: j for j, item in enumerate(items)}
    onehot = np.zeros((len(dataset.baskets), len(items)), dtype=bool)
    for i, basket in enumerate(dataset.baskets):
        onehot[i, [position[item] for item in basket]] = True
    n = len(dataset.baskets)
    truth: Itemsets = {}
    for size in range(1, dataset.max_len + 1):
        combos = np.array(list(combinations(range(len(items)), size)), dtype=np.int64)
        if combos.size == 0:
            break
        counts = onehot[:, combos].all(axis=2).sum(axis=0)
        for combo, count in zip(combos, counts, strict=True):
            if count / n >= dataset.min_support:
                truth[frozenset(items[j] for j in combo)] = count / n
    return truth


def textbook_rules(supports: Itemsets) -> Rules:
    rules: Rules = {}
    for itemset, s_ac in supports.items():
        for size in range(1, len(itemset)):
            for antecedent in map(frozenset, combinations(sorted(itemset), size)):
                consequent = itemset - antecedent
                s_a, s_c = supports[antecedent], supports[consequent]
                confidence = s_ac / s_a
                rules[(antecedent, consequent)] = {
                    "antecedent support": s_a,
                    "consequent support": s_c,
                    "support": s_ac,
                    "confidence": confidence,
                    "lift": confidence / s_c,
                    "leverage": s_ac - s_a * s_c,
                    "conviction": math.inf if confidence == 1 else (1 - s_c) / (1 - confidence),
                }
    return rules


def truth(dataset: Dataset) -> Itemsets:
    if dataset.hand_supports is not None:
        return dataset.hand_supports
    return brute_force_itemsets(dataset)


# --- the implementations ---------------------------------------------------------------------


def _ours(frame_or_table, dataset: Dataset) -> tuple[Itemsets, Rules]:
    itemsets = frequent_itemsets(
        frame_or_table, min_support=dataset.min_support, max_len=dataset.max_len
    )
    rules = association_rules(itemsets)
    found = {frozenset(k): s for k, s in zip(itemsets["itemset"], itemsets["support"], strict=True)}
    derived = {
        (frozenset(row.antecedent), frozenset(row.consequent)): {
            metric: getattr(row, metric.replace(" ", "_")) for metric in METRICS
        }
        for row in rules.itertuples(index=False)
    }
    return found, derived


def ours_on_duckdb(dataset: Dataset) -> tuple[Itemsets, Rules]:
    con = connect("duckdb://:memory:")
    try:
        table = con.create_table("baskets", dataset.rows())
        return _ours(table, dataset)
    finally:
        con.disconnect()


def ours_on_pandas(dataset: Dataset) -> tuple[Itemsets, Rules]:
    return _ours(dataset.rows(), dataset)


def _mlxtend(algorithm: Callable, dataset: Dataset) -> tuple[Itemsets, Rules]:
    encoder = TransactionEncoder()
    onehot = encoder.fit(dataset.baskets).transform(dataset.baskets)
    frame = pd.DataFrame(onehot, columns=[str(c) for c in encoder.columns_])
    back = {str(c): c for c in encoder.columns_}  # integer items: mlxtend wants str columns
    itemsets = algorithm(
        frame, min_support=dataset.min_support, use_colnames=True, max_len=dataset.max_len
    )
    itemsets["itemsets"] = itemsets["itemsets"].map(lambda s: frozenset(back[c] for c in s))
    found = dict(zip(itemsets["itemsets"], itemsets["support"], strict=True))
    if not any(len(k) > 1 for k in found):
        return found, {}
    with np.errstate(invalid="ignore", divide="ignore"):  # its 'certainty' metric when s(C) = 1
        rules = mlxtend_rules(
            itemsets, num_itemsets=len(frame), metric="confidence", min_threshold=0
        )
    derived = {
        (row["antecedents"], row["consequents"]): {metric: row[metric] for metric in METRICS}
        for _, row in rules.iterrows()
    }
    return found, derived


IMPLEMENTATIONS = {
    "ours-duckdb": ours_on_duckdb,
    "ours-pandas": ours_on_pandas,
    "mlxtend-fpgrowth": lambda d: _mlxtend(fpgrowth, d),
    "mlxtend-apriori": lambda d: _mlxtend(apriori, d),
}


def assert_same_itemsets(got: Itemsets, want: Itemsets) -> None:
    assert set(got) == set(want), (
        f"missing {sorted(map(sorted, set(want) - set(got)))[:5]}, "
        f"extra {sorted(map(sorted, set(got) - set(want)))[:5]}"
    )
    for itemset, support in want.items():
        assert got[itemset] == pytest.approx(support, rel=TOLERANCE, abs=TOLERANCE), itemset


def assert_same_rules(got: Rules, want: Rules) -> None:
    assert set(got) == set(want)
    for rule, metrics in want.items():
        for metric, value in metrics.items():
            assert got[rule][metric] == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE), (
                rule,
                metric,
            )


# --- the suite ---------------------------------------------------------------------------------

by_name = pytest.mark.parametrize("dataset", DATASETS, ids=[d.name for d in DATASETS])

# mlxtend 0.25 fpgrowth keeps single items with support >= min_support but mines larger
# itemsets with count >= ceil(min_support * n): ceil(0.07 * 100) = 8, so pairs in exactly
# 7 of 100 baskets are lost. strict: this test starts failing (and can be un-marked) once fixed.
FPGROWTH_CEIL_BUG = pytest.mark.xfail(
    reason="mlxtend fpgrowth: ceil(min_support * n) drops itemsets at the threshold", strict=True
)


def _known_bug(dataset: Dataset, implementation_name: str) -> list:
    affected = dataset is AT_THRESHOLD and "fpgrowth" in implementation_name
    return [FPGROWTH_CEIL_BUG] if affected else []


def _cases() -> list:
    return [
        pytest.param(
            dataset, implementation, id=f"{name}-{dataset.name}", marks=_known_bug(dataset, name)
        )
        for dataset in DATASETS
        for name, implementation in IMPLEMENTATIONS.items()
    ]


def _cross_cases() -> list:
    ours = {"duckdb": ours_on_duckdb, "pandas": ours_on_pandas}
    theirs = {"fpgrowth": fpgrowth, "apriori": apriori}
    return [
        pytest.param(
            dataset,
            our,
            their,
            id=f"{our_name}-vs-{their_name}-{dataset.name}",
            marks=_known_bug(dataset, their_name),
        )
        for dataset in DATASETS
        for our_name, our in ours.items()
        for their_name, their in theirs.items()
    ]


@pytest.mark.parametrize(("dataset", "implementation"), _cases())
def test_itemsets_and_rules_match_the_truth(dataset: Dataset, implementation) -> None:
    itemsets, rules = implementation(dataset)
    want = truth(dataset)
    assert_same_itemsets(itemsets, want)
    assert_same_rules(rules, textbook_rules(want))


@pytest.mark.parametrize(("dataset", "ours", "reference"), _cross_cases())
def test_ours_is_identical_to_mlxtend(dataset: Dataset, ours, reference) -> None:
    our_itemsets, our_rules = ours(dataset)
    their_itemsets, their_rules = _mlxtend(reference, dataset)
    assert_same_itemsets(our_itemsets, their_itemsets)
    assert_same_rules(our_rules, their_rules)


@pytest.mark.parametrize("dataset", HAND_MADE, ids=[d.name for d in HAND_MADE])
def test_the_exhaustive_oracle_agrees_with_the_hand_counts(dataset: Dataset) -> None:
    assert_same_itemsets(brute_force_itemsets(dataset), dataset.hand_supports)


def test_random_datasets_carry_the_planted_associations() -> None:
    rules = textbook_rules(brute_force_itemsets(PLANTED))
    assert rules[(frozenset({"sku000"}), frozenset({"sku001"}))]["confidence"] > 0.8
    assert rules[(frozenset({"sku005", "sku006"}), frozenset({"sku007"}))]["lift"] > 3


def test_threshold_dataset_has_an_itemset_exactly_at_min_support() -> None:
    assert len(AT_THRESHOLD.baskets) == 100
    assert 0.07 in truth(AT_THRESHOLD).values()


# --- PySpark local mode ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    con = connect("pyspark://local[2]")
    yield con
    con.disconnect()


@pytest.mark.spark
@pytest.mark.slow
@by_name
def test_same_itemsets_and_rules_on_pyspark(spark, dataset: Dataset) -> None:
    # a temporary view: nothing is written to the Spark warehouse folder
    view_name = "baskets_" + dataset.name.replace("-", "_")
    table = spark.create_view(view_name, ibis.memtable(dataset.rows()), overwrite=True)
    itemsets, rules = _ours(table, dataset)
    want = truth(dataset)
    assert_same_itemsets(itemsets, want)
    assert_same_rules(rules, textbook_rules(want))


# --- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres(postgres_url):
    con = connect(postgres_url)
    yield con
    con.disconnect()


@pytest.mark.postgres
@by_name
def test_same_itemsets_and_rules_on_postgresql(postgres, dataset: Dataset) -> None:
    # a temporary table: gone when the connection closes
    table_name = "baskets_" + dataset.name.replace("-", "_")
    table = postgres.create_table(table_name, dataset.rows(), temp=True, overwrite=True)
    itemsets, rules = _ours(table, dataset)
    want = truth(dataset)
    assert_same_itemsets(itemsets, want)
    assert_same_rules(rules, textbook_rules(want))
