"""Calibration fitted on one slice improves the Brier score on another."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from omnicrm.errors import InputError
from omnicrm.models.churn import brier
from omnicrm.models.churn.calibration import (
    apply_calibrator,
    calibration_table,
    fit_calibrator,
)


def overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True probabilities p, outcomes y and a classifier that says logit 3x too sharp."""
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(0.0, 1.2, n))
    y = (rng.random(n) < p).astype(int)
    return expit(3 * logit(p)), y


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_improves_brier_on_held_out_customers(method):
    raw_fit, y_fit = overconfident(4000, 1)
    raw_test, y_test = overconfident(4000, 2)
    state = fit_calibrator(raw_fit, y_fit, method=method)
    calibrated = apply_calibrator(state, raw_test)
    assert brier(y_test, calibrated) < brier(y_test, raw_test) - 0.02
    assert ((calibrated >= 0) & (calibrated <= 1)).all()


def test_platt_recovers_the_sharpening_factor():
    raw, y = overconfident(40000, 3)
    state = fit_calibrator(raw, y, method="platt")
    assert state["a"] == pytest.approx(1 / 3, abs=0.03)
    assert abs(state["b"]) < 0.05


def test_isotonic_is_monotone_and_flat_beyond_the_data():
    state = fit_calibrator(np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 0, 1, 1]))
    out = apply_calibrator(state, np.array([0.0, 0.3, 0.7, 1.0]))
    assert np.all(np.diff(out) >= 0)
    assert out[0] == 0.0
    assert out[-1] == 1.0


def test_calibration_table_bins_by_prediction():
    y = np.array([0, 0, 1, 1])
    table = calibration_table(y, np.array([0.1, 0.2, 0.7, 0.9]), bins=2)
    assert table.to_dict("list") == {
        "bin": [1, 2],
        "customers": [2, 2],
        "predicted": [pytest.approx(0.15), pytest.approx(0.8)],
        "observed": [0.0, 1.0],
    }


def test_one_outcome_and_unknown_method_are_refused():
    with pytest.raises(InputError, match="only one outcome"):
        fit_calibrator(np.array([0.1, 0.2]), np.array([1, 1]))
    with pytest.raises(InputError, match="calibration = 'beta' is not supported"):
        fit_calibrator(np.array([0.1, 0.2]), np.array([0, 1]), method="beta")
