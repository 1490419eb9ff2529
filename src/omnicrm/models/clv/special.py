"""Special-function helpers, evaluated in log space where the values can overflow.

The Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and
Related Expressions", eq. 19-20) needs the Gaussian hypergeometric function in the form
``2F1(a, b; a + 1; z) / (M + t)^a`` with ``z = (M - m) / (M + t)`` in [0, 1) and ``a = r + s + x``
growing with the customer's frequency. Evaluated directly, ``2F1`` overflows for frequent
buyers. Euler's transformation

    2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)

with ``c = a + 1`` gives ``2F1(a, b; a + 1; z) = (1 - z)^(1 - b) 2F1(1, a + 1 - b; a + 1; z)``:
the power is taken in log space and the remaining series has positive terms, starts at 1 and
is bounded by ``a / (b - 1)`` when ``b > 1``, so it never overflows; ``scipy.special.hyp2f1``
evaluates it accurately on [0, 1).

Examples
--------
>>> import numpy as np
>>> from scipy.special import hyp2f1
>>> direct = np.log(hyp2f1(5.0, 2.0, 6.0, 0.3))
>>> bool(np.isclose(log_hyp2f1_a_a1(5.0, 2.0, 0.3), direct))
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1


def log_hyp2f1_a_a1(a: np.ndarray | float, b: np.ndarray | float,
                    z: np.ndarray | float) -> np.ndarray:
    """``log 2F1(a, b; a + 1; z)`` for ``0 <= z < 1``, stable for large ``a``.

    Examples
    --------
    >>> float(log_hyp2f1_a_a1(300.0, 250.0, 0.99)) > 700  # 2F1 itself overflows
    True
    """
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    z = np.asarray(z, dtype="float64")
    rest = hyp2f1(1.0, a + 1.0 - b, a + 1.0, z)
    return (1.0 - b) * np.log1p(-z) + np.log(rest)


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
