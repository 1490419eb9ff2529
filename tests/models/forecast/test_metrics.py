"""Accuracy metrics against hand-computed values, and the vectorised backtest evaluation
against the one-series functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.metrics import (
    bias,
    evaluate,
    mase,
    rmsse,
    scales_at_cutoffs,
    summarise,
    wape,
)

TRAIN = [2.0, 4.0, 6.0, 3.0, 5.0, 9.0]  # m = 3 differences: 1, 1, 3 -> mean 5/3


def test_mase_by_hand():
    # errors 1, -2 -> MAE 1.5 ; scale 5/3 -> 0.9
    assert mase([4.0, 8.0], [5.0, 6.0], TRAIN, season_length=3) == pytest.approx(0.9)


def test_rmsse_by_hand():
    # MSE (1 + 4) / 2 = 2.5 ; squared scale (1 + 1 + 9) / 3 = 11/3 -> sqrt(2.5 * 3 / 11)
    assert rmsse([4.0, 8.0], [5.0, 6.0], TRAIN, season_length=3) == pytest.approx(np.sqrt(7.5 / 11))


def test_wape_and_bias_by_hand():
    assert wape([4.0, 8.0], [5.0, 6.0]) == pytest.approx(3 / 12)
    assert bias([4.0, 8.0], [5.0, 6.0]) == pytest.approx(-1 / 12)


def test_scale_falls_back_to_one_step_naive_when_history_is_shorter_than_a_season():
    # m = 7 > 3 points -> m = 1 : differences 2, 2 -> scale 2
    assert mase([1.0], [3.0], [1.0, 3.0, 5.0], season_length=7) == pytest.approx(1.0)


def test_constant_history_gives_undefined_scaled_errors():
    assert np.isnan(mase([1.0], [2.0], [3.0, 3.0, 3.0], season_length=1))
    assert np.isnan(wape([0.0, 0.0], [1.0, 1.0]))


@pytest.mark.parametrize("args", [([1.0], [1.0, 2.0]), ([], [])])
def test_mismatched_arrays_are_refused(args):
    with pytest.raises(InputError, match="same length"):
        wape(*args)


def test_evaluate_equals_per_window_functions():
    rng = np.random.default_rng(3)
    n, h, m = 40, 5, 7
    hist = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": u,
                    "ds": pd.date_range("2024-01-01", periods=n),
                    "y": rng.poisson(lam, n).astype(float),
                }
            )
            for u, lam in (("a", 4), ("b", 9))
        ],
        ignore_index=True,
    )
    rows = []
    for u, g in hist.groupby("unique_id"):
        for cut in (n - 2 * h - 1, n - h - 1):
            fut = g.iloc[cut + 1 : cut + 1 + h]
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": u,
                        "ds": fut["ds"].to_numpy(),
                        "cutoff": g["ds"].iloc[cut],
                        "y": fut["y"].to_numpy(),
                        "model": "x",
                        "yhat": fut["y"].to_numpy() + rng.normal(0, 2, h),
                    }
                )
            )
    cv = pd.concat(rows, ignore_index=True)
    got = evaluate(cv, hist, season_length=m).set_index("unique_id")
    for u, g in hist.groupby("unique_id"):
        ms, rs = [], []
        for cut, w in cv[cv["unique_id"] == u].groupby("cutoff"):
            train = g.loc[g["ds"] <= cut, "y"].to_numpy()
            ms.append(mase(w["y"], w["yhat"], train, season_length=m))
            rs.append(rmsse(w["y"], w["yhat"], train, season_length=m))
        assert got.loc[u, "mase"] == pytest.approx(np.mean(ms))
        assert got.loc[u, "rmsse"] == pytest.approx(np.mean(rs))
        assert got.loc[u, "windows"] == 2
    s = summarise(got.reset_index())
    c = cv.assign(e=cv["yhat"] - cv["y"])
    assert s.loc[0, "wape"] == pytest.approx(c["e"].abs().sum() / c["y"].sum())
    assert s.loc[0, "bias"] == pytest.approx(c["e"].sum() / c["y"].sum())


def test_scales_use_only_data_up_to_the_cutoff():
    hist = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=5),
            "y": [1.0, 2.0, 4.0, 100.0, 0.0],
        }
    )
    cuts = pd.DataFrame({"unique_id": ["a"], "cutoff": [pd.Timestamp("2024-01-03")]})
    s = scales_at_cutoffs(hist, cuts, season_length=1)
    assert s.loc[0, "scale_abs"] == pytest.approx(1.5)  # |2-1|, |4-2|
    assert s.loc[0, "scale_sq"] == pytest.approx(2.5)
