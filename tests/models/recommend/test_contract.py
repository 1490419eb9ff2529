"""One interface, every recommender: the contract every class must keep.

Like mlxtend's shared ``fpbase`` tests, the same checks run against every recommender.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.recommend import (
    OUTPUT_COLUMNS,
    ALSRecommender,
    HybridRecommender,
    ItemKNNRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
    RepeatPurchaseRecommender,
)

FACTORIES = {
    "popularity": lambda: PopularityRecommender(),
    "trending": lambda: PopularityRecommender(kind="trending"),
    "segment": lambda: PopularityRecommender(kind="segment"),
    "frequency": lambda: PersonalFrequencyRecommender(),
    "repeat": lambda: RepeatPurchaseRecommender(),
    "knn_cosine": lambda: ItemKNNRecommender(),
    "knn_jaccard": lambda: ItemKNNRecommender(similarity="jaccard", neighbours=10),
    "als": lambda: ALSRecommender(factors=8, iterations=5, random_state=1),
    "hybrid": lambda: HybridRecommender(
        components={
            "repeat": RepeatPurchaseRecommender(),
            "knn": ItemKNNRecommender(),
            "als": ALSRecommender(factors=8, iterations=5),
            "popular": PopularityRecommender(),
        },
        grid=(0.0, 1.0, 2.0),
        passes=1,
    ),
}

K = 5


def _segments(frame: pd.DataFrame) -> pd.DataFrame:
    ids = np.sort(frame["customer_id"].unique())
    seg = np.where(np.arange(len(ids)) % 2 == 0, "Loyal", "New")
    return pd.DataFrame({"customer_id": np.r_[ids, ["NEWBIE"]], "segment": np.r_[seg, ["Loyal"]]})


@pytest.fixture(params=list(FACTORIES), scope="module")
def fitted(request, planted):
    model = FACTORIES[request.param]()
    model.fit(planted, segments=_segments(planted))
    return request.param, model


@pytest.fixture(scope="module")
def customers(planted):
    return list(np.sort(planted["customer_id"].unique())[:40])


def test_output_columns_and_types(fitted, customers):
    _, model = fitted
    recs = model.recommend(customers, K)
    assert tuple(recs.columns) == OUTPUT_COLUMNS
    assert recs["rank"].dtype == np.int64
    assert recs["score"].dtype == np.float64
    assert recs["cold_start"].dtype == bool
    assert recs["reason"].map(lambda r: isinstance(r, str) and len(r) > 0).all()
    assert set(recs["item_id"]) <= set(model.item_index_)


def test_k_per_customer_ranks_one_to_k_no_duplicates(fitted, customers):
    _, model = fitted
    recs = model.recommend(customers, K)
    assert recs.groupby("customer_id").size().reindex(customers).eq(K).all()
    assert (
        recs.groupby("customer_id")["rank"]
        .apply(list)
        .map(lambda r: r == list(range(1, K + 1)))
        .all()
    )
    assert not recs.duplicated(["customer_id", "item_id"]).any()
    assert recs["customer_id"].tolist() == [c for c in customers for _ in range(K)]


def test_scores_never_increase_down_the_model_picks(fitted, customers):
    _, model = fitted
    recs = model.recommend(customers, K)
    scored = recs.dropna(subset=["score"])
    assert (scored.groupby("customer_id")["score"].diff().dropna() <= 1e-12).all()
    # model picks come before fallback picks (score NaN) in each list
    first_nan = recs["score"].isna().groupby(recs["customer_id"]).cummax()
    assert not (first_nan & recs["score"].notna()).any()


def test_excluded_items_never_come_back(fitted, customers):
    _, model = fitted
    before = model.recommend(customers, K)
    banned = before.loc[before["rank"] <= 2, "item_id"].unique().tolist()
    recs = model.recommend(customers, K, exclude_items=[*banned, "NOT-AN-ITEM"])
    assert not recs["item_id"].isin(banned).any()
    assert recs.groupby("customer_id").size().eq(K).all()


def test_per_customer_exclusions(fitted, customers):
    _, model = fitted
    before = model.recommend(customers[:3], K)
    cart = before[before["rank"] == 1][["customer_id", "item_id"]]
    recs = model.recommend(customers[:3], K, exclude_items=cart)
    merged = recs.merge(cart, on=["customer_id", "item_id"])
    assert merged.empty
    # the exclusion is per customer: another customer's rank-1 item may still be suggested
    assert len(recs) == 3 * K


def test_deterministic_for_a_seed(fitted, planted, customers):
    name, model = fitted
    again = FACTORIES[name]().fit(planted, segments=_segments(planted))
    pd.testing.assert_frame_equal(model.recommend(customers, K), again.recommend(customers, K))


def test_unknown_customers_get_flagged_cold_start(fitted, customers):
    _, model = fitted
    recs = model.recommend([customers[0], "NEWBIE", "STRANGER"], K)
    cold = recs[recs["customer_id"].isin(["NEWBIE", "STRANGER"])]
    assert cold["cold_start"].all()
    assert len(cold) == 2 * K
    assert not recs.loc[recs["customer_id"] == customers[0], "cold_start"].any()
    assert (
        cold.loc[cold.customer_id == "NEWBIE", "reason"].eq("popular in your segment (Loyal)").all()
    )
    assert (
        cold.loc[cold.customer_id == "STRANGER", "reason"]
        .str.startswith("popular in the last")
        .all()
    )


def test_not_fitted_error_before_fit():
    for factory in FACTORIES.values():
        with pytest.raises(NotFittedError, match="not fitted yet"):
            factory().recommend(["a"], K)


@pytest.mark.parametrize("k", [0, -3, 2.5, "10", True, None])
def test_bad_k_is_an_input_error(fitted, customers, k):
    _, model = fitted
    with pytest.raises(InputError, match=r"k=.* is not a positive whole number"):
        model.recommend(customers, k)


def test_k_beyond_the_catalogue_returns_every_item_once(fitted, customers):
    _, model = fitted
    n = len(model.item_index_)
    recs = model.recommend(customers[:2], n + 10)
    counts = recs.groupby("customer_id").size()
    assert (counts <= n).all()
    assert not recs.duplicated(["customer_id", "item_id"]).any()


def test_no_customers_gives_an_empty_frame(fitted):
    _, model = fitted
    recs = model.recommend([], K)
    assert recs.empty
    assert tuple(recs.columns) == OUTPUT_COLUMNS


@pytest.mark.parametrize("name", list(FACTORIES))
def test_empty_interactions_are_refused(name):
    empty = pd.DataFrame({"customer_id": [], "item_id": [], "ts": []})
    with pytest.raises(InputError, match="interactions are empty"):
        FACTORIES[name]().fit(empty)


def test_repeated_or_empty_customer_ids_are_refused(fitted):
    _, model = fitted
    with pytest.raises(InputError, match="repeat 'a'"):
        model.recommend(["a", "a"], K)
    with pytest.raises(InputError, match="empty id"):
        model.recommend(["a", None], K)


def test_a_single_string_customer_is_one_customer(fitted, customers):
    _, model = fitted
    assert model.recommend(customers[0], 3)["customer_id"].eq(customers[0]).all()


def test_exclude_items_as_a_bare_string_is_refused(fitted, customers):
    _, model = fitted
    with pytest.raises(InputError, match="one string"):
        model.recommend(customers, K, exclude_items="I01")
