"""Special-function helpers against direct evaluation and their defining series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, hyp2f1

from omnicrm.models.clv.special import (
    log1mexp,
    log_hyp2f1_a_a1,
    one_minus_power_over,
    power_times_hyp2f1,
)


def _log_series_2f1_a_a1(a, b, z, terms=20_000):
    """log of sum_n (a)_n (b)_n / ((a+1)_n n!) z^n, terms built in log space."""
    n = np.arange(terms)
    log_terms = (
        gammaln(b + n) - gammaln(b) - gammaln(n + 1) + n * np.log(z) + np.log(a) - np.log(a + n)
    )  # (a)_n / (a+1)_n = a / (a + n)
    top = log_terms.max()
    return top + np.log(np.exp(log_terms - top).sum())


@pytest.mark.parametrize(
    ("a", "b", "z"),
    [
        (1.0, 1.6, 0.0),
        (1.2, 1.6, 0.3),
        (5.0, 2.0, 0.5),
        (30.0, 1.6, 0.9),
        (3.0, 0.5, 0.99),
        (60.0, 60.5, 0.2),
    ],
)
def test_matches_scipy_where_scipy_does_not_overflow(a, b, z):
    assert float(log_hyp2f1_a_a1(a, b, z)) == pytest.approx(
        np.log(hyp2f1(a, b, a + 1, z)), rel=1e-10, abs=1e-12
    )


@pytest.mark.parametrize(("a", "b", "z"), [(600.0, 599.5, 0.8), (2000.0, 1999.0, 0.5)])
def test_matches_the_series_where_direct_evaluation_overflows(a, b, z):
    with np.errstate(over="ignore"):
        assert not np.isfinite(hyp2f1(a, b, a + 1, z))
    assert float(log_hyp2f1_a_a1(a, b, z)) == pytest.approx(
        _log_series_2f1_a_a1(a, b, z), rel=1e-10
    )


def test_log1mexp_is_accurate_at_both_ends():
    d = np.array([-1e-300, -1e-10, -0.5, -1.0, -50.0])
    expected = np.array(
        [
            np.log(1e-300),
            np.log(1e-10),
            np.log(1 - np.exp(-0.5)),
            np.log(1 - np.exp(-1.0)),
            -np.exp(-50.0),
        ]
    )
    np.testing.assert_allclose(log1mexp(d), expected, rtol=1e-9)
    assert log1mexp(np.array(0.0)) == -np.inf


def test_one_minus_power_over_is_continuous_at_zero():
    u = 0.3
    near = one_minus_power_over(np.array([-1e-9, 0.0, 1e-9]), u)
    np.testing.assert_allclose(near, -np.log(u), rtol=1e-8)
    assert float(one_minus_power_over(2.0, u)) == pytest.approx((1 - u**2) / 2)


@pytest.mark.parametrize(
    ("a", "b", "z"), [(301.15, 1.6, 0.999), (5000.55 + 0.6, 1.6, 0.9995), (1001.15, 1.6, 0.9999)]
)
def test_quadrature_fallback_where_scipy_returns_nan(a, b, z):
    with np.errstate(invalid="ignore"):
        assert np.isnan(hyp2f1(1.0, a + 1 - b, a + 1, z))  # the transformed series in scipy
    got = float(log_hyp2f1_a_a1(a, b, z))
    assert got == pytest.approx(_log_series_2f1_a_a1(a, b, z, terms=400_000), rel=1e-10)


@pytest.mark.parametrize(
    ("p", "a", "b", "c", "z"),
    [
        (0.5, 0.5, 2.0, 3.0, 0.0),
        (2.3, 2.3, 4.0, 5.2, 0.3),
        (12.0, 12.0, 14.4, 20.0, 0.7),
        (3.3, 3.3, 6122.9, 6206.2, 0.31),
        (40.0, 40.0, 41.0, 41.5, 0.95),
    ],
)
def test_the_series_matches_scipy_where_scipy_is_finite(p, a, b, c, z):
    expected = (1 - z) ** p * hyp2f1(a, b, c, z)
    assert float(power_times_hyp2f1(p, a, b, c, z)) == pytest.approx(expected, rel=1e-12)


def test_the_series_is_finite_where_the_terms_exceed_the_float_range():
    # (1 - z)^-a = 10^500 for the sum alone: the running rescale keeps it finite
    a, z = 500.0, 0.9
    value = float(power_times_hyp2f1(a, a, 1e6, 1e6, z))  # b = c: 2F1 = (1 - z)^-a
    assert value == pytest.approx(1.0, rel=1e-9)


def test_the_series_refuses_parameters_where_its_terms_change_sign():
    out = power_times_hyp2f1(
        [1.0, 1.0, 1.0], [1.0, -0.5, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0], [0.5, 0.5, 1.0]
    )
    assert np.isfinite(out[0])
    assert np.isnan(out[1:]).all()
