"""BG/NBD: published CDNOW results, lifetimes as an independent implementation, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.clv import BetaGeoModel

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005


@pytest.fixture(scope="module")
def fitted(cdnow_summary) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow_summary)


@pytest.fixture(scope="module")
def lifetimes_fit(cdnow_summary):
    lifetimes = pytest.importorskip("lifetimes")
    return lifetimes.BetaGeoFitter().fit(
        cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    )


def _published_model() -> BetaGeoModel:
    m = BetaGeoModel()
    m.params_, m.log_likelihood_, m.n_customers_ = dict(PUBLISHED), -9582.4, 2357
    return m


class TestPublishedCdnowResults:
    @pytest.mark.parametrize("name", list(PUBLISHED))
    def test_parameters_to_three_significant_figures(self, fitted, name):
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(
            float(f"{PUBLISHED[name]:.3g}")
        )

    def test_log_likelihood_to_one_decimal(self, fitted):
        assert round(fitted.log_likelihood_, 1) == -9582.4
        assert fitted.n_customers_ == 2357

    def test_worked_example_expects_1_226_purchases_in_the_next_39_weeks(self):
        one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
        assert round(float(_published_model().expected_purchases(39, one).iloc[0]), 3) == 1.226

    def test_summary_grouped_with_customer_counts_gives_the_same_fit(self, fitted, cdnow_summary):
        grouped = cdnow_summary.groupby(["frequency", "recency", "T"], as_index=False).size()
        assert len(grouped) < len(cdnow_summary)
        weighted = BetaGeoModel().fit(grouped, weights="size")
        assert weighted.n_customers_ == 2357
        assert round(weighted.log_likelihood_, 1) == -9582.4
        for name, value in fitted.params_.items():
            assert weighted.params_[name] == pytest.approx(value, rel=1e-7)

    def test_weights_must_be_customer_counts(self, cdnow_summary):
        bad = cdnow_summary.assign(w=1.5)
        with pytest.raises(InputError, match="weights column 'w' must hold whole numbers"):
            BetaGeoModel().fit(bad, weights="w")

    def test_fitted_model_gives_the_same_worked_example(self, fitted, cdnow_summary):
        customer_1 = cdnow_summary[cdnow_summary["customer_id"] == 1]
        assert float(fitted.expected_purchases(39, customer_1).iloc[0]) == pytest.approx(
            1.226, abs=5e-4
        )


class TestAgainstLifetimes:
    def test_parameters_agree(self, fitted, lifetimes_fit):
        for name in PUBLISHED:
            assert fitted.params_[name] == pytest.approx(lifetimes_fit.params_[name], rel=1e-3)

    def test_predictions_agree_under_the_same_parameters(
        self, fitted, lifetimes_fit, cdnow_summary
    ):
        s = cdnow_summary
        lifetimes_fit.params_ = pd.Series(fitted.params_)  # same parameters: compare formulas
        theirs = lifetimes_fit.conditional_expected_number_of_purchases_up_to_time(
            39, s["frequency"], s["recency"], s["T"]
        )
        np.testing.assert_allclose(fitted.expected_purchases(39, s), theirs, rtol=1e-8)
        alive = lifetimes_fit.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        np.testing.assert_allclose(fitted.p_alive(s), alive, rtol=1e-10)
        new = lifetimes_fit.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0]))
        np.testing.assert_allclose(
            fitted.expected_purchases_new_customer(np.array([1.0, 39.0, 78.0])), new, rtol=1e-8
        )


class TestGradient:
    def test_analytic_gradient_matches_finite_differences(self, cdnow_summary):
        s = cdnow_summary
        x, t_x, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        model = BetaGeoModel()
        params = np.array([0.3, 5.0, 0.9, 2.0])
        _, grad = model._loglik(params, x, t_x, T)
        for k in range(4):
            h = np.zeros(4)
            h[k] = 1e-6 * params[k]
            up, _ = model._loglik(params + h, x, t_x, T)
            down, _ = model._loglik(params - h, x, t_x, T)
            np.testing.assert_allclose(grad[k], (up - down) / (2 * h[k]), rtol=1e-5, atol=1e-7)

    def test_grouped_total_equals_the_sum_over_customers(self, cdnow_summary):
        from omnicrm.models.clv.inputs import compress, purchase_arrays

        names = ("frequency", "recency", "T")
        stats = compress(purchase_arrays(cdnow_summary), names)
        model = BetaGeoModel()
        params = np.array([0.3, 5.0, 0.9, 2.0])
        total, grad = model._total_loglik(params, stats)
        rows, row_grad = model._loglik(params, *(cdnow_summary[n].to_numpy(float) for n in names))
        assert total == pytest.approx(rows.sum(), rel=1e-12)
        np.testing.assert_allclose(grad, row_grad.sum(axis=1), rtol=1e-10)


class TestSimulation:
    def test_new_customer_expectation_matches_the_generative_process(self):
        # Draw from BG/NBD: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); the customer makes
        # purchases until the one after which they drop out.
        rng = np.random.default_rng(7)
        n, t = 400_000, 39.0
        lam = rng.gamma(PUBLISHED["r"], 1 / PUBLISHED["alpha"], n)
        p = rng.beta(PUBLISHED["a"], PUBLISHED["b"], n)
        count = np.minimum(rng.poisson(lam * t), rng.geometric(p))
        expected = _published_model().expected_purchases_new_customer(t)
        assert count.mean() == pytest.approx(expected, abs=4 * count.std() / np.sqrt(n))


class TestProperties:
    @given(x=st.integers(0, 500), t_x=st.floats(0, 1), T=st.floats(0.01, 400), t=st.floats(0, 400))
    @settings(max_examples=200, deadline=None)
    def test_p_alive_is_a_probability_and_expectations_grow_with_t(self, x, t_x, T, t):
        recency = 0.0 if x == 0 else t_x * T
        s = pd.DataFrame({"frequency": [x], "recency": [recency], "T": [T]})
        m = _published_model()
        alive = float(m.p_alive(s).iloc[0])
        assert 0.0 <= alive <= 1.0
        now = float(m.expected_purchases(t, s).iloc[0])
        later = float(m.expected_purchases(t + 1.0, s).iloc[0])
        assert np.isfinite(now)
        assert 0.0 <= now <= later

    def test_customers_without_repeat_purchases_are_alive_for_sure(self):
        # BG/NBD: dropout happens only right after a purchase, so x = 0 means alive
        s = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [1.0, 300.0]})
        assert _published_model().p_alive(s).tolist() == [1.0, 1.0]

    def test_buying_recently_means_more_likely_alive(self):
        s = pd.DataFrame({"frequency": [3, 3], "recency": [5.0, 35.0], "T": [38.0, 38.0]})
        stale, fresh = _published_model().p_alive(s)
        assert stale < fresh

    def test_very_frequent_buyers_do_not_overflow(self):
        s = pd.DataFrame({"frequency": [5000], "recency": [103.9], "T": [104.0]})
        value = float(_published_model().expected_purchases(52, s).iloc[0])
        assert np.isfinite(value)
        assert 1000 < value < 5000 / 100 * 52 * 1.1

    def test_a_dropout_probability_shared_by_everyone_still_forecasts(self):
        # A fit on real data (a retailer's first 200 days) went to a ~ 8.4e3, b ~ 6.1e5: the
        # dropout probability a / (a + b) is nearly the same for every customer. hyp2f1 fails
        # on Euler's form there; the forecast must stay finite and continuous in (a, b).
        customers = pd.DataFrame(
            {"frequency": [0, 2, 11], "recency": [0.0, 23.7, 23.6], "T": [20.0, 27.9, 25.1]}
        )
        forecasts = []
        for scale in (1.0, 0.1, 0.01):  # same mean dropout a / (a + b), less and less sharp
            m = BetaGeoModel()
            m.params_ = {"r": 1.27, "alpha": 6.43, "a": 8434.05 * scale, "b": 612093.7 * scale}
            m.log_likelihood_, m.n_customers_ = -1.0, 3
            forecasts.append(m.expected_purchases(12.9, customers).to_numpy())
        assert np.isfinite(forecasts[0]).all()
        assert forecasts[0] == pytest.approx(forecasts[1], rel=1e-3)
        assert forecasts[1] == pytest.approx(forecasts[2], rel=1e-2)

    def test_new_customer_expectation_starts_at_zero_and_grows(self):
        curve = _published_model().expected_purchases_new_customer(np.array([0.0, 1, 10, 100]))
        assert curve[0] == 0.0
        assert np.all(np.diff(curve) > 0)


class TestContract:
    def test_prediction_before_fit_is_refused(self, cdnow_summary):
        with pytest.raises(NotFittedError, match="BetaGeoModel is not fitted yet"):
            BetaGeoModel().p_alive(cdnow_summary)

    def test_settings_are_stored_unchanged(self):
        m = BetaGeoModel(penalizer_coef=0.1, initial_params={"r": 1, "alpha": 1, "a": 1, "b": 1})
        assert m.get_params() == {
            "penalizer_coef": 0.1,
            "initial_params": {"r": 1, "alpha": 1, "a": 1, "b": 1},
        }

    def test_save_and_load_round_trip(self, fitted, cdnow_summary, tmp_path):
        path = fitted.save(tmp_path / "bg.json")
        loaded = BetaGeoModel.load(path)
        assert loaded.params_ == fitted.params_
        assert loaded.log_likelihood_ == fitted.log_likelihood_
        pd.testing.assert_series_equal(loaded.p_alive(cdnow_summary), fitted.p_alive(cdnow_summary))

    def test_penalizer_shrinks_parameters(self, cdnow_summary, fitted):
        penalized = BetaGeoModel(penalizer_coef=0.1).fit(cdnow_summary)
        assert sum(v * v for v in penalized.params_.values()) < sum(
            v * v for v in fitted.params_.values()
        )
        assert penalized.log_likelihood_ < fitted.log_likelihood_

    def test_other_initial_values_reach_the_same_optimum(self, cdnow_summary, fitted):
        other = BetaGeoModel(initial_params={"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.2})
        other.fit(cdnow_summary)
        for name in PUBLISHED:
            assert other.params_[name] == pytest.approx(fitted.params_[name], rel=1e-4)

    def test_bad_initial_values(self, cdnow_summary):
        with pytest.raises(InputError, match="initial_params must be a dict with keys"):
            BetaGeoModel(initial_params={"r": 1.0}).fit(cdnow_summary)

    def test_negative_penalizer(self, cdnow_summary):
        with pytest.raises(InputError, match="penalizer_coef = -1 must be a number >= 0"):
            BetaGeoModel(penalizer_coef=-1).fit(cdnow_summary)

    def test_horizon_must_be_a_non_negative_number(self, fitted, cdnow_summary):
        with pytest.raises(InputError, match="t = -1 must be a finite time >= 0"):
            fitted.expected_purchases(-1, cdnow_summary)

    def test_predictions_are_indexed_by_customer(self, fitted, cdnow_summary):
        out = fitted.p_alive(cdnow_summary.head(3))
        assert out.index.tolist() == cdnow_summary["customer_id"].head(3).tolist()
        assert out.name == "p_alive"
