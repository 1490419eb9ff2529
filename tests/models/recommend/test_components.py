"""Behaviour of each recommender on small hand-made histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.recommend import (
    ALSRecommender,
    HybridRecommender,
    Interactions,
    ItemKNNRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
    RepeatPurchaseRecommender,
    item_similarity,
    similar_products,
    top_k,
)


def frame(rows: list[tuple[str, str, str]], **extra) -> pd.DataFrame:
    c, i, t = zip(*rows, strict=True)
    return pd.DataFrame(
        {"customer_id": c, "item_id": i, "ts": pd.to_datetime(t, utc=True), **extra}
    )


def test_top_k_breaks_ties_by_column_and_puts_nan_last():
    scores = np.array([[1.0, 3.0, 3.0, np.nan], [np.nan, np.nan, 2.0, np.nan]])
    assert top_k(scores, 3).tolist() == [[1, 2, 0], [2, 0, 1]]


def test_interactions_refuse_missing_columns_nulls_and_returns():
    good = frame([("a", "x", "2026-01-01")])
    with pytest.raises(InputError, match=r"lack column.*ts"):
        Interactions.from_frame(good.drop(columns="ts"))
    with pytest.raises(InputError, match="'item_id' is empty in row 0"):
        Interactions.from_frame(good.assign(item_id=[None]))
    with pytest.raises(InputError, match=r"quantity -1\.0 is not a positive number"):
        Interactions.from_frame(good.assign(quantity=[-1.0]))
    with pytest.raises(InputError, match="'ts' has 'soon'"):
        Interactions.from_frame(good.assign(ts=["soon"]))
    with pytest.raises(InputError, match="pandas DataFrame"):
        Interactions.from_frame([("a", "x")])


def test_popularity_counts_buyers_not_purchases():
    f = frame(
        [
            ("a", "milk", "2026-01-01"),
            ("a", "milk", "2026-01-02"),
            ("a", "milk", "2026-01-03"),
            ("b", "bread", "2026-01-01"),
            ("c", "bread", "2026-01-02"),
        ]
    )
    recs = PopularityRecommender().fit(f).recommend(["a"], k=2)
    assert recs["item_id"].tolist() == ["bread", "milk"]
    assert recs["reason"].tolist() == [
        "popular: bought by 2 customers",
        "popular: bought by 1 customers",
    ]


def test_trending_prefers_items_rising_in_the_recent_window():
    rows = [(f"old{i}", "steady", "2026-01-10") for i in range(20)]
    rows += [(f"new{i}", "steady", "2026-06-20") for i in range(3)]
    rows += [(f"new{i}", "rising", "2026-06-25") for i in range(3)]
    model = PopularityRecommender(kind="trending", recent_days=28, long_days=182).fit(frame(rows))
    recs = model.recommend(["old0"], k=2)
    assert recs["item_id"].tolist() == ["rising", "steady"]
    assert recs["reason"].iloc[0].startswith("trending: 4.0x")


def test_segment_popularity_needs_segments():
    with pytest.raises(InputError, match="kind='segment' needs segments"):
        PopularityRecommender(kind="segment").fit(frame([("a", "x", "2026-01-01")]))
    with pytest.raises(InputError, match="kind='weird'"):
        PopularityRecommender(kind="weird").fit(frame([("a", "x", "2026-01-01")]))


def test_repeat_ranks_the_due_staple_first_and_says_its_cycle():
    rows = [("a", "milk", d) for d in ("2026-01-01", "2026-01-08", "2026-01-15", "2026-01-22")]
    rows += [("a", "coffee", d) for d in ("2025-10-01", "2025-11-01", "2025-12-01", "2026-01-21")]
    rows += [("a", "tv", "2026-01-10")]
    recs = RepeatPurchaseRecommender().fit(frame(rows)).recommend(["a"], k=3)
    # milk (weekly, due tomorrow) before coffee (every ~31 days, bought 2 days ago)
    assert recs["item_id"].tolist() == ["milk", "coffee", "tv"]
    assert recs["reason"].tolist() == [
        "you buy this every ~7 days",
        "you buy this every ~31 days",
        "you bought this before",
    ]


def test_repeat_settings_are_checked():
    f = frame([("a", "x", "2026-01-01")])
    with pytest.raises(InputError, match="half_life_days=0 must be a positive number"):
        RepeatPurchaseRecommender(half_life_days=0).fit(f)
    with pytest.raises(InputError, match="min_purchases=1"):
        RepeatPurchaseRecommender(min_purchases=1).fit(f)


def test_personal_frequency_counts_distinct_days():
    f = frame(
        [
            ("a", "x", "2026-01-01"),
            ("a", "x", "2026-01-01"),
            ("a", "y", "2026-01-02"),
            ("a", "y", "2026-01-03"),
        ]
    )
    recs = PersonalFrequencyRecommender().fit(f).recommend(["a"], k=2)
    assert recs["item_id"].tolist() == ["y", "x"]
    assert recs["reason"].tolist() == ["you bought this 2 times", "you bought this before"]


def test_item_similarity_cosine_and_jaccard_by_hand():
    # x bought by 1,2,3; y by 2,3; z by 3
    import scipy.sparse as sp

    x = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=float))
    cos = item_similarity(x, similarity="cosine").toarray()
    assert cos[0, 1] == pytest.approx(2 / np.sqrt(3 * 2))
    assert cos[1, 2] == pytest.approx(1 / np.sqrt(2))
    jac = item_similarity(x, similarity="jaccard").toarray()
    assert jac[0, 1] == pytest.approx(2 / 3)
    assert jac[0, 2] == pytest.approx(1 / 3)
    assert np.diag(cos).tolist() == [0, 0, 0]
    pruned = item_similarity(x, neighbours=1).toarray()
    assert (pruned > 0).sum(axis=1).tolist() == [1, 1, 1]


def test_knn_names_the_history_item_in_its_reason():
    f = frame(
        [
            ("a", "pasta", "2026-01-01"),
            ("a", "sauce", "2026-01-01"),
            ("b", "pasta", "2026-01-02"),
            ("b", "sauce", "2026-01-02"),
            ("c", "pasta", "2026-01-03"),
        ]
    )
    model = ItemKNNRecommender().fit(f, item_names={"pasta": "Spaghetti 500g"})
    recs = model.recommend(["c"], k=1)
    assert recs[["item_id", "reason"]].values.tolist() == [
        ["sauce", "often bought with Spaghetti 500g"]
    ]


def test_als_is_reproducible_and_checks_settings(planted):
    a = ALSRecommender(factors=4, iterations=3, random_state=5).fit(planted)
    b = ALSRecommender(factors=4, iterations=3, random_state=5).fit(planted)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    with pytest.raises(InputError, match="factors=0"):
        ALSRecommender(factors=0).fit(planted)


def test_hybrid_learns_weights_that_beat_equal_weights_on_validation(planted):
    model = HybridRecommender(
        components={"repeat": RepeatPurchaseRecommender(), "popular": PopularityRecommender()},
        grid=(0.0, 1.0, 4.0),
        passes=1,
    ).fit(planted)
    assert model.weights_source_.startswith("learned")
    v = model.validation_
    assert v["recall@10"] >= max(v["recall@10[repeat]"], v["recall@10[popular]"]) - 1e-12
    assert set(model.weights_) == {"repeat", "popular"}


def test_hybrid_with_given_weights_and_bad_weights(planted):
    comps = {"repeat": RepeatPurchaseRecommender(), "popular": PopularityRecommender()}
    model = HybridRecommender(components=comps, weights={"repeat": 1.0}).fit(planted)
    assert model.weights_ == {"repeat": 1.0, "popular": 0.0}
    with pytest.raises(InputError, match="name only the components"):
        HybridRecommender(components=comps, weights={"als": 1.0}).fit(planted)
    with pytest.raises(InputError, match="every weight is 0"):
        HybridRecommender(components=comps, weights={"repeat": 0.0}).fit(planted)
    with pytest.raises(InputError, match="not a recommender"):
        HybridRecommender(components={"x": object()}).fit(planted)


def test_hybrid_too_short_history_keeps_equal_weights():
    f = frame([("a", "x", "2026-01-01"), ("b", "y", "2026-01-02")])
    model = HybridRecommender(components={"pop": PopularityRecommender()}).fit(f)
    assert model.weights_ == {"pop": 1.0}
    assert model.weights_source_.startswith("equal")


def test_recommenders_refuse_to_be_saved(tmp_path):
    model = PopularityRecommender().fit(frame([("a", "x", "2026-01-01")]))
    with pytest.raises(InputError, match="recommendations table"):
        model.save(tmp_path / "m.json")


PRODUCTS = pd.DataFrame(
    {
        "product_id": ["new", "a", "b", "c", "d"],
        "category": ["Dairy", "Dairy", "Dairy", "Bakery", None],
        "subcategory": ["Yogurt", "Yogurt", "Milk", "Bread", None],
        "brand": ["Farm", "Other", "Farm", "Farm", "Farm"],
        "unit_price": [3.0, 3.0, 6.0, 3.0, None],
    }
)


def test_new_product_gets_neighbours_by_category_brand_and_price():
    out = similar_products(PRODUCTS, ["new"], k=4)
    assert out["similar_id"].tolist() == ["a", "b", "c", "d"]
    assert out["score"].round(4).tolist() == [
        0.5 + 0.2 + 0.15,
        round(0.5 + 0.15 + 0.15 * 0.5, 4),
        0.15 + 0.15,
        0.15,
    ]
    assert out["reason"].tolist()[0] == "same category, same subcategory"
    assert (out["item_id"] == "new").all()


def test_new_product_input_errors():
    with pytest.raises(InputError, match="'ghost' is not in the catalogue"):
        similar_products(PRODUCTS, ["ghost"])
    with pytest.raises(InputError, match="need columns product_id and category"):
        similar_products(PRODUCTS.drop(columns="category"), ["new"])
    with pytest.raises(InputError, match="unknown attribute"):
        similar_products(PRODUCTS, ["new"], weights={"colour": 1.0})
