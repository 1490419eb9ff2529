"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.recommend import (
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    repeat_explore_recall,
)

# customer a: list x, y, z; bought y and w  -> 1 hit at rank 2
# customer b: list z, x;    bought z        -> 1 hit at rank 1
# customer c: no list;      bought q        -> 0 hits
RECS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b"],
        "item_id": ["x", "y", "z", "z", "x"],
        "rank": [1, 2, 3, 1, 2],
    }
)
TRUTH = pd.DataFrame(
    {"customer_id": ["a", "a", "b", "c", "c"], "item_id": ["y", "w", "z", "q", "q"]}
)


def test_ranking_metrics_by_hand():
    m = ranking_metrics(RECS, TRUTH, k=3)
    assert m["precision"] == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    ndcg_a = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg"] == pytest.approx((ndcg_a + 1.0 + 0.0) / 3)
    assert m["hit_rate"] == pytest.approx(2 / 3)


def test_only_ranks_up_to_k_count():
    m = ranking_metrics(RECS, TRUTH, k=1)
    # a's hit is at rank 2: gone; b keeps its rank-1 hit
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["ndcg"] == pytest.approx(1 / 3)


def test_repeated_truth_rows_count_once():
    doubled = pd.concat([TRUTH, TRUTH])
    assert ranking_metrics(RECS, doubled, k=3) == ranking_metrics(RECS, TRUTH, k=3)


def test_coverage_diversity_novelty_by_hand():
    assert catalogue_coverage(RECS, n_items=6) == pytest.approx(3 / 6)
    assert catalogue_coverage(RECS, n_items=6, k=1) == pytest.approx(2 / 6)
    cats = {"x": "Dairy", "y": "Dairy", "z": "Bakery"}
    # a: pairs (x,y) same, (x,z) (y,z) differ -> 2/3; b: (z,x) differ -> 1
    assert intra_list_diversity(RECS, cats) == pytest.approx((2 / 3 + 1) / 2)
    # an item without a category is its own category
    assert intra_list_diversity(RECS, {"x": "Dairy", "y": "Dairy"}) == pytest.approx(
        (2 / 3 + 1) / 2
    )
    buyers = {"x": 8, "y": 2, "z": 1}
    expected = (2 * -math.log2(8 / 8) + -math.log2(2 / 8) + 2 * -math.log2(1 / 8)) / 5
    assert novelty(RECS, buyers, n_customers=8) == pytest.approx(expected)


def test_repeat_and_explore_recall_by_hand():
    history = pd.DataFrame({"customer_id": ["a", "b"], "item_id": ["y", "x"]})
    out = repeat_explore_recall(RECS, TRUTH, history, k=3)
    # repeat test items: (a, y) -> hit.  explore: (a, w) miss, (b, z) hit, (c, q) miss
    assert out["recall_repeat"] == pytest.approx(1.0)
    assert out["recall_explore"] == pytest.approx((0 + 1 + 0) / 3)
    assert out["repeat_share"] == pytest.approx(1 / 4)


def test_metric_input_errors():
    with pytest.raises(InputError, match="truth is empty"):
        ranking_metrics(RECS, TRUTH.iloc[:0], k=3)
    with pytest.raises(InputError, match=r"recs lacks column.*rank"):
        ranking_metrics(RECS.drop(columns="rank"), TRUTH, k=3)
    with pytest.raises(InputError, match="k=0"):
        ranking_metrics(RECS, TRUTH, k=0)
    with pytest.raises(InputError, match="n_items=0"):
        catalogue_coverage(RECS, 0)
