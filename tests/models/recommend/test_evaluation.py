"""Time-split evaluation, and the table against the baselines on the synthetic retailer."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.recommend import (
    ALSRecommender,
    HybridRecommender,
    ItemKNNRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
    RepeatPurchaseRecommender,
    compare_recommenders,
    evaluate_recommender,
    time_split,
)


def test_time_split_never_leaks_the_future(planted):
    as_of = pd.Timestamp("2026-03-15", tz="UTC")
    train, test = time_split(planted, as_of, target="days", days=14)
    assert (train["ts"] < as_of).all()
    assert (test["ts"] >= as_of).all()
    assert (test["ts"] < as_of + pd.Timedelta(days=14)).all()
    _, nxt = time_split(planted, as_of)
    first = nxt.groupby("customer_id")["ts"].transform("min")
    assert (nxt["ts"] == first).all()
    assert set(nxt["customer_id"]) == set(planted.loc[planted.ts >= as_of, "customer_id"])


def test_time_split_input_errors(planted):
    with pytest.raises(InputError, match="no interaction before"):
        time_split(planted, "2000-01-01")
    with pytest.raises(InputError, match="target='week'"):
        time_split(planted, "2026-03-01", target="week")
    with pytest.raises(InputError, match="days=0"):
        time_split(planted, "2026-03-01", target="days", days=0)


def test_evaluate_reports_every_metric(planted):
    train, test = time_split(planted, "2026-04-01", target="days", days=14)
    out = evaluate_recommender(
        RepeatPurchaseRecommender(), train, test, k=10, categories={"I00": "A", "I01": "A"}
    )
    for name in (
        "precision",
        "recall",
        "ndcg",
        "hit_rate",
        "coverage",
        "diversity",
        "recall_repeat",
        "recall_explore",
        "repeat_share",
    ):
        assert 0.0 <= out[name] <= 1.0, name
    assert out["novelty"] > 0
    assert out["recall"] > 0.1
    assert out["customers"] == test["customer_id"].nunique()
    assert out["k"] == 10
    with pytest.raises(InputError, match="test window has no purchases"):
        evaluate_recommender(PopularityRecommender(), train, test.iloc[:0])


def test_planted_habits_are_found(planted):
    train, test = time_split(planted, "2026-04-01", target="days", days=14)
    table = compare_recommenders(
        {"popularity": PopularityRecommender(), "repeat": RepeatPurchaseRecommender()},
        train,
        test,
        k=10,
    )
    assert table.loc["repeat", "recall"] > 1.5 * table.loc["popularity", "recall"]
    assert table.loc["repeat", "recall_repeat"] > table.loc["repeat", "recall_explore"]


@pytest.fixture(scope="module")
def retailer_table(retailer_purchases):
    lines, products = retailer_purchases
    as_of = (lines["ts"].max() - pd.Timedelta(days=28)).normalize()
    train, test = time_split(lines, as_of, target="days", days=28)
    models = {
        "popularity": PopularityRecommender(),
        "trending": PopularityRecommender(kind="trending"),
        "frequency": PersonalFrequencyRecommender(),
        "repeat": RepeatPurchaseRecommender(),
        "knn": ItemKNNRecommender(),
        "als": ALSRecommender(),
        "hybrid": HybridRecommender(),
    }
    categories = products.set_index("product_id")["category"]
    return compare_recommenders(models, train, test, k=10, categories=categories)


def test_personal_and_hybrid_beat_global_popularity_on_the_retailer(retailer_table):
    t = retailer_table
    base = t.loc["popularity", "recall"]
    assert base > 0.05  # popularity itself finds something: the test is not vacuous
    for name in ("frequency", "repeat", "hybrid"):
        assert t.loc[name, "recall"] > 1.3 * base, (name, t["recall"].to_dict())
    assert t.loc["hybrid", "recall"] >= t.loc["frequency", "recall"] - 0.01
    assert t.loc["hybrid", "ndcg"] > t.loc["popularity", "ndcg"]


def test_the_table_has_a_row_per_model_and_sane_values(retailer_table):
    t = retailer_table
    assert len(t) == 7
    assert t["recall"].is_monotonic_decreasing
    assert ((t["coverage"] > 0) & (t["coverage"] <= 1)).all()
    assert t.loc["popularity", "novelty"] < t.loc["knn", "novelty"]
    assert t["cold_start_customers"].nunique() == 1  # same split for everyone
