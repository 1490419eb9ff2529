"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; their lifetime is
exponential with rate ``mu ~ Gamma(s, beta)``. The likelihood of ``(x, t_x, T)`` follows Fader &
Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions" (eq. 18-20)::

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [ 1 / ((alpha + T)^(r + x) (beta + T)^s) + s / (r + s + x) * A0 ]

    A0 = F(t_x) - F(T)
    F(t) = 2F1(r + s + x, b; r + s + x + 1; (M - m) / (M + t)) / (M + t)^(r + s + x)

with ``M = max(alpha, beta)``, ``m = min(alpha, beta)``, ``b = s + 1`` if ``alpha >= beta`` else
``r + x``. ``log F`` is evaluated by :func:`.special.log_hyp2f1_a_a1` (Euler-transformed, no
overflow) and ``log A0 = log F(t_x) + log(1 - exp(log F(T) - log F(t_x)))``; ``F`` is evaluated
once per distinct ``(x, t)`` pair. The gradient is by central finite differences. Predictions
(same note, eq. 21-22)::

    P(alive) = 1 / (1 + s / (r + s + x) * (alpha + T)^(r + x) (beta + T)^s * A0)
    E[Y(t) | x, t_x, T] = (r + x)(beta + T) / ((alpha + T)(s - 1))
                          * [1 - ((beta + T) / (beta + T + t))^(s - 1)] * P(alive)
    E[X(t)] = r beta / (alpha (s - 1)) * [1 - (beta / (beta + t))^(s - 1)]

(the ``s -> 1`` limits are taken exactly: ``[1 - u^(s-1)] / (s - 1) -> -log u``).

Examples
--------
>>> from omnicrm.models.clv import ParetoNBDModel
>>> m = ParetoNBDModel()
>>> m.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
>>> m.log_likelihood_, m.n_customers_ = -9595.0, 2357
>>> round(float(m.expected_purchases_new_customer(39.0)), 3)
1.213
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import expit, gammaln

from omnicrm.models.clv.inputs import dot
from omnicrm.models.clv.purchase import PurchaseModel
from omnicrm.models.clv.special import log1mexp, log_hyp2f1_a_a1, one_minus_power_over


def log_f(params, x, t):
    """``log F(t)`` of the Pareto/NBD likelihood: ``log 2F1(r+s+x, b; r+s+x+1; z)
    - (r+s+x) log(M + t)`` with ``z = (M - m) / (M + t)`` (Fader & Hardie 2005 note, eq. 19-20)."""
    r, alpha, s, beta = params
    big, small = max(alpha, beta), min(alpha, beta)
    b = s + 1.0 if alpha >= beta else r + x
    rsx = r + s + x
    return log_hyp2f1_a_a1(rsx, b, (big - small) / (big + t)) - rsx * np.log(big + t)


def _log_a0_from(at_tx, at_T):
    """``log A0 = log(F(t_x) - F(T))`` from the two logs (``F`` decreases in ``t``)."""
    with np.errstate(invalid="ignore"):
        return at_tx + log1mexp(np.minimum(at_T - at_tx, 0.0))


def log_a0(params, x, t_x, T):
    """``log A0`` of the Pareto/NBD likelihood (Fader & Hardie 2005 note, eq. 19-20)."""
    return _log_a0_from(log_f(params, x, t_x), log_f(params, x, T))


class ParetoNBDModel(PurchaseModel):
    """Pareto/NBD model of repeat purchases, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer_coef : float, default 0
        L2 penalty on the parameters (as in ``lifetimes``).
    initial_params : dict, optional
        Starting values ``{"r", "alpha", "s", "beta"}``; default all 1.

    Attributes
    ----------
    params_ : dict
        ``r, alpha, s, beta``.
    log_likelihood_ : float
        Total log-likelihood at the optimum (without the penalty).
    n_customers_ : int
        Customers fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> m = ParetoNBDModel()
    >>> m.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    >>> m.log_likelihood_, m.n_customers_ = -9595.0, 2357
    >>> s = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86, 38.86]})
    >>> m.p_alive(s).round(3).tolist()
    [0.295, 0.869]
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _model_name: ClassVar[str] = "Pareto/NBD"
    _analytic_gradient: ClassVar[bool] = False

    def _loglik(self, params, x, t_x, T):
        r, alpha, s, beta = params
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_all = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = np.log(s) - np.log(r + s + x) + log_a0(params, x, t_x, T)
        return head + np.logaddexp(alive_all, died), None

    def _total_loglik(self, params, stats):
        """Summed log-likelihood; ``F(t)`` is evaluated once per distinct ``(x, t)`` pair."""
        r, alpha, s, beta = params
        x_u, cx = stats.values["frequency"], stats.codes["frequency"]
        w_x = stats.weight_by("frequency")
        x_tx, tx_p, row_tx = stats.pairs("frequency", "recency")
        x_T, T_p, row_T = stats.pairs("frequency", "T")
        head = gammaln(r + x_u) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_all = (-(r + x_T) * np.log(alpha + T_p) - s * np.log(beta + T_p))[row_T]
        log_a0_rows = _log_a0_from(
            log_f(params, x_tx, tx_p)[row_tx], log_f(params, x_T, T_p)[row_T]
        )
        died = (np.log(s) - np.log(r + s + x_u))[cx] + log_a0_rows
        return dot(w_x, head) + dot(stats.weights, np.logaddexp(alive_all, died)), None

    def _p_alive(self, x, t_x, T):
        params = self._params()
        r, alpha, s, beta = params
        log_ratio = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + log_a0(params, x, t_x, T)
        )
        return expit(-log_ratio)

    def _expected_conditional(self, t, x, t_x, T):
        r, alpha, s, beta = self._params()
        rate = (r + x) * (beta + T) / (alpha + T)
        return (
            rate
            * one_minus_power_over(s - 1.0, (beta + T) / (beta + T + t))
            * self._p_alive(x, t_x, T)
        )

    def _expected_new(self, t):
        r, alpha, s, beta = self._params()
        return r * beta / alpha * one_minus_power_over(s - 1.0, beta / (beta + t))
