"""Run models: rolling-origin backtests and final forecasts, for statsforecast and mlforecast.

Every function takes clean long frames (``unique_id, ds, y`` + exogenous columns, see
:func:`omnicrm.models.forecast.data.prepare_series`) and returns long frames with one row per
series, period and model: ``unique_id, ds, [cutoff, y,] model, yhat``. Forecasts are clipped
at 0 (demand cannot be negative), in backtests as in final forecasts, so accuracy is measured on
what is actually delivered.

The global LightGBM model uses, for a season length ``m``: lags 1, 2 and ``m``; rolling means
of the last ``m`` and ``4m`` periods and the mean of the same period over the last 4 seasons;
day of week, day of month and month (daily) or month and ISO week (weekly); and every
exogenous column (price, promotion, holiday …). The target is standardised per series
(mlforecast ``LocalStandardScaler``) so one model serves slow and fast movers. Multi-step
forecasts are recursive. statsforecast runs in this process (``n_jobs`` is given to LightGBM
only): its fast models are vectorised C++ and a process pool costs more to start than it
saves. Its backtest trains once at the first origin (``refit=False``) and
rolls forward with the observed values, which keeps a backtest of thousands of series cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from omnicrm.models.forecast.data import check_freq
from omnicrm.models.forecast.models import MODELS

DEFAULT_LGBM: dict[str, Any] = {
    "n_estimators": 150,
    "learning_rate": 0.08,
    "num_leaves": 31,
    "min_child_samples": 50,
    "max_bin": 63,
    "colsample_bytree": 0.9,
    "verbosity": -1,
}
"""LightGBM settings of the global model (override with ``lgbm_params``)."""


def _long(wide: pd.DataFrame, name: str, keep: Sequence[str]) -> pd.DataFrame:
    out = wide[list(keep)].copy()
    out["model"] = name
    out["yhat"] = np.clip(wide[name].to_numpy(dtype="float64"), 0.0, None)
    return out


def stat_cross_validation(
    df: pd.DataFrame,
    name: str,
    *,
    h: int,
    n_windows: int,
    step_size: int,
    season_length: int,
    freq: str,
) -> pd.DataFrame:
    """Rolling-origin backtest of one statsforecast model on every series of ``df``."""
    from statsforecast import StatsForecast

    sf = StatsForecast(models=[MODELS[name].build(season_length)], freq=check_freq(freq))
    cv = sf.cross_validation(
        h=h, df=df[["unique_id", "ds", "y"]], n_windows=n_windows, step_size=step_size
    )
    return _long(cv, name, ["unique_id", "ds", "cutoff", "y"])


def stat_forecast(
    df: pd.DataFrame,
    name: str,
    *,
    h: int,
    season_length: int,
    freq: str,
) -> pd.DataFrame:
    """Fit one statsforecast model per series of ``df`` and forecast ``h`` periods."""
    from statsforecast import StatsForecast

    sf = StatsForecast(models=[MODELS[name].build(season_length)], freq=check_freq(freq))
    fc = sf.forecast(h=h, df=df[["unique_id", "ds", "y"]])
    return _long(fc, name, ["unique_id", "ds"])


def _iso_week(dates: pd.DatetimeIndex) -> np.ndarray:
    return dates.isocalendar().week.to_numpy(dtype="int64")


def _ml(season_length: int, freq: str, lgbm_params: dict[str, Any] | None, n_jobs: int) -> Any:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean, SeasonalRollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    m = season_length
    params = {**DEFAULT_LGBM, **(lgbm_params or {}), "n_jobs": n_jobs}
    lag_transforms: dict[int, list[Any]] = {
        1: [
            RollingMean(window_size=m, min_samples=1),
            RollingMean(window_size=4 * m, min_samples=1),
        ],
    }
    if m > 1:
        lag_transforms[1].append(SeasonalRollingMean(season_length=m, window_size=4, min_samples=1))
    date_features: list[Any] = (
        ["dayofweek", "day", "month"] if freq == "D" else ["month", _iso_week]
    )
    return MLForecast(
        models={"lgbm": lgb.LGBMRegressor(**params)},
        freq=check_freq(freq),
        lags=sorted({1, 2, m}),
        lag_transforms=lag_transforms,
        date_features=date_features,
        target_transforms=[LocalStandardScaler()],
        num_threads=n_jobs,
    )


def _tail(df: pd.DataFrame, n: int | None) -> pd.DataFrame:
    if n is None:
        return df
    pos = df.groupby("unique_id", sort=False).cumcount(ascending=False)
    return df[pos.to_numpy() < n]


def ml_cross_validation(
    df: pd.DataFrame,
    *,
    h: int,
    n_windows: int,
    step_size: int,
    season_length: int,
    freq: str,
    lgbm_params: dict[str, Any] | None = None,
    n_jobs: int = 1,
    input_size: int | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of the global LightGBM model (trained once, at the first origin).

    ``input_size`` limits the training periods per series (the most recent ones).
    """
    fc = _ml(season_length, freq, lgbm_params, n_jobs)
    cv = fc.cross_validation(
        df,
        n_windows=n_windows,
        h=h,
        step_size=step_size,
        static_features=[],
        refit=False,
        input_size=input_size,
    )
    return _long(cv, "lgbm", ["unique_id", "ds", "cutoff", "y"])


def ml_forecast(
    df: pd.DataFrame,
    *,
    h: int,
    season_length: int,
    freq: str,
    X_df: pd.DataFrame | None = None,
    lgbm_params: dict[str, Any] | None = None,
    n_jobs: int = 1,
    input_size: int | None = None,
) -> pd.DataFrame:
    """Train the global LightGBM model on ``df`` and forecast ``h`` periods of every series.

    ``X_df`` holds the exogenous columns for the ``h`` future periods of every series (required
    when ``df`` has exogenous columns).
    """
    fc = _ml(season_length, freq, lgbm_params, n_jobs)
    keep = None if input_size is None else input_size + 4 * season_length
    fc.fit(_tail(df, keep), static_features=[])
    out = fc.predict(h, X_df=X_df)
    return _long(out, "lgbm", ["unique_id", "ds"])
