"""Maximum likelihood on log-parameters for likelihoods summed over (compressed) customers.

The objective minimised is the mean negative log-likelihood per customer plus an optional L2
penalty on the parameters (the convention of ``lifetimes``)::

    f(theta) = -sum_i w_i ll_i(exp(theta)) / sum_i w_i + penalizer_coef * sum_k exp(theta_k)^2

where row ``i`` stands for ``w_i`` customers with the same sufficient statistics. The model
supplies the weighted total ``sum_i w_i ll_i`` and its gradient, so it can group the work by
distinct values however suits its formula.

Parameters are optimised on the log scale (all CLV parameters are positive) with L-BFGS-B,
using analytic gradients when the model provides them; if that stops early, Nelder-Mead
restarts from the best point and L-BFGS-B polishes. A fit that still fails, or that ends with
a parameter running off to 0 or infinity, raises :class:`ConvergenceError` saying what to try.

Examples
--------
>>> import numpy as np
>>> y = np.array([1.0, 3.0])
>>> def ll(p):  # exponential waiting times 1 and 3: MLE rate = 0.5
...     (lam,) = p
...     return float(np.sum(np.log(lam) - lam * y)), np.array([np.sum(1 / lam - y)])
>>> res = maximize(ll, 2, np.zeros(1), names=("rate",), model="demo")
>>> round(res.params["rate"], 6)
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from omnicrm.errors import ConvergenceError

LOG_BOUND = 14.0
"""Log-parameters are kept in [-14, 14] (parameters in [8e-7, 1.2e6]): CLV parameters in days
or weeks are orders of magnitude inside; a fit ending on that edge has diverged."""

LogLik = Callable[[np.ndarray], tuple[float, np.ndarray | None]]
"""Maps natural parameters to the total log-likelihood and its gradient (or ``None``)."""


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`maximize`."""

    params: dict[str, float]
    log_likelihood: float
    iterations: int


def _advice(model: str) -> str:
    return (
        f"{model} did not converge{{detail}}. Try: a time unit closer to the typical gap "
        "between purchases (weeks rather than days), more customers or a longer calibration "
        "period, other initial_params, or a small penalizer_coef (e.g. 0.001)"
    )


def maximize(
    loglik: LogLik,
    n_customers: float,
    x0: np.ndarray,
    *,
    names: tuple[str, ...],
    model: str,
    penalizer_coef: float = 0.0,
    analytic_gradient: bool = True,
) -> FitResult:
    """Maximise a weighted log-likelihood over positive parameters (see module docstring).

    Parameters
    ----------
    loglik : callable
        ``loglik(params) -> (total, grad)``: the log-likelihood summed over customers and its
        gradient w.r.t. the natural parameters (shape (k,)), or ``None`` when
        ``analytic_gradient`` is False.
    n_customers : float
        Number of customers in the total (the objective is the mean per customer).
    x0 : numpy.ndarray
        Initial log-parameters.
    names : tuple of str
        Parameter names, in order.
    model : str
        Model name, for messages.
    penalizer_coef : float
        L2 penalty on the parameters.
    analytic_gradient : bool
        Use ``grad_rows``; otherwise central finite differences.

    Returns
    -------
    FitResult
    """
    total = float(n_customers)
    advice = _advice(model)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray] | float:
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad = loglik(params)
            value = -float(ll) / total + penalizer_coef * float(np.sum(params * params))
            if not np.isfinite(value):
                value = np.inf
            if not analytic_gradient:
                return value
            g = -np.asarray(grad) / total * params + 2.0 * penalizer_coef * params * params
        if not np.all(np.isfinite(g)):
            g = np.zeros_like(theta) if not np.isfinite(value) else np.nan_to_num(g)
        return value, g

    jac = True if analytic_gradient else "3-point"
    start = np.asarray(x0, dtype="float64")
    f0 = objective(start)
    if not np.isfinite(f0[0] if isinstance(f0, tuple) else f0):
        raise ConvergenceError(
            advice.format(
                detail=f": the log-likelihood is not finite at the initial values {np.exp(start)}"
            )
        )

    # L-BFGS-B's tiny linear algebra goes through BLAS: waking its thread pool costs more than
    # the work itself (milliseconds per iteration on a busy machine), so run it single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(objective, loglik, start, jac, names, advice)


def _run(
    objective, loglik: LogLik, start: np.ndarray, jac, names: tuple[str, ...], advice: str
) -> FitResult:
    """The optimisation proper (see :func:`maximize`)."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    options = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9, "maxls": 50}
    res = minimize(objective, start, jac=jac, method="L-BFGS-B", bounds=bounds, options=options)
    iterations = int(res.nit)
    if not res.success or not np.isfinite(res.fun):

        def value_only(theta: np.ndarray) -> float:
            out = objective(np.clip(theta, -LOG_BOUND, LOG_BOUND))
            return out[0] if isinstance(out, tuple) else out

        best = res.x if np.isfinite(res.fun) else start
        nm = minimize(
            value_only,
            best,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000, "adaptive": True},
        )
        res = minimize(
            objective,
            np.clip(nm.x, -LOG_BOUND, LOG_BOUND),
            jac=jac,
            method="L-BFGS-B",
            bounds=bounds,
            options=options,
        )
        iterations += int(nm.nit) + int(res.nit)
        if not np.isfinite(res.fun) or (not res.success and nm.fun < res.fun - 1e-12):
            raise ConvergenceError(advice.format(detail=f" ({res.message})"))
    theta = np.asarray(res.x)
    at_edge = np.abs(theta) > LOG_BOUND - 0.5
    if at_edge.any():
        which = ", ".join(
            f"{n}={np.exp(t):.3g}" for n, t, e in zip(names, theta, at_edge, strict=True) if e
        )
        raise ConvergenceError(
            advice.format(
                detail=f": parameter(s) {which} ran off to 0 or infinity (the data do not identify "
                "them)"
            )
        )
    params = np.exp(theta)
    ll, _ = loglik(params)
    return FitResult(
        params={n: float(v) for n, v in zip(names, params, strict=True)},
        log_likelihood=float(ll),
        iterations=iterations,
    )
