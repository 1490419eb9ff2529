"""Rolling-origin backtests: accuracy per model, series and demand class, and a model card.

The last ``h + (n_windows - 1) * step_size`` periods are forecast ``n_windows`` times, each
time from an origin (cutoff) ``step_size`` periods later, with models trained only on data up to
the origin. A series is backtested when it has at least two seasons of training data before the
first origin and is not all zero; the others are listed in the diagnostics. The seasonal naive
baseline is always run, and every model's MASE is also given as a ratio to the baseline's
on the same series.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> t = np.arange(120)
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=120),
...                    "y": 10 + 5 * (t % 7 == 5) + rng.poisson(1, 120)})
>>> bt = backtest(df, h=7, n_windows=2, models=["seasonal_es"])
>>> sorted(bt.card["models"])
['seasonal_es', 'seasonal_naive']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.forecast import engine
from omnicrm.models.forecast.data import Columns, prepare_series
from omnicrm.models.forecast.metrics import evaluate, summarise
from omnicrm.models.forecast.models import BASELINE, COMBO, MODELS, combine, expand_models


@dataclass
class BacktestResult:
    """Everything a backtest measured.

    Attributes
    ----------
    cv : DataFrame
        ``unique_id, ds, cutoff, y, model, yhat``: every backtest forecast.
    per_series : DataFrame
        One row per series and model: ``unique_id, demand_class, model, windows, mase, rmsse,
        wape, bias, mae, abs_error, squared_error, error, demand``.
    summary : DataFrame
        One row per demand class (and ``"all"``) and model: ``demand_class, model, series,
        mase, rmsse, wape, bias, mase_ratio`` (MASE / the baseline's MASE on the same series).
    card : dict
        Model card: data window, windows, metrics per model and ratio to the baseline.
    diagnostics : DataFrame
        Per series: cleaning counts, demand class and whether it was backtested.
    """

    cv: pd.DataFrame
    per_series: pd.DataFrame
    summary: pd.DataFrame
    card: dict[str, Any]
    diagnostics: pd.DataFrame = field(repr=False)


def check_backtest_args(h: Any, n_windows: Any, step_size: Any) -> int:
    """Validate ``h``, ``n_windows`` and ``step_size``; return the step size used."""
    for name, value in (("h", h), ("n_windows", n_windows)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise InputError(f"{name}={value!r} must be an integer >= 1")
    step = h if step_size is None else step_size
    if not isinstance(step, (int, np.integer)) or isinstance(step, bool) or step < 1:
        raise InputError(f"step_size={step_size!r} must be an integer >= 1 (default: h)")
    return int(step)


def min_length(h: int, n_windows: int, step: int, season_length: int) -> int:
    """Periods a series needs to be backtested: two seasons before the first origin."""
    return 2 * max(season_length, 1) + h + (n_windows - 1) * step


def run_backtest(
    clean: pd.DataFrame,
    diag: pd.DataFrame,
    names: Sequence[str],
    *,
    h: int,
    n_windows: int,
    step: int,
    season_length: int,
    freq: str,
    n_jobs: int = 1,
    lgbm_params: dict[str, Any] | None = None,
    input_size: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest ``names`` on eligible series; return ``(cv, per_series)`` (may be empty).

    ``diag`` gains a boolean column ``backtested``.
    """
    need = min_length(h, n_windows, step, season_length)
    diag["backtested"] = (diag["n_obs"] >= need) & ~diag["all_zero"]
    classes = diag.set_index("unique_id")["demand_class"]
    eligible = diag.loc[diag["backtested"], "unique_id"]
    parts: list[pd.DataFrame] = []
    if len(eligible):
        data = clean[clean["unique_id"].isin(eligible)]
        for name in names:
            spec = MODELS[name]
            if spec.kind == "combo":
                continue
            ids = (
                eligible
                if name == BASELINE
                else eligible[classes.reindex(eligible).isin(spec.classes).to_numpy()]
            )
            if not len(ids):
                continue
            sub = data if len(ids) == len(eligible) else data[data["unique_id"].isin(ids)]
            kw = {
                "h": h,
                "n_windows": n_windows,
                "step_size": step,
                "season_length": season_length,
                "freq": freq,
            }
            if spec.kind == "ml":
                parts.append(
                    engine.ml_cross_validation(
                        sub, lgbm_params=lgbm_params, input_size=input_size, n_jobs=n_jobs, **kw
                    )
                )
            else:
                parts.append(engine.stat_cross_validation(sub, name, **kw))
    cols = ["unique_id", "ds", "cutoff", "y", "model", "yhat"]
    cv = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    if COMBO in names and len(cv):
        cv = pd.concat([cv, combine(cv, ["unique_id", "ds", "cutoff"])[cols]], ignore_index=True)
    if cv.empty:
        return cv, pd.DataFrame(
            columns=[
                "unique_id",
                "demand_class",
                "model",
                "windows",
                "mase",
                "rmsse",
                "wape",
                "bias",
            ]
        )
    per = evaluate(cv, clean, season_length=season_length)
    d = per["demand"].where(per["demand"] != 0)
    per["wape"] = per["abs_error"] / d
    per["bias"] = per["error"] / d
    per.insert(1, "demand_class", classes.reindex(per["unique_id"]).to_numpy())
    return cv, per


def summary_table(per: pd.DataFrame) -> pd.DataFrame:
    """Per demand class (and ``"all"``) and model, with the MASE ratio to the baseline."""
    if per.empty:
        return pd.DataFrame(
            columns=[
                "demand_class",
                "model",
                "series",
                "mase",
                "rmsse",
                "wape",
                "bias",
                "mase_ratio",
            ]
        )
    both = pd.concat([per, per.assign(demand_class="all")], ignore_index=True)
    out = summarise(both, by=("demand_class", "model"))
    base = both.loc[both["model"] == BASELINE, ["unique_id", "demand_class", "mase"]].rename(
        columns={"mase": "base"}
    )
    paired = both.merge(base, on=["unique_id", "demand_class"], how="inner")
    paired = paired[np.isfinite(paired["mase"]) & np.isfinite(paired["base"])]
    ratio = paired.groupby(["demand_class", "model"]).agg(m=("mase", "mean"), b=("base", "mean"))
    ratio["mase_ratio"] = ratio["m"] / ratio["b"].where(ratio["b"] > 0)
    out = out.merge(ratio[["mase_ratio"]].reset_index(), on=["demand_class", "model"], how="left")
    return out.sort_values(["demand_class", "mase"], kind="stable").reset_index(drop=True)


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def model_card(
    summary: pd.DataFrame,
    diag: pd.DataFrame,
    cv: pd.DataFrame,
    *,
    h: int,
    n_windows: int,
    step: int,
    freq: str,
    season_length: int,
) -> dict[str, Any]:
    """A JSON-friendly description of the data, the backtest design and the accuracy."""

    def rows(frame: pd.DataFrame) -> dict[str, Any]:
        return {
            r.model: {
                "series": int(r.series),
                "mase": _num(r.mase),
                "rmsse": _num(r.rmsse),
                "wape": _num(r.wape),
                "bias": _num(r.bias),
                "mase_ratio_to_seasonal_naive": _num(r.mase_ratio),
            }
            for r in frame.itertuples()
        }

    cutoffs = (
        sorted(pd.to_datetime(cv["cutoff"]).dt.strftime("%Y-%m-%d").unique()) if len(cv) else []
    )
    return {
        "data": {
            "series": len(diag),
            "first_ds": pd.Timestamp(diag["first_ds"].min()).strftime("%Y-%m-%d"),
            "last_ds": pd.Timestamp(diag["last_ds"].max()).strftime("%Y-%m-%d"),
            "freq": freq,
            "season_length": season_length,
            "demand_classes": {
                str(k): int(v) for k, v in diag["demand_class"].value_counts().sort_index().items()
            },
        },
        "backtest": {
            "h": h,
            "n_windows": n_windows,
            "step_size": step,
            "cutoffs": cutoffs,
            "series_backtested": int(diag.get("backtested", pd.Series(dtype=bool)).sum()),
            "baseline": BASELINE,
            "method": "rolling origin; models trained only on data up to each cutoff",
        },
        "models": rows(summary[summary["demand_class"] == "all"]),
        "by_class": {
            c: rows(summary[summary["demand_class"] == c])
            for c in summary["demand_class"].unique()
            if c != "all"
        },
    }


def backtest(
    df: pd.DataFrame,
    *,
    h: int,
    n_windows: int = 3,
    models: Sequence[str] = ("auto",),
    step_size: int | None = None,
    freq: str = "D",
    season_length: int = 7,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    n_jobs: int = 1,
    lgbm_params: dict[str, Any] | None = None,
    input_size: int | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of several models on long-format demand series.

    Parameters
    ----------
    df : DataFrame
        Long format ``unique_id, ds, y`` (names overridable) plus optional exogenous columns
        (price, promotion, holiday …, used by ``lgbm`` with their observed future values).
    h : int
        Horizon (periods) of each backtest forecast.
    n_windows : int
        Number of forecast origins.
    models : sequence of str
        Model names or ``"auto"`` (see :mod:`omnicrm.models.forecast.models`); the seasonal
        naive baseline is always added. Each model runs on the demand classes it is a
        candidate for (the baseline on every series).
    step_size : int, optional
        Periods between origins (default ``h``: non-overlapping windows).
    freq, season_length : str, int
        ``"D"`` or ``"W"``; periods per season.
    n_jobs : int
        Processes/threads for statsforecast and LightGBM.
    lgbm_params, input_size : optional
        LightGBM settings; most recent periods per series used to train it.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError
        Bad arguments or input frame, or no series long enough to backtest.
    """
    step = check_backtest_args(h, n_windows, step_size)
    names = expand_models(models)
    clean, diag = prepare_series(
        df, freq=freq, season_length=season_length, columns=Columns(id_col, time_col, target_col)
    )
    cv, per = run_backtest(
        clean,
        diag,
        names,
        h=h,
        n_windows=n_windows,
        step=step,
        season_length=season_length,
        freq=freq,
        n_jobs=n_jobs,
        lgbm_params=lgbm_params,
        input_size=input_size,
    )
    if cv.empty:
        need = min_length(h, n_windows, step, season_length)
        raise InputError(
            f"no series can be backtested: each needs at least {need} periods with some demand "
            f"(2 seasons + h + (n_windows - 1) * step_size); the longest has "
            f"{int(diag['n_obs'].max())}. Lower h or n_windows"
        )
    summary = summary_table(per)
    card = model_card(
        summary,
        diag,
        cv,
        h=h,
        n_windows=n_windows,
        step=step,
        freq=freq,
        season_length=season_length,
    )
    return BacktestResult(cv=cv, per_series=per, summary=summary, card=card, diagnostics=diag)
