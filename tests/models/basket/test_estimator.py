"""BasketRules: the scikit-learn contract, its uses and a JSON round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.basket import BasketRules, association_rules, frequent_itemsets

BASKETS = pd.DataFrame(
    {
        "order": [1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
        "sku": ["tea", "milk", "sugar", "tea", "milk", "tea", "lemon", "milk", "bread", "tea"],
    }
)


def _model(**settings) -> BasketRules:
    return BasketRules(min_support=0.2, basket_col="order", item_col="sku", **settings)


def test_settings_are_stored_unchanged_and_fit_returns_self() -> None:
    model = _model(min_confidence=0.3)
    assert model.get_params()["min_confidence"] == 0.3
    assert model.fit(BASKETS) is model
    assert model.n_baskets_ == 5


def test_fitted_tables_equal_the_functions() -> None:
    model = _model(min_lift=1.0).fit(BASKETS)
    itemsets = frequent_itemsets(BASKETS, min_support=0.2, basket_col="order", item_col="sku")
    pd.testing.assert_frame_equal(model.itemsets_, itemsets)
    pd.testing.assert_frame_equal(model.rules_, association_rules(itemsets, min_lift=1.0))


def test_uses_of_the_rules() -> None:
    model = _model().fit(BASKETS)
    assert model.recommend(["tea"], k=1)["item"].tolist() == ["milk"]
    assert model.bought_together("milk", k=1, by="confidence")["item"].tolist() == ["tea"]
    assert ("milk", "sugar", "tea") in model.bundles(min_lift=1.0)["itemset"].tolist()


def test_changing_a_threshold_after_fit_changes_the_rules() -> None:
    model = _model().fit(BASKETS)
    everything = len(model.rules_)
    model.min_confidence = 1.0
    assert 0 < len(model.rules_) < everything
    assert (model.rules_["confidence"] == 1.0).all()


def test_methods_refuse_to_run_before_fit() -> None:
    with pytest.raises(NotFittedError, match="BasketRules is not fitted yet"):
        _model().recommend(["tea"])
    with pytest.raises(NotFittedError, match="not fitted"):
        _model().itemsets_  # noqa: B018


def test_bad_settings_are_reported_by_fit() -> None:
    with pytest.raises(InputError, match=r"min_confidence=2 is outside \[0, 1\]"):
        _model(min_confidence=2).fit(BASKETS)
    with pytest.raises(InputError, match=r"min_support=0 is outside \(0, 1\]"):
        BasketRules(min_support=0, basket_col="order", item_col="sku").fit(BASKETS)


def test_save_and_load_round_trip(tmp_path) -> None:
    model = _model(min_confidence=0.4).fit(BASKETS)
    loaded = BasketRules.load(model.save(tmp_path / "rules.json"))
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(loaded.itemsets_, model.itemsets_)
    pd.testing.assert_frame_equal(loaded.rules_, model.rules_)
    cart = ["tea", "milk"]
    pd.testing.assert_frame_equal(loaded.recommend(cart), model.recommend(cart))
