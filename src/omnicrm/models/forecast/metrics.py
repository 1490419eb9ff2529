"""Forecast accuracy: MASE, RMSSE, WAPE and bias, for one series or a whole backtest.

Definitions (``e_t = yhat_t - y_t`` over the ``h`` forecast periods, ``m`` the season length,
``y_1..y_n`` the training data before the forecast origin):

- MASE (Hyndman & Koehler 2006): ``mean|e_t| / (1/(n-m) * sum_{t=m+1..n} |y_t - y_{t-m}|)``,
  the error relative to the in-sample seasonal naive forecast.
- RMSSE (M5 competition): ``sqrt(mean(e_t^2) / (1/(n-m) * sum_{t=m+1..n} (y_t - y_{t-m})^2))``.
  (M5 scales by the one-step naive, ``m = 1``; here the scale is the seasonal naive like MASE,
  so that both metrics compare against the same baseline.)
- WAPE: ``sum|e_t| / sum y_t`` (M5's weighted absolute percentage error; NaN when no demand).
- bias: ``sum e_t / sum y_t``; positive means over-forecasting.

When a series has ``n <= m`` training points the scale falls back to the one-step naive
(``m = 1``). A zero scale (constant history) makes MASE/RMSSE undefined (NaN).

Examples
--------
>>> import numpy as np
>>> train = np.array([1.0, 2, 3, 4, 5, 6])
>>> round(mase([7.0, 8], [6.0, 9], train, season_length=2), 3)
0.5
>>> wape([10.0, 0, 10], [8.0, 1, 12])
0.25
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omnicrm.errors import InputError


def _arrays(y_true: Sequence[float], y_pred: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype="float64")
    b = np.asarray(y_pred, dtype="float64")
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise InputError(
            f"y_true and y_pred must be non-empty 1-d arrays of the same length; got shapes "
            f"{a.shape} and {b.shape}"
        )
    return a, b


def _scale(y_train: Sequence[float], season_length: int, power: int) -> float:
    y = np.asarray(y_train, dtype="float64")
    m = season_length if y.size > season_length else 1
    if y.size <= m:
        raise InputError(
            f"y_train has {y.size} values; the scale needs at least {m + 1} (season_length + 1 "
            "or 2)"
        )
    d = np.abs(y[m:] - y[:-m]) ** power
    return float(d.mean())


def mase(
    y_true: Sequence[float],
    y_pred: Sequence[float],
    y_train: Sequence[float],
    *,
    season_length: int = 7,
) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006) of one series.

    Examples
    --------
    >>> mase([3.0, 3.0], [2.0, 4.0], [1.0, 2.0, 3.0], season_length=1)
    1.0
    """
    a, b = _arrays(y_true, y_pred)
    s = _scale(y_train, season_length, 1)
    return float(np.mean(np.abs(b - a)) / s) if s > 0 else float("nan")


def rmsse(
    y_true: Sequence[float],
    y_pred: Sequence[float],
    y_train: Sequence[float],
    *,
    season_length: int = 7,
) -> float:
    """Root mean squared scaled error (M5) of one series, scaled by the seasonal naive.

    Examples
    --------
    >>> rmsse([3.0, 3.0], [1.0, 5.0], [1.0, 2.0, 3.0], season_length=1)
    2.0
    """
    a, b = _arrays(y_true, y_pred)
    s = _scale(y_train, season_length, 2)
    return float(np.sqrt(np.mean((b - a) ** 2) / s)) if s > 0 else float("nan")


def wape(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Weighted absolute percentage error ``sum|e| / sum y`` (NaN when ``sum y == 0``).

    Examples
    --------
    >>> wape([2.0, 2.0], [1.0, 4.0])
    0.75
    """
    a, b = _arrays(y_true, y_pred)
    tot = a.sum()
    return float(np.abs(b - a).sum() / tot) if tot != 0 else float("nan")


def bias(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Relative bias ``sum(yhat - y) / sum y``; positive = over-forecast.

    Examples
    --------
    >>> bias([2.0, 2.0], [1.0, 4.0])
    0.25
    """
    a, b = _arrays(y_true, y_pred)
    tot = a.sum()
    return float((b - a).sum() / tot) if tot != 0 else float("nan")


def scales_at_cutoffs(
    history: pd.DataFrame, cutoffs: pd.DataFrame, *, season_length: int
) -> pd.DataFrame:
    """In-sample seasonal-naive scales of each series at each forecast origin (vectorised).

    Parameters
    ----------
    history : DataFrame
        ``unique_id, ds, y`` sorted by series and time, one row per period (no gaps).
    cutoffs : DataFrame
        ``unique_id, cutoff``: the last training period of each backtest window.
    season_length : int
        ``m``. Series with ``m`` or fewer points at a cutoff use ``m = 1``.

    Returns
    -------
    DataFrame
        ``unique_id, cutoff, scale_abs, scale_sq`` (mean absolute / squared ``m``-differences
        of the training data up to and including ``cutoff``; NaN if it has a single point).
    """
    h = history[["unique_id", "ds", "y"]]
    g = h.groupby("unique_id", sort=False)["y"]
    out = []
    for m in sorted({season_length, 1}):
        d = (h["y"] - g.shift(m)).to_numpy()
        frame = pd.DataFrame(
            {
                "unique_id": h["unique_id"].to_numpy(),
                "ds": h["ds"].to_numpy(),
                "abs": np.abs(d),
                "sq": d * d,
                "n": ~np.isnan(d),
            }
        )
        frame[["abs", "sq"]] = frame[["abs", "sq"]].fillna(0.0)
        frame[["abs", "sq", "n"]] = frame.groupby("unique_id", sort=False)[
            ["abs", "sq", "n"]
        ].cumsum()
        frame["m"] = m
        out.append(frame)
    both = pd.concat(out, ignore_index=True)
    merged = cutoffs.merge(
        both, left_on=["unique_id", "cutoff"], right_on=["unique_id", "ds"], how="left"
    )
    # prefer the seasonal difference when it has at least one term
    merged["ok"] = merged["n"] > 0
    merged["rank"] = np.where(merged["m"] == season_length, 0, 1)
    merged = merged.sort_values(
        ["unique_id", "cutoff", "ok", "rank"], ascending=[True, True, False, True], kind="stable"
    )
    first = merged.drop_duplicates(["unique_id", "cutoff"], keep="first")
    n = first["n"].where(first["n"] > 0)
    return pd.DataFrame(
        {
            "unique_id": first["unique_id"].to_numpy(),
            "cutoff": first["cutoff"].to_numpy(),
            "scale_abs": (first["abs"] / n).to_numpy(),
            "scale_sq": (first["sq"] / n).to_numpy(),
        }
    )


def evaluate(cv: pd.DataFrame, history: pd.DataFrame, *, season_length: int) -> pd.DataFrame:
    """Accuracy of every model on every series of a backtest.

    Parameters
    ----------
    cv : DataFrame
        Long backtest frame ``unique_id, ds, cutoff, y, model, yhat``.
    history : DataFrame
        The full clean series ``unique_id, ds, y`` (scales use only data up to each cutoff).
    season_length : int
        ``m`` of the scales.

    Returns
    -------
    DataFrame
        One row per series and model: ``unique_id, model, windows, mase, rmsse, mae,
        abs_error, squared_error, error, demand`` where MASE and RMSSE are the means over the
        windows of the per-window scaled errors, and the last four are sums over all windows
        (for pooled WAPE and bias).
    """
    cut = cv[["unique_id", "cutoff"]].drop_duplicates()
    scales = scales_at_cutoffs(history, cut, season_length=season_length)
    e = cv["yhat"].to_numpy() - cv["y"].to_numpy()
    frame = pd.DataFrame(
        {
            "unique_id": cv["unique_id"].to_numpy(),
            "model": cv["model"].to_numpy(),
            "cutoff": cv["cutoff"].to_numpy(),
            "abs": np.abs(e),
            "sq": e * e,
            "err": e,
            "y": cv["y"].to_numpy(),
        }
    )
    w = (
        frame.groupby(["unique_id", "model", "cutoff"], sort=False)
        .agg(
            mae=("abs", "mean"),
            mse=("sq", "mean"),
            abs_error=("abs", "sum"),
            squared_error=("sq", "sum"),
            error=("err", "sum"),
            demand=("y", "sum"),
        )
        .reset_index()
    )
    w = w.merge(scales, on=["unique_id", "cutoff"], how="left")
    w["mase"] = w["mae"] / w["scale_abs"].where(w["scale_abs"] > 0)
    w["rmsse"] = np.sqrt(w["mse"] / w["scale_sq"].where(w["scale_sq"] > 0))
    s = (
        w.groupby(["unique_id", "model"], sort=True)
        .agg(
            windows=("cutoff", "size"),
            mase=("mase", "mean"),
            rmsse=("rmsse", "mean"),
            mae=("mae", "mean"),
            abs_error=("abs_error", "sum"),
            squared_error=("squared_error", "sum"),
            error=("error", "sum"),
            demand=("demand", "sum"),
        )
        .reset_index()
    )
    return s


def summarise(per_series: pd.DataFrame, by: Sequence[str] = ("model",)) -> pd.DataFrame:
    """Pool per-series accuracy: mean MASE/RMSSE over series, pooled WAPE and bias.

    Returns
    -------
    DataFrame
        ``*by, series, mase, rmsse, wape, bias``.
    """
    by = list(by)
    g = per_series.groupby(by, sort=True)
    out = g.agg(
        series=("unique_id", "nunique"),
        mase=("mase", "mean"),
        rmsse=("rmsse", "mean"),
        abs_error=("abs_error", "sum"),
        error=("error", "sum"),
        demand=("demand", "sum"),
    ).reset_index()
    d = out["demand"].where(out["demand"] != 0)
    out["wape"] = out["abs_error"] / d
    out["bias"] = out["error"] / d
    return out[[*by, "series", "mase", "rmsse", "wape", "bias"]]
