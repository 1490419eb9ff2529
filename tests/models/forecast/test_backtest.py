"""Rolling-origin backtests: windows, no leakage, baseline always present, model card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast import backtest

from .conftest import sparse_series, weekly_series


@pytest.fixture(scope="module")
def result():
    df = pd.concat(
        [
            weekly_series("a", 120, seed=1),
            weekly_series("b", 120, seed=2),
            sparse_series("c", 120, seed=3),
        ],
        ignore_index=True,
    )
    return backtest(df, h=7, n_windows=3, models=["seasonal_es", "tsb"])


def test_windows_and_cutoffs(result):
    cuts = sorted(result.cv["cutoff"].unique())
    assert len(cuts) == 3
    assert np.diff(cuts).astype("timedelta64[D]").astype(int).tolist() == [7, 7]
    assert result.cv.groupby(["unique_id", "model", "cutoff"]).size().eq(7).all()
    assert result.card["backtest"]["cutoffs"] == [
        pd.Timestamp(c).strftime("%Y-%m-%d") for c in cuts
    ]


def test_seasonal_naive_forecast_uses_only_data_before_the_cutoff(result):
    sn = result.cv[(result.cv["model"] == "seasonal_naive") & (result.cv["unique_id"] == "a")]
    df = weekly_series("a", 120, seed=1).set_index("ds")["y"]
    for cut, w in sn.groupby("cutoff"):
        expected = [df[cut - pd.Timedelta(days=7 - k)] for k in range(1, 8)]
        assert w.sort_values("ds")["yhat"].tolist() == expected


def test_models_run_on_the_demand_classes_they_suit(result):
    ran = result.per_series.groupby("model")["unique_id"].apply(set).to_dict()
    assert ran["seasonal_naive"] == {"a", "b", "c"}
    assert ran["seasonal_es"] == {"a", "b"}
    assert ran["tsb"] == {"c"}


def test_summary_has_every_class_and_ratio_to_baseline(result):
    s = result.summary.set_index(["demand_class", "model"])
    assert s.loc[("all", "seasonal_naive"), "mase_ratio"] == pytest.approx(1.0)
    assert {"all", "smooth", "intermittent"} <= set(result.summary["demand_class"])
    smooth = result.per_series[result.per_series["demand_class"] == "smooth"]
    es = smooth[smooth["model"] == "seasonal_es"]["mase"].mean()
    sn = smooth[smooth["model"] == "seasonal_naive"]["mase"].mean()
    assert s.loc[("smooth", "seasonal_es"), "mase_ratio"] == pytest.approx(es / sn)
    # smoothing beats last week's value on stationary noisy weekly data
    assert s.loc[("smooth", "seasonal_es"), "mase_ratio"] < 1


def test_model_card_lists_data_design_and_metrics(result):
    card = result.card
    assert card["data"]["series"] == 3
    assert card["data"]["demand_classes"] == {"intermittent": 1, "smooth": 2}
    assert card["backtest"]["h"] == 7
    assert card["backtest"]["n_windows"] == 3
    assert set(card["models"]) == {"seasonal_naive", "seasonal_es", "tsb"}
    assert card["models"]["seasonal_naive"]["mase_ratio_to_seasonal_naive"] == 1.0


def test_too_short_series_are_skipped_and_too_little_data_is_refused():
    short = weekly_series("a", 20)
    with pytest.raises(InputError, match="no series can be backtested"):
        backtest(short, h=7, n_windows=2, models=["seasonal_naive"])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"h": 0}, "h=0"),
        ({"h": 7, "n_windows": 0}, "n_windows=0"),
        ({"h": 7, "step_size": -1}, "step_size=-1"),
        ({"h": 7, "models": ["prophet"]}, "unknown model 'prophet'"),
        ({"h": 7, "models": []}, "models is empty"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(InputError, match=match):
        backtest(weekly_series("a", 60), **kw)
