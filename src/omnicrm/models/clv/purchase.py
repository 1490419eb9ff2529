"""What the BG/NBD and Pareto/NBD purchase models share: fitting flow and the public methods.

A subclass supplies its parameter names, the per-row log-likelihood (with analytic gradient
when available) and three closed forms: the expected number of purchases of a new customer,
the conditional expected number of purchases of a customer with history ``(x, t_x, T)``, and
the probability that such a customer is still alive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.base import JSONModel, check_is_fitted
from omnicrm.models.clv.inputs import (
    SufficientStats,
    compress,
    distinct_rows,
    dot,
    fit_settings,
    purchase_arrays,
    require_fit_size,
    weight_column,
)
from omnicrm.models.clv.mle import maximize


def _index(summary: pd.DataFrame) -> pd.Index:
    if "customer_id" in summary.columns:
        return pd.Index(summary["customer_id"].to_numpy(), name="customer_id")
    return summary.index


def _distinct_histories(summary: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Validated distinct ``(frequency, recency, T)`` rows of a summary and each row's index
    among them: customers with the same history have the same expected purchase curve, which
    is then computed once per history (at 1M customers with day-level dates, 2-3x fewer
    rows; for a single horizon the factorising costs more than it saves)."""
    return distinct_rows(purchase_arrays(summary), ("frequency", "recency", "T"))


def check_horizon(t: float | np.ndarray, name: str = "t") -> np.ndarray:
    """Validate a (non-negative, finite) time horizon."""
    arr = np.asarray(t, dtype="float64")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError(f"{name} = {t!r} must be a finite time >= 0 in the summary's time unit")
    return arr


class PurchaseModel(JSONModel, ABC):
    """Base class of the buy-till-you-die purchase models (not used directly)."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    _model_name: ClassVar[str] = ""
    _analytic_gradient: ClassVar[bool] = True
    _fitted_attributes: ClassVar[tuple[str, ...]] = (
        "params_",
        "log_likelihood_",
        "n_customers_",
    )

    def __init__(self, penalizer_coef: float = 0.0, initial_params: dict | None = None):
        self.penalizer_coef = penalizer_coef
        self.initial_params = initial_params

    # -- subclass hooks -----------------------------------------------------------------------
    @abstractmethod
    def _loglik(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-customer log-likelihood (and its gradient, or ``None``)."""

    def _total_loglik(
        self, params: np.ndarray, stats: SufficientStats
    ) -> tuple[float, np.ndarray | None]:
        """Log-likelihood summed over customers (and its gradient); override to go faster."""
        names = ("frequency", "recency", "T")
        ll, grad = self._loglik(params, *(stats.column(n) for n in names))
        total = dot(stats.weights, ll)
        return total, None if grad is None else np.einsum("kn,n->k", grad, stats.weights)

    @abstractmethod
    def _expected_new(self, t: np.ndarray) -> np.ndarray:
        """Expected purchases of a new customer in ``(0, t]``."""

    @abstractmethod
    def _expected_conditional(
        self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` given the customer's history."""

    @abstractmethod
    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Probability that the customer is still active."""

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame, *, weights: str | None = None) -> PurchaseModel:
        """Fit by maximum likelihood on a per-customer summary.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency, recency, T`` (see :func:`omnicrm.models.clv.rfm_summary`).
        weights : str, optional
            Column holding how many customers each row stands for (whole numbers >= 0), for
            a summary already grouped by ``frequency, recency, T`` (e.g. in the warehouse);
            the fit is the one of the ungrouped summary (the likelihood is a sum over
            customers). Default: one customer per row.

        Returns
        -------
        self

        Examples
        --------
        >>> import pandas as pd
        >>> from omnicrm.models.clv import BetaGeoModel
        >>> rows = pd.DataFrame({"frequency": [0, 1, 1, 2, 3, 5, 8],
        ...                      "recency": [0.0, 4.0, 30.0, 10.0, 33.0, 20.0, 38.0],
        ...                      "T": 40.0,
        ...                      "customers": [450, 120, 100, 90, 80, 90, 70]})
        >>> m = BetaGeoModel().fit(rows, weights="customers")
        >>> m.n_customers_, round(m.params_["r"], 3), round(m.params_["b"], 2)
        (1000, 0.425, 18.85)
        """
        penalizer, start = fit_settings(self.penalizer_coef, self.initial_params, self._param_names)
        arrays = purchase_arrays(summary)
        counts = None if weights is None else weight_column(summary, weights)
        n_rows = len(arrays["frequency"]) if counts is None else int(counts.sum())
        repeaters = arrays["frequency"] > 0
        n_repeat = int(repeaters.sum()) if counts is None else int(counts[repeaters].sum())
        require_fit_size(n_rows, n_repeat, self._model_name)
        stats = compress(arrays, ("frequency", "recency", "T"), weights=counts)
        result = maximize(
            lambda p: self._total_loglik(p, stats),
            stats.n_customers,
            start,
            names=self._param_names,
            model=self._model_name,
            penalizer_coef=penalizer,
            analytic_gradient=self._analytic_gradient,
        )
        self.params_ = result.params
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = stats.n_customers
        return self

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self)
        return tuple(float(self.params_[n]) for n in self._param_names)

    # -- predictions --------------------------------------------------------------------------
    def log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Each customer's log-likelihood under the fitted parameters."""
        params = np.array(self._params())
        a = purchase_arrays(summary)
        ll, _ = self._loglik(params, a["frequency"], a["recency"], a["T"])
        return pd.Series(ll, index=_index(summary), name="log_likelihood")

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Expected number of purchases of each customer in the next ``t`` time units.

        Parameters
        ----------
        t : float
            Horizon, in the summary's time unit.
        summary : pandas.DataFrame
            Columns ``frequency, recency, T``.

        Returns
        -------
        pandas.Series
            Indexed by ``customer_id`` when the summary has it.
        """
        self._params()
        horizon = check_horizon(t)
        if horizon.ndim:
            raise InputError(f"t must be one number (a horizon), got an array of {horizon.size}")
        a = purchase_arrays(summary)
        values = self._expected_conditional(horizon, a["frequency"], a["recency"], a["T"])
        return pd.Series(values, index=_index(summary), name="expected_purchases")

    def expected_purchase_curve(self, times: np.ndarray, summary: pd.DataFrame) -> np.ndarray:
        """Expected cumulative purchases at each of ``times`` (shape ``(n_customers, len)``)."""
        self._params()
        times = check_horizon(times, "times").reshape(1, -1)
        rows, inverse = _distinct_histories(summary)
        return self._expected_conditional(
            times, rows["frequency"][:, None], rows["recency"][:, None], rows["T"][:, None]
        )[inverse]

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at the end of the observation."""
        self._params()
        a = purchase_arrays(summary)
        values = self._p_alive(a["frequency"], a["recency"], a["T"])
        return pd.Series(values, index=_index(summary), name="p_alive")

    def expected_purchases_new_customer(self, t: float | np.ndarray) -> float | np.ndarray:
        """Expected repeat purchases in ``(0, t]`` of a customer who just made a first purchase.

        Returns a float for a scalar ``t`` and an array for an array.
        """
        self._params()
        arr = check_horizon(t)
        values = self._expected_new(arr)
        return float(values) if values.ndim == 0 else values
