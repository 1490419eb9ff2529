"""Pareto/NBD: published CDNOW results, lifetimes as an independent implementation, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from omnicrm.models.clv import ParetoNBDModel
from omnicrm.models.clv.pareto_nbd import log_a0

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # FHL 2005


@pytest.fixture(scope="module")
def fitted(cdnow_summary) -> ParetoNBDModel:
    return ParetoNBDModel().fit(cdnow_summary)


def _model(params=PUBLISHED) -> ParetoNBDModel:
    m = ParetoNBDModel()
    m.params_, m.log_likelihood_, m.n_customers_ = dict(params), -9595.0, 2357
    return m


def _log_a0_by_quadrature(params, x, t_x, T, n=200_001):
    """log A0 from the integral it closes: mixing ``lambda^x mu int_{t_x}^{T} e^-(lambda+mu) y dy``
    over the gamma laws gives ``A0 = (r + s + x) int_{t_x}^{T} (alpha + y)^-(r + x)
    (beta + y)^-(s + 1) dy`` (trapezoid rule, scaled to avoid underflow)."""
    r, alpha, s, beta = params
    y = np.linspace(t_x, T, n)
    log_f = -(r + x) * np.log(alpha + y) - (s + 1) * np.log(beta + y)
    top = log_f.max()
    f = np.exp(log_f - top)
    return np.log(r + s + x) + top + np.log(np.sum((f[1:] + f[:-1]) / 2 * np.diff(y)))


class TestPublishedCdnowResults:
    @pytest.mark.parametrize("name", list(PUBLISHED))
    def test_parameters_to_three_significant_figures(self, fitted, name):
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(
            float(f"{PUBLISHED[name]:.3g}")
        )

    def test_log_likelihood(self, fitted):
        assert round(fitted.log_likelihood_, 1) == -9595.0


class TestAgainstLifetimes:
    @pytest.fixture(scope="class")
    @classmethod
    def theirs(cls, cdnow_summary):
        lifetimes = pytest.importorskip("lifetimes")
        s = cdnow_summary
        return lifetimes.ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])

    def test_parameters_agree(self, fitted, theirs):
        for name in PUBLISHED:
            assert fitted.params_[name] == pytest.approx(theirs.params_[name], rel=1e-3)

    def test_predictions_agree_under_the_same_parameters(self, fitted, theirs, cdnow_summary):
        s = cdnow_summary
        theirs.params_ = pd.Series(fitted.params_)
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(
            39, s["frequency"], s["recency"], s["T"]
        )
        np.testing.assert_allclose(fitted.expected_purchases(39, s), expected, rtol=1e-7)
        alive = theirs.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        np.testing.assert_allclose(fitted.p_alive(s), alive, rtol=1e-7)
        ll = theirs._conditional_log_likelihood(
            theirs.params_.to_numpy(),
            s["frequency"].to_numpy(),
            s["recency"].to_numpy(),
            s["T"].to_numpy(),
        )
        np.testing.assert_allclose(fitted.log_likelihood(s), ll, rtol=1e-9)


def test_grouped_total_equals_the_sum_over_customers(cdnow_summary):
    from omnicrm.models.clv.inputs import compress, purchase_arrays

    names = ("frequency", "recency", "T")
    stats = compress(purchase_arrays(cdnow_summary), names)
    assert len(stats.pairs("frequency", "recency")[2]) == len(stats.weights)
    for params in ([0.553, 10.578, 0.606, 11.669], [0.553, 11.669, 0.606, 10.578]):
        total, _ = ParetoNBDModel()._total_loglik(np.array(params), stats)
        rows, _ = ParetoNBDModel()._loglik(
            np.array(params), *(cdnow_summary[n].to_numpy(float) for n in names)
        )
        assert total == pytest.approx(rows.sum(), rel=1e-12)


class TestA0:
    @pytest.mark.parametrize(
        "params",
        [
            (0.553, 10.578, 0.606, 11.669),  # alpha < beta
            (0.553, 11.669, 0.606, 10.578),  # alpha > beta
            (0.5, 7.0, 1.3, 7.0),  # alpha == beta
            (2.0, 0.5, 0.3, 40.0),  # far apart: hypergeometric argument near 1
        ],
    )
    @pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.0), (3, 20.0, 38.0), (40, 37.0, 38.0)])
    def test_closed_form_equals_the_integral(self, params, x, t_x, T):
        got = float(np.exp(log_a0(params, np.array(float(x)), np.array(t_x), np.array(T))))
        assert got == pytest.approx(np.exp(_log_a0_by_quadrature(params, x, t_x, T)), rel=1e-6)

    def test_frequent_buyers_stay_finite_where_the_plain_formula_overflows(self):
        params = (0.553, 1.0, 0.606, 50.0)
        r, alpha, s, beta = params
        x = np.array([10_000.0])
        with np.errstate(over="ignore"):  # the textbook form: 2F1(r+s+x, r+x; r+s+x+1; z)
            plain = hyp2f1(r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + 100.0))
        assert not np.isfinite(plain).all()
        value = log_a0(params, x, np.array([100.0]), np.array([104.0]))
        assert np.isfinite(value).all()
        expected = _log_a0_by_quadrature(params, 10_000.0, 100.0, 104.0)
        assert float(value[0]) == pytest.approx(expected, rel=1e-9)


class TestProperties:
    @given(x=st.integers(0, 300), frac=st.floats(0, 1), T=st.floats(0.01, 300), t=st.floats(0, 300))
    @settings(max_examples=150, deadline=None)
    def test_p_alive_is_a_probability_and_expectations_grow_with_t(self, x, frac, T, t):
        s = pd.DataFrame({"frequency": [x], "recency": [0.0 if x == 0 else frac * T], "T": [T]})
        m = _model()
        alive = float(m.p_alive(s).iloc[0])
        assert 0.0 <= alive <= 1.0
        now = float(m.expected_purchases(t, s).iloc[0])
        assert np.isfinite(now)
        assert 0.0 <= now <= float(m.expected_purchases(t + 1.0, s).iloc[0])

    def test_just_acquired_customer_is_alive(self):
        s = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
        assert float(_model().p_alive(s).iloc[0]) == pytest.approx(1.0)

    def test_s_equal_to_one_is_the_continuous_limit(self):
        s = pd.DataFrame({"frequency": [2], "recency": [20.0], "T": [38.0]})
        at_one = {**PUBLISHED, "s": 1.0}
        near = {**PUBLISHED, "s": 1.0 + 1e-7}
        a = float(_model(at_one).expected_purchases(39, s).iloc[0])
        b = float(_model(near).expected_purchases(39, s).iloc[0])
        assert a == pytest.approx(b, rel=1e-6)
        assert _model(at_one).expected_purchases_new_customer(39.0) == pytest.approx(
            _model(near).expected_purchases_new_customer(39.0), rel=1e-6
        )

    def test_new_customer_expectation_matches_the_generative_process(self):
        rng = np.random.default_rng(3)
        n, t = 400_000, 39.0
        lam = rng.gamma(PUBLISHED["r"], 1 / PUBLISHED["alpha"], n)
        mu = rng.gamma(PUBLISHED["s"], 1 / PUBLISHED["beta"], n)
        lifetime = rng.exponential(1 / mu)
        count = rng.poisson(lam * np.minimum(lifetime, t))
        expected = _model().expected_purchases_new_customer(t)
        assert count.mean() == pytest.approx(expected, abs=4 * count.std() / np.sqrt(n))
