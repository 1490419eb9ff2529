"""Customer lifetime value: discounted expected purchases x expected spend x margin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
)


@pytest.fixture(scope="module")
def models(cdnow_summary, cdnow_repeat_buyers):
    return BetaGeoModel().fit(cdnow_summary), GammaGammaModel().fit(cdnow_repeat_buyers)


def test_matches_the_formula_computed_by_hand(models, cdnow_summary):
    bg, gg = models
    s = cdnow_summary.head(50)
    got = gg.clv(s, bg, horizon=3, discount_rate=0.02, margin=0.25, period=4.0)
    spend = gg.expected_spend(s)
    by_hand = sum(
        (bg.expected_purchases(4.0 * k, s) - bg.expected_purchases(4.0 * (k - 1), s)) / 1.02**k
        for k in (1, 2, 3)
    )
    np.testing.assert_allclose(got, 0.25 * spend * by_hand, rtol=1e-12)
    assert got.name == "clv"
    assert got.index.tolist() == s["customer_id"].tolist()


@pytest.mark.parametrize("purchase", [BetaGeoModel, ParetoNBDModel])
@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # peer
def test_matches_lifetimes_customer_lifetime_value(purchase, cdnow_summary, cdnow_repeat_buyers):
    lifetimes = pytest.importorskip("lifetimes")
    ours = purchase().fit(cdnow_summary)
    gg = GammaGammaModel().fit(cdnow_repeat_buyers)
    peer = lifetimes.BetaGeoFitter() if purchase is BetaGeoModel else lifetimes.ParetoNBDFitter()
    peer.params_ = pd.Series(ours.params_)
    peer.predict = peer.conditional_expected_number_of_purchases_up_to_time  # set by its fit
    peer_gg = lifetimes.GammaGammaFitter()
    peer_gg.params_ = pd.Series(gg.params_)
    s = cdnow_summary
    theirs = peer_gg.customer_lifetime_value(
        peer,
        s["frequency"],
        s["recency"],
        s["T"],
        s["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="W",
    )  # lifetimes: a month is 4.345 weeks
    got = customer_lifetime_value(ours, gg, s, horizon=12, discount_rate=0.01, period=4.345)
    np.testing.assert_allclose(got, theirs, rtol=1e-7)


def test_discounting_and_margin_lower_the_value(models, cdnow_summary):
    bg, gg = models
    s = cdnow_summary.head(20)
    base = gg.clv(s, bg, horizon=12, discount_rate=0.0, period=52 / 12)
    discounted = gg.clv(s, bg, horizon=12, discount_rate=0.05, period=52 / 12)
    with_margin = gg.clv(s, bg, horizon=12, discount_rate=0.0, margin=0.3, period=52 / 12)
    assert np.all(discounted < base)
    np.testing.assert_allclose(with_margin, 0.3 * base)


def test_undiscounted_value_is_spend_times_expected_purchases(models, cdnow_summary):
    bg, gg = models
    s = cdnow_summary.head(20)
    got = gg.clv(s, bg, horizon=52, discount_rate=0.0)
    np.testing.assert_allclose(got, gg.expected_spend(s) * bg.expected_purchases(52, s), rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon = 0 must be a whole number of periods >= 1"),
        ({"horizon": 1.5}, "horizon = 1.5 must be a whole number"),
        ({"discount_rate": -1.0}, "discount_rate = -1.0 must be a number > -1"),
        ({"margin": 1.5}, r"margin = 1.5 must be in \(0, 1\]"),
        ({"period": 0.0}, "period = 0.0 must be a length > 0"),
    ],
)
def test_bad_settings_are_named(models, cdnow_summary, kwargs, message):
    bg, gg = models
    settings = {"horizon": 12, "discount_rate": 0.01} | kwargs
    with pytest.raises(InputError, match=message):
        gg.clv(cdnow_summary, bg, **settings)


def test_purchase_model_must_be_a_purchase_model(models, cdnow_summary):
    _, gg = models
    with pytest.raises(InputError, match="purchase_model must be a fitted BetaGeoModel"):
        gg.clv(cdnow_summary, gg, horizon=12, discount_rate=0.01)
