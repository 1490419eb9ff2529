"""Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction's value is ``Gamma(p, nu)``; across customers ``nu ~ Gamma(q, gamma)`` (the
parameter ``gamma`` is called ``v`` here, as in ``lifetimes``). A customer's mean spend ``m``
over ``x`` repeat transactions has the likelihood (note, eq. 3)::

    L(p, q, v | m, x) = Gamma(p x + q) / (Gamma(p x) Gamma(q))
                        * v^q m^(p x - 1) x^(p x) / (v + m x)^(p x + q)

(log space, analytic gradient, fitted on the distinct ``(x, m)`` rows). The conditional expected
average spend (eq. 5) shrinks each customer's mean towards the population mean ``p v / (q - 1)``::

    E[M | m, x] = (q - 1) / (p x + q - 1) * p v / (q - 1) + p x / (p x + q - 1) * m
                = p (v + m x) / (p x + q - 1)

The model assumes spend is independent of purchase frequency: check the correlation of
``frequency`` and ``monetary_value`` among repeat buyers before using it.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.clv import GammaGammaModel
>>> g = GammaGammaModel()
>>> g.params_ = {"p": 6.25, "q": 3.74, "v": 15.44}
>>> g.log_likelihood_, g.n_customers_ = -4000.0, 946
>>> s = pd.DataFrame({"frequency": [0, 1, 10], "monetary_value": [0.0, 20.0, 20.0]})
>>> g.expected_spend(s).round(2).tolist()
[35.22, 24.64, 20.64]
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from omnicrm.errors import InputError
from omnicrm.models.base import JSONModel, check_is_fitted
from omnicrm.models.clv.inputs import (
    MIN_CUSTOMERS,
    SufficientStats,
    compress,
    dot,
    fit_settings,
    numeric_column,
    row_labels,
    spend_arrays,
)
from omnicrm.models.clv.mle import maximize
from omnicrm.models.clv.purchase import PurchaseModel, _index


class GammaGammaModel(JSONModel):
    """Gamma-Gamma model of the average transaction value, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer_coef : float, default 0
        L2 penalty on the parameters (as in ``lifetimes``).
    initial_params : dict, optional
        Starting values ``{"p", "q", "v"}``; default all 1.

    Attributes
    ----------
    params_ : dict
        ``p, q, v``.
    log_likelihood_ : float
        Total log-likelihood at the optimum (without the penalty).
    n_customers_ : int
        Repeat buyers fitted.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(1, 6, 400)
    >>> nu = rng.gamma(4.0, 1 / 20.0, 400)
    >>> m = rng.gamma(3.0 * x, 1.0 / nu) / x
    >>> g = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": m}))
    >>> sorted(g.params_)
    ['p', 'q', 'v']
    """

    _fitted_attributes: ClassVar[tuple[str, ...]] = (
        "params_",
        "log_likelihood_",
        "n_customers_",
    )
    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def __init__(self, penalizer_coef: float = 0.0, initial_params: dict | None = None):
        self.penalizer_coef = penalizer_coef
        self.initial_params = initial_params

    @staticmethod
    def _loglik(params, x, m):
        p, q, v = params
        px = p * x
        log_vxm = np.log(v + x * m)
        ll = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(v)
            + (px - 1.0) * np.log(m)
            + px * np.log(x)
            - (px + q) * log_vxm
        )
        psi_pxq = digamma(px + q)
        d_p = x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_vxm)
        d_q = psi_pxq - digamma(q) + np.log(v) - log_vxm
        d_v = q / v - (px + q) / (v + x * m)
        return ll, np.vstack([d_p, d_q, d_v])

    @staticmethod
    def _total_loglik_of(stats: SufficientStats):
        """Summed log-likelihood and gradient over compressed ``(x, m)`` rows.

        Functions of ``x`` alone are evaluated per distinct frequency; the sums of ``log m`` and
        ``x log m`` do not depend on the parameters and are computed once; only
        ``log(v + x m)`` is evaluated per row.
        """
        x_u, cx = stats.values["frequency"], stats.codes["frequency"]
        w = stats.weights
        w_x = stats.weight_by("frequency")
        x = x_u[cx]
        xm = x * stats.column("monetary_value")
        log_m = np.log(stats.values["monetary_value"])[stats.codes["monetary_value"]]
        sum_log_m = dot(w, log_m)
        sum_x_log_m = dot(w, x * log_m)
        log_x_u = np.log(x_u)
        wx_x = w * x

        def total(params):
            p, q, v = params
            px_u = p * x_u
            log_vxm = np.log(v + xm)
            psi_pxq = digamma(px_u + q)
            weight_vxm = p * wx_x + q * w
            ll = (
                dot(
                    w_x,
                    gammaln(px_u + q) - gammaln(px_u) - gammaln(q) + q * np.log(v) + px_u * log_x_u,
                )
                + p * sum_x_log_m
                - sum_log_m
                - dot(weight_vxm, log_vxm)
            )
            d_p = (
                dot(w_x, x_u * (psi_pxq - digamma(px_u) + log_x_u))
                + sum_x_log_m
                - dot(wx_x, log_vxm)
            )
            d_q = dot(w_x, psi_pxq - digamma(q) + np.log(v)) - dot(w, log_vxm)
            d_v = w_x.sum() * q / v - dot(weight_vxm, 1.0 / (v + xm))
            return float(ll), np.array([d_p, d_q, d_v])

        return total

    def fit(self, summary: pd.DataFrame) -> GammaGammaModel:
        """Fit on repeat buyers: columns ``frequency`` (> 0) and ``monetary_value`` (> 0).

        Returns
        -------
        self
        """
        penalizer, start = fit_settings(self.penalizer_coef, self.initial_params, self._param_names)
        arrays = spend_arrays(summary)
        n = len(arrays["frequency"])
        if n < MIN_CUSTOMERS:
            raise InputError(
                f"Gamma-Gamma needs at least {MIN_CUSTOMERS} repeat buyers to fit, got {n}; "
                "use a longer period or more customers"
            )
        stats = compress(arrays, ("frequency", "monetary_value"))
        result = maximize(
            self._total_loglik_of(stats),
            stats.n_customers,
            start,
            names=self._param_names,
            model="Gamma-Gamma",
            penalizer_coef=penalizer,
        )
        self.params_ = result.params
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = stats.n_customers
        return self

    def _params(self) -> tuple[float, float, float]:
        check_is_fitted(self)
        return tuple(float(self.params_[k]) for k in self._param_names)

    def population_mean_spend(self) -> float:
        """Mean transaction value of a customer with no repeat purchase: ``p v / (q - 1)``."""
        p, q, v = self._params()
        if q <= 1.0:
            raise InputError(
                f"q = {q:.4g} <= 1: the fitted spend distribution has no finite mean, so no "
                "expected spend exists; fit on more repeat buyers or use a penalizer_coef"
            )
        return p * v / (q - 1.0)

    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """Conditional expected average transaction value of each customer (eq. 5).

        Customers with ``frequency == 0`` get the population mean ``p v / (q - 1)``.
        """
        p, q, v = self._params()
        population = self.population_mean_spend()
        x = numeric_column(summary, "frequency")
        m = numeric_column(summary, "monetary_value")
        bad = (x < 0) | (m < 0) | ((x > 0) & (m <= 0))
        if bad.any():
            raise InputError(
                f"summary {row_labels(summary, bad)}: frequency must be >= 0 and "
                "monetary_value > 0 for repeat buyers (0 is allowed only with frequency 0)"
            )
        values = np.where(x > 0, p * (v + x * m) / (p * x + q - 1.0), population)
        return pd.Series(values, index=_index(summary), name="expected_spend")

    def log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Each repeat buyer's log-likelihood under the fitted parameters."""
        params = np.array(self._params())
        a = spend_arrays(summary)
        ll, _ = self._loglik(params, a["frequency"], a["monetary_value"])
        return pd.Series(ll, index=_index(summary), name="log_likelihood")

    def clv(
        self,
        summary: pd.DataFrame,
        purchase_model: PurchaseModel,
        *,
        horizon: int,
        discount_rate: float,
        margin: float = 1.0,
        period: float = 1.0,
    ) -> pd.Series:
        """Discounted customer lifetime value; see :func:`.value.customer_lifetime_value`."""
        from omnicrm.models.clv.value import customer_lifetime_value

        return customer_lifetime_value(
            purchase_model,
            self,
            summary,
            horizon=horizon,
            discount_rate=discount_rate,
            margin=margin,
            period=period,
        )
