"""DemandForecaster: selection by backtest, intervals, bad-input handling, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.forecast import DemandForecaster

from .conftest import weekly_series


def test_forecast_shape_and_columns(fitted, mixed_frame):
    fc = fitted.predict()
    assert list(fc.columns) == [
        "unique_id",
        "ds",
        "model",
        "yhat",
        "yhat_lo_80",
        "yhat_hi_80",
        "yhat_lo_95",
        "yhat_hi_95",
    ]
    assert fc.groupby("unique_id").size().eq(14).all()
    assert set(fc["unique_id"]) == set(mixed_frame["unique_id"])
    assert fc["ds"].min() == mixed_frame["ds"].max() + pd.Timedelta(days=1)


def test_intervals_are_nested_and_non_negative(fitted):
    fc = fitted.predict()
    assert (fc["yhat_lo_95"] <= fc["yhat_lo_80"]).all()
    assert (fc["yhat_lo_80"] <= fc["yhat"]).all()
    assert (fc["yhat"] <= fc["yhat_hi_80"]).all()
    assert (fc["yhat_hi_80"] <= fc["yhat_hi_95"]).all()
    assert (fc["yhat_lo_95"] >= 0).all()


def test_each_backtested_series_gets_its_lowest_mase_candidate(fitted):
    per = fitted.backtest_.per_series
    sel = fitted.selection_.set_index("unique_id")
    for uid, g in per.groupby("unique_id"):
        assert sel.loc[uid, "how"] == "backtest"
        assert sel.loc[uid, "model"] == g.loc[g["mase"].idxmin(), "model"]
        assert sel.loc[uid, "mase"] == pytest.approx(g["mase"].min())
    assert set(sel.loc[sel["demand_class"] == "intermittent", "model"]) <= {
        "seasonal_naive",
        "croston",
        "tsb",
        "adida",
    }


def test_point_forecasts_come_from_the_chosen_model(fitted):
    fc = fitted.predict()
    chosen = fitted.selection_.set_index("unique_id")["model"]
    assert (fc["model"].to_numpy() == chosen.reindex(fc["unique_id"]).to_numpy()).all()


def test_interval_width_is_the_conformal_quantile_of_backtest_errors(fitted):
    uid = "smooth0"
    cv = fitted.backtest_.cv
    model = fitted.selection_.set_index("unique_id").loc[uid, "model"]
    err = np.sort(
        np.abs((cv["yhat"] - cv["y"])[(cv["unique_id"] == uid) & (cv["model"] == model)].to_numpy())
    )
    k = int(np.ceil((len(err) + 1) * 0.8)) - 1
    row = fitted.predict().query("unique_id == @uid").iloc[0]
    assert row["yhat_hi_80"] - row["yhat"] == pytest.approx(err[k], abs=2e-3)


def test_short_all_zero_and_negative_series_are_handled_and_reported(fitted):
    diag = fitted.diagnostics_.set_index("unique_id")
    sel = fitted.selection_.set_index("unique_id")
    fc = fitted.predict().set_index("unique_id")
    assert sel.loc["short", "how"] == "short_series_rule"
    assert sel.loc["short", "model"] == "naive"  # 6 days < two weeks: non-seasonal
    assert "shorter than two seasons" in diag.loc["short", "notes"]
    assert "1 negative values (returns) clipped to 0" in diag.loc["short", "notes"]
    assert fc.loc["short", "yhat"].eq(6.0).all()  # naive = last value
    assert sel.loc["zero", "model"] == "zero"
    assert fc.loc["zero", ["yhat", "yhat_lo_95", "yhat_hi_95"]].eq(0).all().all()
    assert "all-zero history" in diag.loc["zero", "notes"]


def test_predict_truncates_and_checks_h(fitted):
    assert fitted.predict(3).groupby("unique_id").size().eq(3).all()
    with pytest.raises(InputError, match="between 1 and the fitted h=14"):
        fitted.predict(15)


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        DemandForecaster().predict()


def test_save_and_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "f.json")
    back = DemandForecaster.load(path)
    assert back.get_params() == {
        **fitted.get_params(),
        "models": list(fitted.models),
        "levels": list(fitted.levels),
    }
    pd.testing.assert_frame_equal(back.predict(), fitted.predict(), check_dtype=False)
    assert back.card_ == fitted.card_


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"levels": (80, 100)}, "1..99"),
        ({"levels": ("x",)}, "whole percentages"),
        ({"freq": "H"}, "freq='H'"),
        ({"models": ["nope"]}, "unknown model"),
    ],
)
def test_bad_settings_raise_input_error(kw, match):
    with pytest.raises(InputError, match=match):
        DemandForecaster(h=7, n_windows=1, **kw).fit(weekly_series("a", 60))


def test_exogenous_columns_need_future_values():
    df = weekly_series("a", 60).assign(promo=0.0)
    with pytest.raises(InputError, match="X_df is missing"):
        DemandForecaster(h=7, models=["lgbm"], n_windows=1).fit(df)
    fut = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-03-01", periods=3), "promo": 1.0}
    )
    with pytest.raises(InputError, match="X_df has no values"):
        DemandForecaster(h=7, models=["lgbm"], n_windows=1).fit(df, X_df=fut)


def test_lgbm_learns_promotions_given_with_a_holiday_calendar():
    rng = np.random.default_rng(5)
    n, h = 210, 14
    parts, futs = [], []
    for i in range(6):
        promo = (rng.random(n + h) < 0.1).astype(float)
        ds = pd.date_range("2024-01-01", periods=n + h)
        y = rng.poisson(6 + 18 * promo).astype(float)
        parts.append(
            pd.DataFrame({"unique_id": f"s{i}", "ds": ds[:n], "y": y[:n], "promo": promo[:n]})
        )
        futs.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds[n:], "promo": promo[n:]}))
    hol = [pd.Timestamp("2024-07-04")]
    f = DemandForecaster(h=h, models=["lgbm"], n_windows=2, holidays=hol).fit(
        pd.concat(parts), X_df=pd.concat(futs)
    )
    fc = f.predict().merge(pd.concat(futs), on=["unique_id", "ds"])
    lg = f.backtest_.summary.set_index(["demand_class", "model"])
    assert lg.loc[("all", "lgbm"), "mase_ratio"] < 0.8
    assert (f.selection_["model"] == "lgbm").all()
    assert fc.loc[fc["promo"] == 1, "yhat"].mean() > fc.loc[fc["promo"] == 0, "yhat"].mean() + 8


def test_only_zero_and_single_point_series_still_forecast():
    df = pd.DataFrame(
        {
            "unique_id": ["z", "z", "o"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]),
            "y": [0.0, 0.0, 5.0],
        }
    )
    f = DemandForecaster(h=3, n_windows=1).fit(df)
    fc = f.predict().set_index("unique_id")
    assert fc.loc["z", "yhat"].eq(0).all()
    assert fc.loc["o", "yhat"].eq(5).all()
    assert fc.loc["o", "yhat_hi_95"].eq(10).all()  # one point: its value is the width
    assert f.backtest_ is None
    assert f.card_["selected"] == {"naive": 1, "zero": 1}
