"""The maximum-likelihood driver: optimum, fallbacks and ConvergenceError advice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import ConvergenceError
from omnicrm.models.clv import BetaGeoModel
from omnicrm.models.clv.mle import maximize


def _exponential(y, w):
    def loglik(params):
        (lam,) = params
        return float(w @ (np.log(lam) - lam * y)), np.array([w @ (1 / lam - y)])

    return loglik


def test_weighted_rows_give_the_closed_form_optimum():
    y = np.array([1.0, 3.0])
    w = np.array([3.0, 1.0])  # mean waiting time (3 * 1 + 3) / 4 = 1.5
    res = maximize(_exponential(y, w), w.sum(), np.zeros(1), names=("rate",), model="demo")
    assert res.params["rate"] == pytest.approx(1 / 1.5, rel=1e-8)
    assert res.log_likelihood == pytest.approx(float(w @ (np.log(1 / 1.5) - y / 1.5)))


def test_finite_difference_gradient_reaches_the_same_optimum():
    y = np.array([1.0, 3.0])
    res = maximize(
        _exponential(y, np.ones(2)),
        2,
        np.zeros(1),
        names=("rate",),
        model="demo",
        analytic_gradient=False,
    )
    assert res.params["rate"] == pytest.approx(0.5, rel=1e-6)


def test_parameter_running_off_to_infinity_raises_with_advice():
    def unbounded(params):  # increases for ever in the parameter
        (k,) = params
        return float(np.log(k)), np.array([1 / k])

    with pytest.raises(
        ConvergenceError,
        match=r"demo did not converge: parameter\(s\) k=.* ran "
        r"off to 0 or infinity.*penalizer_coef",
    ):
        maximize(unbounded, 1, np.zeros(1), names=("k",), model="demo")


def test_penalty_keeps_the_same_data_finite():
    def unbounded(params):
        (k,) = params
        return float(np.log(k)), np.array([1 / k])

    res = maximize(unbounded, 1, np.zeros(1), names=("k",), model="demo", penalizer_coef=0.5)
    assert res.params["k"] == pytest.approx(1.0, rel=1e-6)  # d/dk (log k - k^2 / 2) = 0


def test_non_finite_start_is_reported():
    def broken(params):
        return np.nan, np.array([np.nan])

    with pytest.raises(ConvergenceError, match="not finite at the initial values"):
        maximize(broken, 1, np.zeros(1), names=("k",), model="demo")


def test_bg_nbd_without_dropout_signal_raises_convergence_error():
    # Every customer bought on the last day: no sign of dropout at all, so the dropout
    # probability goes to 0 and the fit cannot identify it.
    x = np.tile(np.arange(1, 11), 20)
    s = pd.DataFrame({"frequency": x, "recency": 40.0, "T": 40.0})
    with pytest.raises(ConvergenceError, match=r"BG/NBD did not converge: parameter\(s\) a="):
        BetaGeoModel().fit(s)
