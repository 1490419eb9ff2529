"""Special-function helpers, evaluated in log space where the values can overflow.

The Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and
Related Expressions", eq. 19-20) needs the Gaussian hypergeometric function in the form
``2F1(a, b; a + 1; z) / (M + t)^a`` with ``z = (M - m) / (M + t)`` in [0, 1) and ``a = r + s + x``
growing with the customer's frequency. Evaluated directly, ``2F1`` overflows for frequent
buyers. Euler's transformation

    2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)

with ``c = a + 1`` gives ``2F1(a, b; a + 1; z) = (1 - z)^(1 - b) 2F1(1, a + 1 - b; a + 1; z)``:
the power is taken in log space and the remaining series has positive terms, starts at 1 and
is bounded by ``a / (b - 1)`` when ``b > 1``, so it never overflows. ``scipy.special.hyp2f1``
evaluates it accurately except for large ``a`` with ``z`` within 1e-3 of 1 (frequent buyers
under extreme parameters), where it returns NaN; those entries are computed from Euler's
integral ``2F1(1, b'; c; z) = (c - 1) int_0^1 (1 - u)^(d - 1) ((1 - u) / (1 - z u))^b' du``
(``d = c - 1 - b' = b - 1 > 0``) by Gauss-Jacobi quadrature with weight ``(1 - u)^(d - 1)``,
accurate to about 1e-12 there.

Examples
--------
>>> import numpy as np
>>> from scipy.special import hyp2f1, logsumexp, roots_jacobi
>>> direct = np.log(hyp2f1(5.0, 2.0, 6.0, 0.3))
>>> bool(np.isclose(log_hyp2f1_a_a1(5.0, 2.0, 0.3), direct))
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1, logsumexp, roots_jacobi


def log_hyp2f1_a_a1(
    a: np.ndarray | float, b: np.ndarray | float, z: np.ndarray | float
) -> np.ndarray:
    """``log 2F1(a, b; a + 1; z)`` for ``0 <= z < 1``, stable for large ``a``.

    Examples
    --------
    >>> float(log_hyp2f1_a_a1(600.0, 599.5, 0.8)) > 709  # 2F1 itself overflows
    True
    >>> bool(np.isfinite(log_hyp2f1_a_a1(5000.55, 1.6, 0.9999)))  # scipy alone gives NaN here
    True
    """
    a, b, z = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (a, b, z)))
    with np.errstate(invalid="ignore", divide="ignore"):
        log_rest = np.log(hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))
    failed = ~np.isfinite(log_rest) & (b > 1.0) & (z >= 0.0) & (z < 1.0)
    if failed.any():
        log_rest = np.array(log_rest, copy=True)
        log_rest[failed] = _log_hyp2f1_1_by_quadrature(
            a[failed] + 1.0 - b[failed], a[failed] + 1.0, z[failed]
        )
    return (1.0 - b) * np.log1p(-z) + log_rest


QUADRATURE_NODES = 400
"""Gauss-Jacobi nodes for the fallback of :func:`log_hyp2f1_a_a1` (error ~1e-12 there)."""


def _log_hyp2f1_1_by_quadrature(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``log 2F1(1, b; c; z)`` for ``c > b + 1``, ``0 <= z < 1`` from Euler's integral."""
    d = c - 1.0 - b
    out = np.empty_like(z)
    for value in np.unique(d):
        rows = d == value
        nodes, weights = roots_jacobi(QUADRATURE_NODES, value - 1.0, 0.0)
        u = (nodes + 1.0) / 2.0  # [-1, 1] -> [0, 1]; (1 - u)^(d-1) du = 2^-d (1 - x)^(d-1) dx
        log_ratio = np.log1p(-u)[None, :] - np.log1p(-z[rows, None] * u[None, :])
        out[rows] = (
            np.log(c[rows] - 1.0)
            - value * np.log(2.0)
            + logsumexp(np.log(weights)[None, :] + b[rows, None] * log_ratio, axis=1)
        )
    return out


def log1mexp(d: np.ndarray) -> np.ndarray:
    """``log(1 - exp(d))`` for ``d <= 0`` without cancellation (Mächler 2012).

    Examples
    --------
    >>> float(log1mexp(np.array(-1e-20)))  # log(1e-20)
    -46.051701859880914
    """
    d = np.asarray(d, dtype="float64")
    with np.errstate(divide="ignore"):
        return np.where(d > -np.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def one_minus_power_over(k: np.ndarray | float, u: np.ndarray | float) -> np.ndarray:
    """``(1 - u^k) / k`` for ``u`` in (0, 1], continuous at ``k = 0`` (where it is ``-log u``).

    Examples
    --------
    >>> float(one_minus_power_over(0.0, np.exp(-2.0)))
    2.0
    """
    k = np.asarray(k, dtype="float64")
    log_u = np.log(np.asarray(u, dtype="float64"))
    safe_k = np.where(np.abs(k) < 1e-12, 1.0, k)
    return np.where(np.abs(k) < 1e-12, -log_u, -np.expm1(k * log_u) / safe_k)


SERIES_MAX_TERMS = 200_000
"""Bound on the terms :func:`power_times_hyp2f1` sums (reached only for ``z`` next to 1)."""


def power_times_hyp2f1(
    p: np.ndarray | float,
    a: np.ndarray | float,
    b: np.ndarray | float,
    c: np.ndarray | float,
    z: np.ndarray | float,
) -> np.ndarray:
    """``(1 - z)^p 2F1(a, b; c; z)`` by summing the power series, for ``a, b, c > 0``.

    The BG/NBD forecast needs ``((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x;
    a + b + x - 1; z)``. Its Euler-transformed form, ``(1 - z)^(a - 1) 2F1(a + b - 1 - r,
    a - 1; a + b + x - 1; z)``, is what ``scipy`` evaluates well, except when the dropout
    parameters ``a`` and ``b`` are both large (a dropout probability nearly the same for every
    customer, where a fit's ``a`` and ``b`` grow together): ``hyp2f1`` then returns ``inf`` or
    NaN. The series ``sum_k (a)_k (b)_k / ((c)_k k!) z^k`` has positive terms here; it is summed
    term by term with the power folded in and a running rescale, so that neither the terms nor
    the power overflow or underflow, until a term adds less than 1e-17 of the sum.

    Parameters
    ----------
    p, a, b, c, z : array-like
        Broadcast together; ``a, b, c > 0`` and ``0 <= z < 1`` (NaN elsewhere).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import hyp2f1
    >>> bool(np.isclose(power_times_hyp2f1(2.5, 2.5, 3.0, 4.0, 0.3),
    ...                 0.7 ** 2.5 * hyp2f1(2.5, 3.0, 4.0, 0.3), rtol=1e-13))
    True
    >>> a, b = 8434.05, 612093.7  # hyp2f1 in Euler's form: nan
    >>> float(power_times_hyp2f1(3.27, 3.27, b + 2, a + b + 1, 0.31))  # doctest: +ELLIPSIS
    0.98...
    """
    p, a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (p, a, b, c, z)))
    valid = (a > 0) & (b > 0) & (c > 0) & (z >= 0) & (z < 1)
    out = np.full(p.shape, np.nan)
    if not valid.any():
        return out
    p, a, b, c, z = (v[valid] for v in (p, a, b, c, z))
    term = np.ones_like(z)
    total = np.ones_like(z)
    log_scale = np.zeros_like(z)
    active = np.ones(z.shape, dtype=bool)
    for k in range(SERIES_MAX_TERMS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        term[idx] *= (a[idx] + k) * (b[idx] + k) / ((c[idx] + k) * (k + 1.0)) * z[idx]
        total[idx] += term[idx]
        big = total[idx] > 1e250
        if big.any():  # keep the running sum finite: carry a power of ten apart
            rows = idx[big]
            term[rows] *= 1e-250
            total[rows] *= 1e-250
            log_scale[rows] += 250.0 * np.log(10.0)
        active[idx] = term[idx] > 1e-17 * total[idx]
    out[valid] = np.exp(p * np.log1p(-z) + log_scale + np.log(total))
    return out
