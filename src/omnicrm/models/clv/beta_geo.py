"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase
they drop out with probability ``p ~ Beta(a, b)``. For a customer with ``x`` repeat purchases,
the last at ``t_x``, observed for ``T`` (FHL 2005, eq. 6)::

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [ (alpha + T)^-(r + x) + 1{x > 0} a / (b + x - 1) * (alpha + t_x)^-(r + x) ]

evaluated with ``gammaln``/``betaln`` and ``logaddexp``; its gradient is analytic. Predictions:

- new customer (eq. 7): ``E[X(t)] = (a + b - 1) / (a - 1)
  * [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))]``;
- P(alive) (Fader, Hardie & Lee 2008 note 008, eq. 2):
  ``1 / (1 + 1{x > 0} a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``;
- conditional expectation (eq. 10): ``(a + b + x - 1) / (a - 1)
  * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)] * P(alive)``
  with ``z = t / (alpha + T + t)``. Euler's transformation turns the bracketed product into
  ``(1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)``, which does not overflow for
  frequent buyers. When ``a`` and ``b`` are both large (the fit found a dropout probability
  nearly the same for everyone) ``hyp2f1`` fails on that form; those entries are summed from
  the original series (:func:`omnicrm.models.clv.special.power_times_hyp2f1`).

Examples
--------
>>> from omnicrm.models.clv import BetaGeoModel
>>> m = BetaGeoModel()
>>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
>>> m.log_likelihood_, m.n_customers_ = -9582.4, 2357
>>> import pandas as pd
>>> one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
>>> round(float(m.expected_purchases(39, one).iloc[0]), 3)
1.226
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from omnicrm.models.clv.inputs import dot
from omnicrm.models.clv.purchase import PurchaseModel
from omnicrm.models.clv.special import power_times_hyp2f1


class BetaGeoModel(PurchaseModel):
    """BG/NBD model of repeat purchases, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer_coef : float, default 0
        L2 penalty on the parameters (as in ``lifetimes``); helps when the fit diverges.
    initial_params : dict, optional
        Starting values ``{"r", "alpha", "a", "b"}``; default all 1.

    Attributes
    ----------
    params_ : dict
        ``r, alpha, a, b``.
    log_likelihood_ : float
        Total log-likelihood at the optimum (without the penalty).
    n_customers_ : int
        Customers fitted.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> T = np.full(500, 40.0)
    >>> x = rng.poisson(2.0, 500)
    >>> s = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 30.0, 0.0), "T": T})
    >>> m = BetaGeoModel().fit(s)
    >>> sorted(m.params_)
    ['a', 'alpha', 'b', 'r']
    >>> 0 < float(m.p_alive(s).min()) <= 1
    True
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _model_name: ClassVar[str] = "BG/NBD"

    def _loglik(self, params, x, t_x, T):
        r, alpha, a, b = params
        repeat = x > 0
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        b_x = b + np.maximum(x, 1.0) - 1.0
        a4 = np.where(repeat, np.log(a) - np.log(b_x) - (r + x) * np.log(alpha + t_x), -np.inf)
        lse = np.logaddexp(a3, a4)
        ll = a1 + a2 + lse
        w3 = np.exp(a3 - lse)
        w4 = np.exp(a4 - lse)
        d_r = (
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - w3 * np.log(alpha + T)
            - w4 * np.log(alpha + t_x)
        )
        d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + x)
        d_a = psi_ab - psi_abx + w4 / a
        d_b = psi_ab + digamma(b + x) - digamma(b) - psi_abx - w4 / b_x
        return ll, np.vstack([d_r, d_alpha, d_a, d_b])

    def _total_loglik(self, params, stats):
        """Summed log-likelihood and gradient; functions of ``x`` alone (``gammaln``,
        ``betaln``, ``digamma``) are evaluated once per distinct frequency, logs of
        ``alpha + T`` and ``alpha + t_x`` once per distinct value, then gathered."""
        r, alpha, a, b = params
        x_u, cx = stats.values["frequency"], stats.codes["frequency"]
        w = stats.weights
        w_x = stats.weight_by("frequency")
        b_x = b + np.maximum(x_u, 1.0) - 1.0
        ll_x = gammaln(r + x_u) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x_u) - betaln(a, b)
        inv_t = 1.0 / (alpha + stats.values["recency"])
        inv_big_t = 1.0 / (alpha + stats.values["T"])
        log_t = np.log(alpha + stats.values["recency"])[stats.codes["recency"]]
        log_big_t = np.log(alpha + stats.values["T"])[stats.codes["T"]]
        rx = (r + x_u)[cx]
        a3 = -rx * log_big_t
        a4 = np.where((x_u > 0)[cx], (np.log(a) - np.log(b_x))[cx] - rx * log_t, -np.inf)
        lse = np.logaddexp(a3, a4)
        total = dot(w_x, ll_x) + dot(w, lse)
        w3 = np.exp(a3 - lse) * w
        w4 = np.exp(a4 - lse) * w
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + x_u)
        d_r = (
            dot(w_x, digamma(r + x_u) - digamma(r) + np.log(alpha))
            - dot(w3, log_big_t)
            - dot(w4, log_t)
        )
        d_alpha = (
            w.sum() * r / alpha
            - dot(w3 * rx, inv_big_t[stats.codes["T"]])
            - dot(w4 * rx, inv_t[stats.codes["recency"]])
        )
        d_a = dot(w_x, psi_ab - psi_abx) + w4.sum() / a
        d_b = dot(w_x, psi_ab + digamma(b + x_u) - digamma(b) - psi_abx) - dot(w4, (1.0 / b_x)[cx])
        return total, np.array([d_r, d_alpha, d_a, d_b])

    def _bracket(self, t, x, T):
        """``1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``, overflow-free."""
        r, alpha, a, b = self._params()
        z = t / (alpha + T + t)
        with np.errstate(invalid="ignore", over="ignore"):
            tail = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(
                a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
            )
        failed = ~np.isfinite(tail)
        if np.any(failed):  # large a and b: sum the original series instead
            x, z = np.broadcast_arrays(np.asarray(x, dtype="float64"), z)
            tail = np.where(
                failed, power_times_hyp2f1(r + x, r + x, b + x, a + b + x - 1.0, z), tail
            )
        return (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)

    def _expected_new(self, t):
        return self._bracket(t, 0.0, 0.0)

    def _log_odds_dead(self, x, t_x, T):
        r, alpha, a, b = self._params()
        with np.errstate(divide="ignore"):
            odds = (
                np.log(a)
                - np.log(b + np.maximum(x, 1.0) - 1.0)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return np.where(x > 0, odds, -np.inf)

    def _p_alive(self, x, t_x, T):
        return expit(-self._log_odds_dead(x, t_x, T))

    def _expected_conditional(self, t, x, t_x, T):
        return self._bracket(t, x, T) * self._p_alive(x, t_x, T)
