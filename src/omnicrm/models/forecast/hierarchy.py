"""Coherent forecasts across levels: bottom-up aggregation of the chosen product x store
forecasts to category, region and total.

Point forecasts: each aggregate is the exact sum of its bottom series' forecasts. Bottom
forecasts carry 3 decimals (the warehouse quantity scale); sums are taken in integer
thousandths, so the total equals the sum of the stores to the unit and to the thousandth —
no floating-point drift, whatever the number of series.

Intervals of an aggregate (sums of quantiles are not quantiles): the bottom-up forecast is
backtested too — the chosen bottom models' backtest forecasts are summed per aggregate, origin
and period and compared with the summed actuals — and the conformal half-width comes from
those aggregate errors (:mod:`~omnicrm.models.forecast.intervals`). An aggregate none of whose
series was backtested gets ``sqrt(sum q_i^2)`` of its children's half-widths (independent
errors assumed).

Examples
--------
>>> import pandas as pd
>>> fc = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.to_datetime(["2024-01-01"] * 2),
...                    "yhat": [1.111, 2.222]})
>>> tags = pd.DataFrame({"unique_id": ["a", "b"], "region": ["N", "N"]})
>>> sum_exact(fc, tags, "region")["yhat"].tolist()
[3.333]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.base import check_is_fitted
from omnicrm.models.forecast.forecaster import DECIMALS, DemandForecaster
from omnicrm.models.forecast.intervals import apply_intervals, conformal_widths

_SCALE = 10**DECIMALS


def _node(level: str, value: pd.Series) -> pd.Series:
    return (
        pd.Series("total", index=value.index)
        if level == "total"
        else (level + "=" + value.astype(str))
    )


def _tagged(frame: pd.DataFrame, tags: pd.DataFrame, level: str) -> pd.DataFrame:
    t = tags.set_index("unique_id")
    col = t[level] if level != "total" else pd.Series("total", index=t.index)
    node = _node(level, col)
    out = frame.copy()
    out["node"] = node.reindex(out["unique_id"]).to_numpy()
    if out["node"].isna().any():
        bad = out.loc[out["node"].isna(), "unique_id"].iloc[0]
        raise InputError(f"series {bad!r} has no row in the hierarchy tags; tag every series")
    return out


def sum_exact(forecast: pd.DataFrame, tags: pd.DataFrame, level: str) -> pd.DataFrame:
    """Sum ``yhat`` of bottom series per node of ``level`` and period, exactly (thousandths)."""
    f = _tagged(forecast, tags, level)
    f["milli"] = np.rint(f["yhat"].to_numpy(dtype="float64") * _SCALE).astype("int64")
    g = f.groupby(["node", "ds"], sort=True)["milli"].sum().reset_index()
    return pd.DataFrame({"unique_id": g["node"], "ds": g["ds"], "yhat": g["milli"] / _SCALE})


def reconcile_bottom_up(
    forecaster: DemandForecaster,
    tags: pd.DataFrame,
    levels: Sequence[str] = ("category", "region", "total"),
) -> pd.DataFrame:
    """Bottom-up forecasts with intervals for the requested levels, plus the bottom level.

    Parameters
    ----------
    forecaster : DemandForecaster
        Fitted on the bottom series (e.g. product x store).
    tags : DataFrame
        ``unique_id`` of every bottom series and one column per level in ``levels`` (except
        ``"total"``), e.g. the hierarchy columns returned by
        :func:`~omnicrm.models.forecast.series.demand_series`.
    levels : sequence of str
        Aggregation levels.

    Returns
    -------
    DataFrame
        ``level, unique_id, ds, model, yhat, yhat_lo_<L>, yhat_hi_<L>…``; bottom rows have
        ``level = "bottom"`` and their chosen model, aggregate rows ``model = "bottom_up"``.
    """
    check_is_fitted(forecaster)
    missing = [lv for lv in levels if lv != "total" and lv not in tags.columns]
    if missing or "unique_id" not in tags.columns:
        raise InputError(
            f"hierarchy tags lack columns {['unique_id', *missing]}; they have {list(tags.columns)}"
        )
    fc = forecaster.forecast_
    level_pcts = [int(c.rsplit("_", 1)[1]) for c in fc.columns if c.startswith("yhat_lo_")]
    bottom = fc.assign(level="bottom")
    out = [bottom]
    bt = getattr(forecaster, "backtest_", None)
    chosen = None
    if bt is not None and len(bt.cv):
        chosen = bt.cv.merge(
            forecaster.selection_[["unique_id", "model"]], on=["unique_id", "model"]
        )
    sel = forecaster.selection_.set_index("unique_id")
    for level in levels:
        agg = sum_exact(fc, tags, level)
        if chosen is not None and len(chosen):
            c = _tagged(chosen, tags, level)
            s = c.groupby(["node", "cutoff", "ds"], sort=False)[["y", "yhat"]].sum().reset_index()
            errors = pd.DataFrame({"unique_id": s["node"], "error": s["yhat"] - s["y"]})
            widths = conformal_widths(errors, level_pcts)
        else:
            widths = pd.DataFrame(columns=["unique_id", *[f"q_{p}" for p in level_pcts]])
        # nodes without any backtested child: root-sum-square of the children's widths
        child = _tagged(pd.DataFrame({"unique_id": sel.index}), tags, level)
        rss = {}
        first = fc.groupby("unique_id").first()
        for p in level_pcts:
            half = first[f"yhat_hi_{p}"] - first["yhat"]
            sq = half.reindex(child["unique_id"]).to_numpy() ** 2
            rss[f"q_{p}"] = pd.Series(sq).groupby(child["node"].to_numpy()).sum() ** 0.5
        rss_frame = pd.DataFrame(rss).rename_axis("unique_id").reset_index()
        widths = pd.concat(
            [widths, rss_frame[~rss_frame["unique_id"].isin(widths["unique_id"])]],
            ignore_index=True,
        )
        agg = apply_intervals(agg, widths, level_pcts)
        agg["model"], agg["level"] = "bottom_up", level
        out.append(agg)
    res = pd.concat(out, ignore_index=True)
    cols = [
        "level",
        "unique_id",
        "ds",
        "model",
        "yhat",
        *[f"yhat_{s}_{p}" for p in level_pcts for s in ("lo", "hi")],
    ]
    for c in cols[5:]:
        res[c] = np.round(res[c].to_numpy(dtype="float64"), DECIMALS)
    return res[cols]
