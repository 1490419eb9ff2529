"""Probability calibration on a held-out time slice: isotonic regression or Platt scaling.

A calibrator maps the classifier's raw probability to a calibrated one. It is fitted on
customers of a later origin than the classifier's training data, so it corrects the drift and
over-confidence the classifier cannot see in its own training set. The fitted state is a plain
dict (JSON friendly):

- isotonic (Zadrozny & Elkan 2002): the step function's knots ``x``, ``y``; applied by linear
  interpolation, flat beyond the ends (scikit-learn's ``IsotonicRegression`` fits the knots);
- Platt (Platt 1999): ``p = 1 / (1 + exp(-(a * logit(raw) + b)))``, ``a, b`` by maximum
  likelihood.

:func:`calibration_table` bins customers by predicted probability (quantiles) for the
reliability plot.

Examples
--------
>>> import numpy as np
>>> raw = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.95])
>>> y = np.array([0, 0, 1, 1, 1, 1])
>>> cal = fit_calibrator(raw, y, method="isotonic")
>>> apply_calibrator(cal, np.array([0.15, 0.85])).round(2).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from omnicrm.errors import InputError

METHODS: tuple[str, ...] = ("isotonic", "platt")
_EPS = 1e-6


def check_method(method: object) -> str:
    """Return ``method`` if it is a known calibration method."""
    if method not in METHODS:
        raise InputError(f"calibration = {method!r} is not supported; use one of {list(METHODS)}")
    return str(method)


def fit_calibrator(raw: np.ndarray, y: np.ndarray, *, method: str = "isotonic") -> dict:
    """Fit a calibrator of raw probabilities ``raw`` to 0/1 outcomes ``y``; return its state."""
    method = check_method(method)
    raw = np.asarray(raw, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if len(np.unique(y)) < 2:
        raise InputError(
            "the calibration slice has only one outcome (all churned or all retained); use "
            "a longer history so the held-out origin has both"
        )
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return {"method": method, "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    z = logit(np.clip(raw, _EPS, 1 - _EPS))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.clip(expit(ab[0] * z + ab[1]), _EPS, 1 - _EPS)
        nll = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        r = p - y
        return float(nll), np.array([np.mean(r * z), np.mean(r)])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return {"method": method, "a": float(res.x[0]), "b": float(res.x[1])}


def apply_calibrator(state: dict, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of ``raw`` under a state from :func:`fit_calibrator`."""
    raw = np.asarray(raw, dtype="float64")
    if state["method"] == "isotonic":
        return np.interp(raw, np.asarray(state["x"]), np.asarray(state["y"]))
    z = logit(np.clip(raw, _EPS, 1 - _EPS))
    return expit(state["a"] * z + state["b"])


def calibration_table(y: np.ndarray, probability: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed churn rate in ``bins`` quantile bins of the prediction.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (1 = lowest predictions), ``customers``, ``predicted``,
        ``observed``.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(probability, dtype="float64")
    if len(y) != len(p) or len(y) == 0:
        raise InputError(
            "calibration_table needs equally long, non-empty outcomes and probabilities"
        )
    order = np.argsort(p, kind="stable")
    group = np.empty(len(p), dtype="int64")
    group[order] = np.arange(len(p)) * bins // len(p)
    frame = pd.DataFrame({"bin": group + 1, "p": p, "y": y})
    out = frame.groupby("bin").agg(
        customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")
    )
    return out.reset_index()
