"""Gamma-Gamma spend model: Fader & Hardie (2013) on CDNOW, lifetimes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.clv import GammaGammaModel

PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader & Hardie 2013, note 025


@pytest.fixture(scope="module")
def fitted(cdnow_repeat_buyers) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow_repeat_buyers)


@pytest.fixture(scope="module")
def theirs(cdnow_repeat_buyers):
    lifetimes = pytest.importorskip("lifetimes")
    s = cdnow_repeat_buyers
    return lifetimes.GammaGammaFitter().fit(s["frequency"], s["monetary_value"])


class TestPublishedCdnowResults:
    @pytest.mark.parametrize("name", list(PUBLISHED))
    def test_parameters_to_three_significant_figures(self, fitted, name):
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(
            float(f"{PUBLISHED[name]:.3g}")
        )

    def test_fitted_on_the_946_repeat_buyers(self, fitted):
        assert fitted.n_customers_ == 946

    def test_population_mean_spend(self, fitted):
        p, q, v = (fitted.params_[k] for k in "pqv")
        assert fitted.population_mean_spend() == pytest.approx(p * v / (q - 1))


class TestAgainstLifetimes:
    def test_parameters_agree(self, fitted, theirs):
        for name in PUBLISHED:
            assert fitted.params_[name] == pytest.approx(theirs.params_[name], rel=1e-3)

    def test_expected_spend_agrees_under_the_same_parameters(self, fitted, theirs, cdnow_summary):
        theirs.params_ = pd.Series(fitted.params_)
        s = cdnow_summary  # includes frequency 0: both give the population mean
        expected = theirs.conditional_expected_average_profit(s["frequency"], s["monetary_value"])
        np.testing.assert_allclose(fitted.expected_spend(s), expected, rtol=1e-12)


class TestModel:
    def test_expected_spend_shrinks_towards_the_population_mean(self, fitted):
        population = fitted.population_mean_spend()
        s = pd.DataFrame({"frequency": [1, 5, 50], "monetary_value": [100.0] * 3})
        spend = fitted.expected_spend(s).to_numpy()
        assert np.all(spend < 100.0)
        assert np.all(spend > population)
        assert np.all(np.diff(spend) > 0)  # more purchases, more weight on the own mean

    def test_analytic_gradient_matches_finite_differences(self, cdnow_repeat_buyers):
        x = cdnow_repeat_buyers["frequency"].to_numpy(float)
        m = cdnow_repeat_buyers["monetary_value"].to_numpy(float)
        params = np.array([5.0, 3.0, 12.0])
        _, grad = GammaGammaModel._loglik(params, x, m)
        for k in range(3):
            h = np.zeros(3)
            h[k] = 1e-6 * params[k]
            up, _ = GammaGammaModel._loglik(params + h, x, m)
            down, _ = GammaGammaModel._loglik(params - h, x, m)
            np.testing.assert_allclose(grad[k], (up - down) / (2 * h[k]), rtol=1e-5, atol=1e-7)

    def test_grouped_total_equals_the_sum_over_customers(self, cdnow_repeat_buyers):
        from omnicrm.models.clv.inputs import compress, spend_arrays

        stats = compress(spend_arrays(cdnow_repeat_buyers), ("frequency", "monetary_value"))
        params = np.array([5.0, 3.0, 12.0])
        total, grad = GammaGammaModel._total_loglik_of(stats)(params)
        rows, row_grad = GammaGammaModel._loglik(
            params,
            cdnow_repeat_buyers["frequency"].to_numpy(float),
            cdnow_repeat_buyers["monetary_value"].to_numpy(float),
        )
        assert total == pytest.approx(rows.sum(), rel=1e-12)
        np.testing.assert_allclose(grad, row_grad.sum(axis=1), rtol=1e-10)

    def test_recovers_parameters_from_simulated_spend(self):
        rng = np.random.default_rng(11)
        n = 100_000
        x = rng.integers(1, 10, n)
        nu = rng.gamma(PUBLISHED["q"], 1 / PUBLISHED["v"], n)
        m = rng.gamma(PUBLISHED["p"] * x, 1 / nu) / x  # mean of x Gamma(p, nu) amounts
        g = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": m}))
        for name, value in PUBLISHED.items():
            assert g.params_[name] == pytest.approx(value, rel=0.02)

    def test_save_and_load(self, fitted, tmp_path):
        loaded = GammaGammaModel.load(fitted.save(tmp_path / "gg.json"))
        assert loaded.params_ == fitted.params_
        assert loaded.n_customers_ == 946


class TestBadInput:
    def test_customers_without_repeat_purchases_are_refused_with_the_fix(self, cdnow_summary):
        with pytest.raises(
            InputError,
            match=r"frequency must be > 0 .* "
            r"summary\[summary.frequency > 0\]",
        ):
            GammaGammaModel().fit(cdnow_summary)

    def test_non_positive_spend_names_the_row(self):
        s = pd.DataFrame(
            {
                "customer_id": [f"c{i}" for i in range(12)],
                "frequency": [1] * 12,
                "monetary_value": [10.0] * 11 + [0.0],
            }
        )
        with pytest.raises(
            InputError,
            match=r"row 11 \(customer_id 'c11'\): monetary_value "
            r"must be > 0",
        ):
            GammaGammaModel().fit(s)

    def test_too_few_repeat_buyers(self):
        s = pd.DataFrame({"frequency": [1, 2], "monetary_value": [10.0, 12.0]})
        with pytest.raises(InputError, match="needs at least 10 repeat buyers"):
            GammaGammaModel().fit(s)

    def test_missing_column(self, cdnow_repeat_buyers):
        with pytest.raises(InputError, match="summary has no column 'monetary_value'"):
            GammaGammaModel().fit(cdnow_repeat_buyers.drop(columns="monetary_value"))

    @pytest.mark.parametrize(
        ("settings", "message"),
        [
            ({"penalizer_coef": float("nan")}, "penalizer_coef = nan must be a number >= 0"),
            (
                {"initial_params": {"p": 1, "q": 1, "v": 0}},
                "initial_params must all be numbers > 0",
            ),
            ({"initial_params": {"p": 1, "q": "x", "v": 1}}, "initial_params must all be numbers"),
        ],
    )
    def test_bad_settings(self, cdnow_repeat_buyers, settings, message):
        with pytest.raises(InputError, match=message):
            GammaGammaModel(**settings).fit(cdnow_repeat_buyers)

    def test_not_fitted(self, cdnow_summary):
        with pytest.raises(NotFittedError, match="GammaGammaModel is not fitted yet"):
            GammaGammaModel().expected_spend(cdnow_summary)

    def test_infinite_mean_spend_is_explained(self):
        g = GammaGammaModel()
        g.params_, g.log_likelihood_, g.n_customers_ = {"p": 2.0, "q": 0.9, "v": 5.0}, 0.0, 10
        with pytest.raises(InputError, match=r"q = 0.9 <= 1: the fitted spend distribution"):
            g.population_mean_spend()
