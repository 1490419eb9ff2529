"""Contributions computed per split pattern equal LightGBM's TreeSHAP."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from omnicrm.models.churn import treeshap
from omnicrm.models.churn.treeshap import tree_contributions


def data(seed: int = 0, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 10.0, (n, 6))
    x[rng.random(n) < 0.2, 1] = np.nan  # missing values
    x[rng.random(n) < 0.3, 2] = 0.0  # many zeros
    x[:, 3] = rng.integers(0, 4, n)  # few distinct values
    y = x[:, 0] + np.nan_to_num(x[:, 1], nan=30.0) - 5 * x[:, 3] + rng.normal(0, 5, n) > 25
    return x, y.astype(float)


@pytest.mark.parametrize(
    "settings",
    [
        {"num_leaves": 15, "max_depth": 4},
        {"num_leaves": 15},
        {"num_leaves": 7, "zero_as_missing": True},
        {"num_leaves": 15, "use_missing": False},
    ],
)
def test_equal_to_lightgbm_pred_contrib(settings):
    x, y = data()
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_child_samples": 5, **settings},
        lgb.Dataset(x, y),
        num_boost_round=40,
    )
    fresh, _ = data(seed=1)
    expected = booster.predict(fresh, pred_contrib=True)
    got = treeshap._patterned(booster, fresh, 1)
    assert got is not None
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tree_contributions(booster, fresh), expected, rtol=1e-9, atol=1e-12)


def test_trees_with_more_than_20_splits_are_computed_directly():
    x, y = data()
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 31, "min_child_samples": 5},
        lgb.Dataset(x, y),
        num_boost_round=10,
    )
    assert treeshap._patterned(booster, x, 1) is None
    np.testing.assert_allclose(
        tree_contributions(booster, x), booster.predict(x, pred_contrib=True)
    )


def test_few_rows_and_a_constant_model_are_computed_directly():
    x, y = data(n=200)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1}, lgb.Dataset(x, y), num_boost_round=5
    )
    np.testing.assert_allclose(
        tree_contributions(booster, x[:10]), booster.predict(x[:10], pred_contrib=True)
    )
    stump = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 10_000},
        lgb.Dataset(x, y),
        num_boost_round=3,
    )
    np.testing.assert_allclose(
        treeshap._patterned(stump, x, 1), stump.predict(x, pred_contrib=True), atol=1e-12
    )
