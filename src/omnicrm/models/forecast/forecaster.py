"""``DemandForecaster``: backtest, choose a model per series, forecast with intervals.

Steps of :meth:`DemandForecaster.fit`:

1. Clean the series (gaps filled with 0, negative demand clipped to 0, classes by ADI/CV²);
   every fix is reported in ``diagnostics_``.
2. Rolling-origin backtest of the candidate models on every series long enough for it.
3. Per series, choose the candidate with the lowest MASE over the windows among the models
   suited to its demand class (lowest MAE when MASE is undefined, e.g. a constant history);
   ``combo``, the mean of the other candidates, competes like any model.
4. Refit the chosen models on the full history and forecast ``h`` periods. Series too short to
   backtest get a rule-based model (:data:`~omnicrm.models.forecast.models.SHORT_SERIES_MODEL`,
   non-seasonal below two seasons); all-zero series are forecast as 0.
5. Intervals: conformal half-widths from the chosen model's backtest errors
   (:mod:`omnicrm.models.forecast.intervals`).

Point forecasts are rounded to 3 decimals (the warehouse's quantity scale) so that sums of
forecasts are exact (see :mod:`omnicrm.models.forecast.hierarchy`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.base import FORMAT, FORMAT_VERSION, JSONModel, _to_json, check_is_fitted
from omnicrm.models.forecast import engine
from omnicrm.models.forecast.backtest import (
    BacktestResult,
    check_backtest_args,
    model_card,
    run_backtest,
    summary_table,
)
from omnicrm.models.forecast.data import Columns, future_dates, prepare_series
from omnicrm.models.forecast.intervals import (
    apply_intervals,
    check_levels,
    conformal_widths,
    naive_errors,
)
from omnicrm.models.forecast.models import (
    BASELINE,
    COMBO,
    MODELS,
    SHORT_SERIES_MODEL,
    combine,
    expand_models,
    season_model,
)

HOLIDAY_COLUMN = "holiday"
DECIMALS = 3


class DemandForecaster(JSONModel):
    """Demand forecasts per series with automatic model choice and prediction intervals.

    Parameters
    ----------
    h : int
        Forecast horizon in periods.
    freq : {"D", "W"}
        Daily or weekly (Monday) periods.
    models : sequence of str
        Candidate models or ``("auto",)``; see :mod:`omnicrm.models.forecast.models`.
    season_length : int
        Periods per season (7 for daily data).
    levels : sequence of int
        Interval levels in percent.
    n_windows, step_size : int
        Backtest origins and the periods between them (default ``h``).
    holidays : sequence of dates, optional
        Holidays/festivals (past and future); adds a 0/1 ``holiday`` feature for ``lgbm``.
    id_col, time_col, target_col : str
        Column names of the input frame.
    n_jobs : int
        Processes/threads for model fitting.
    lgbm_params : dict, optional
        LightGBM settings overriding :data:`~omnicrm.models.forecast.engine.DEFAULT_LGBM`.
    input_size : int, optional
        Most recent periods per series used to train ``lgbm``.

    Attributes
    ----------
    forecast_ : DataFrame
        ``unique_id, ds, model, yhat, yhat_lo_<L>, yhat_hi_<L>…``.
    selection_ : DataFrame
        Per series: ``unique_id, demand_class, model, how, mase, mase_seasonal_naive, sigma``.
    backtest_ : BacktestResult or None
        The selection backtest (None when no series could be backtested).
    diagnostics_ : DataFrame
        Per series cleaning counts, class, flags and a ``notes`` column in plain words.
    card_ : dict
        Model card of the backtest plus the selected models.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(84)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=84),
    ...                    "y": 10.0 + 6 * (t % 7 == 5)})
    >>> f = DemandForecaster(h=7, models=["seasonal_naive"], n_windows=2).fit(df)
    >>> f.predict()["yhat"].tolist()
    [10.0, 10.0, 10.0, 10.0, 10.0, 16.0, 10.0]
    """

    _fitted_attributes = ("forecast_", "selection_", "diagnostics_", "card_")

    def __init__(
        self,
        h: int = 28,
        freq: str = "D",
        models: Sequence[str] = ("auto",),
        season_length: int = 7,
        levels: Sequence[int] = (80, 95),
        n_windows: int = 3,
        step_size: int | None = None,
        holidays: Sequence[Any] | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        n_jobs: int = 1,
        lgbm_params: dict[str, Any] | None = None,
        input_size: int | None = None,
    ):
        self.h = h
        self.freq = freq
        self.models = models
        self.season_length = season_length
        self.levels = levels
        self.n_windows = n_windows
        self.step_size = step_size
        self.holidays = holidays
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.n_jobs = n_jobs
        self.lgbm_params = lgbm_params
        self.input_size = input_size

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, X_df: pd.DataFrame | None = None) -> DemandForecaster:
        """Backtest, select and forecast.

        Parameters
        ----------
        df : DataFrame
            History in long format plus optional exogenous columns (price, promotion …).
        X_df : DataFrame, optional
            Future values of the exogenous columns: ``id, time`` and those columns for the
            ``h`` periods after the last date (needed when ``df`` has exogenous columns and
            ``lgbm`` is chosen for some series).
        """
        step = check_backtest_args(self.h, self.n_windows, self.step_size)
        names = expand_models(self.models)
        levels = check_levels(self.levels)
        cols = Columns(self.id_col, self.time_col, self.target_col)
        clean, diag = prepare_series(
            df, freq=self.freq, season_length=self.season_length, columns=cols
        )
        exog = [c for c in clean.columns if c not in ("unique_id", "ds", "y")]
        if exog and X_df is None and "lgbm" in names:
            raise InputError(
                f"df has exogenous columns {exog} but X_df is missing: pass X_df with their "
                f"values for the {self.h} future periods, or drop those columns"
            )
        future = self._future_frame(clean, diag, X_df, exog, cols)
        if self.holidays is not None:
            hol = pd.DatetimeIndex(pd.to_datetime(list(self.holidays))).normalize()
            clean[HOLIDAY_COLUMN] = clean["ds"].isin(hol).astype("float64")
            future[HOLIDAY_COLUMN] = future["ds"].isin(hol).astype("float64")
            exog.append(HOLIDAY_COLUMN)
        common = {"season_length": self.season_length, "freq": self.freq}
        cv, per = run_backtest(
            clean,
            diag,
            names,
            h=self.h,
            n_windows=self.n_windows,
            step=step,
            lgbm_params=self.lgbm_params,
            input_size=self.input_size,
            n_jobs=self.n_jobs,
            **common,
        )
        selection = self._select(diag, per, names)

        # (series, model) pairs to forecast: the chosen model, or the members of a combination
        need = selection.loc[~selection["model"].isin(("zero", COMBO)), ["unique_id", "model"]]
        combo_ids = selection.loc[selection["model"] == COMBO, "unique_id"]
        if len(combo_ids):
            members = per.loc[
                per["unique_id"].isin(combo_ids) & ~per["model"].isin((BASELINE, COMBO)),
                ["unique_id", "model"],
            ]
            need = pd.concat([need, members], ignore_index=True).drop_duplicates()
        parts = []
        for name, ids in need.groupby("model")["unique_id"]:
            if MODELS[name].kind == "ml":
                train = clean[clean["unique_id"].isin(diag.loc[diag["backtested"], "unique_id"])]
                fut = (
                    future[future["unique_id"].isin(train["unique_id"])][["unique_id", "ds", *exog]]
                    if exog
                    else None
                )
                fc = engine.ml_forecast(
                    train,
                    h=self.h,
                    X_df=fut,
                    lgbm_params=self.lgbm_params,
                    input_size=self.input_size,
                    n_jobs=self.n_jobs,
                    **common,
                )
                parts.append(fc[fc["unique_id"].isin(ids)])
            else:
                hist = clean[clean["unique_id"].isin(ids)]
                parts.append(engine.stat_forecast(hist, name, h=self.h, **common))
        if parts:
            raw = pd.concat(parts, ignore_index=True)
            raw = raw.merge(need, on=["unique_id", "model"])
            if len(combo_ids):
                combo = combine(raw[raw["unique_id"].isin(combo_ids)], ["unique_id", "ds"])
                raw = pd.concat([raw, combo], ignore_index=True)
            parts = [raw.merge(selection[["unique_id", "model"]], on=["unique_id", "model"])]
        zero_ids = selection.loc[selection["model"] == "zero", "unique_id"]
        if len(zero_ids):
            z = future[future["unique_id"].isin(zero_ids)][["unique_id", "ds"]].copy()
            z["model"], z["yhat"] = "zero", 0.0
            parts.append(z)
        fc = pd.concat(parts, ignore_index=True)
        fc["yhat"] = np.round(fc["yhat"].to_numpy(dtype="float64"), DECIMALS)

        # Intervals: chosen model's backtest errors; naive in-sample errors otherwise.
        chosen = cv.merge(selection[["unique_id", "model"]], on=["unique_id", "model"])
        err_bt = pd.DataFrame(
            {"unique_id": chosen["unique_id"], "error": chosen["yhat"] - chosen["y"]}
        )
        rest = selection.loc[~selection["how"].eq("backtest"), "unique_id"]
        err_naive = naive_errors(clean[clean["unique_id"].isin(rest)])
        errors = [e for e in (err_bt, err_naive) if len(e)]
        widths = conformal_widths(
            pd.concat(errors, ignore_index=True) if errors else err_naive, levels
        )
        fc = apply_intervals(fc, widths, levels)
        for lv in levels:
            for side in ("lo", "hi"):
                c = f"yhat_{side}_{lv}"
                fc[c] = np.round(fc[c].to_numpy(dtype="float64"), DECIMALS)
        zero_rows = fc["model"].eq("zero")
        fc.loc[zero_rows, [c for c in fc.columns if c.startswith("yhat")]] = 0.0
        selection = selection.merge(widths[["unique_id", "sigma"]], on="unique_id", how="left")
        selection.loc[selection["model"].eq("zero"), "sigma"] = 0.0
        self.forecast_ = fc.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        self.selection_ = selection
        self.diagnostics_ = self._notes(diag, selection)
        summary = summary_table(per)
        self.backtest_ = (
            BacktestResult(
                cv=cv, per_series=per, summary=summary, card={}, diagnostics=self.diagnostics_
            )
            if len(cv)
            else None
        )
        card = model_card(
            summary,
            diag,
            cv,
            h=self.h,
            n_windows=self.n_windows,
            step=step,
            freq=self.freq,
            season_length=self.season_length,
        )
        card["selected"] = {
            str(k): int(v) for k, v in selection["model"].value_counts().sort_index().items()
        }
        if self.backtest_ is not None:
            self.backtest_.card = card
        self.card_ = card
        return self

    def _future_frame(
        self,
        clean: pd.DataFrame,
        diag: pd.DataFrame,
        X_df: pd.DataFrame | None,
        exog: list[str],
        cols: Columns,
    ) -> pd.DataFrame:
        last = clean["ds"].max()
        dates = future_dates(last, self.h, self.freq)
        ids = diag["unique_id"].to_numpy()
        fut = pd.DataFrame(
            {"unique_id": np.repeat(ids, len(dates)), "ds": np.tile(dates.to_numpy(), len(ids))}
        )
        if not exog:
            return fut
        if X_df is None:  # exogenous columns unused: no model that reads them was asked for
            return fut
        missing = [c for c in (cols.id, cols.time, *exog) if c not in X_df.columns]
        if missing:
            raise InputError(
                f"X_df lacks columns {missing}; it needs {cols.id}, {cols.time} "
                f"and the exogenous columns {exog}"
            )
        x = X_df[[cols.id, cols.time, *exog]].rename(
            columns={cols.id: "unique_id", cols.time: "ds"}
        )
        x["unique_id"] = x["unique_id"].astype(str)
        x["ds"] = pd.to_datetime(x["ds"]).dt.normalize()
        fut = fut.merge(x, on=["unique_id", "ds"], how="left")
        if fut[exog].isna().any().any():
            row = fut[fut[exog].isna().any(axis=1)].iloc[0]
            raise InputError(
                f"X_df has no values of {exog} for series {row['unique_id']!r} on "
                f"{row['ds']:%Y-%m-%d}; give all {self.h} future periods of every series"
            )
        return fut

    def _select(self, diag: pd.DataFrame, per: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
        base = diag[["unique_id", "demand_class", "n_obs", "backtested", "all_zero"]]
        rows = []
        if len(per):
            p = per[["unique_id", "model", "mase", "mae"]].copy()
            p["key"] = np.where(np.isfinite(p["mase"]), p["mase"], np.inf)
            p["key2"] = p["mae"]
            p = p.sort_values(["unique_id", "key", "key2", "model"], kind="stable")
            best = p.drop_duplicates("unique_id")[["unique_id", "model", "mase"]]
            sn = per.loc[per["model"] == "seasonal_naive", ["unique_id", "mase"]].rename(
                columns={"mase": "mase_seasonal_naive"}
            )
            rows.append(best.merge(sn, on="unique_id", how="left").assign(how="backtest"))
        out = base.merge(
            pd.concat(rows)
            if rows
            else pd.DataFrame(columns=["unique_id", "model", "mase", "mase_seasonal_naive", "how"]),
            on="unique_id",
            how="left",
        )
        zero = out["all_zero"].to_numpy()
        short = out["model"].isna().to_numpy() & ~zero
        rule = out["demand_class"].map(SHORT_SERIES_MODEL).fillna("seasonal_naive")
        fallback = [
            season_model(r, int(n), self.season_length)
            for r, n in zip(rule[short], out.loc[short, "n_obs"], strict=True)
        ]
        out.loc[short, "model"] = fallback
        out.loc[short, "how"] = "short_series_rule"
        out.loc[zero, "model"] = "zero"
        out.loc[zero, "how"] = "all_zero"
        return out[
            ["unique_id", "demand_class", "model", "how", "mase", "mase_seasonal_naive"]
        ].reset_index(drop=True)

    def _notes(self, diag: pd.DataFrame, selection: pd.DataFrame) -> pd.DataFrame:
        d = diag.merge(selection[["unique_id", "model", "how"]], on="unique_id", how="left")
        notes = []
        for r in d.itertuples():  # one row per series, not per transaction
            n = []
            if r.gaps_filled:
                n.append(f"{r.gaps_filled} missing periods filled with 0")
            if r.negatives_clipped:
                n.append(f"{r.negatives_clipped} negative values (returns) clipped to 0")
            if r.all_zero:
                n.append("all-zero history: forecast is 0")
            elif r.how == "short_series_rule":
                n.append(f"too short to backtest ({r.n_obs} periods): rule-based model {r.model}")
                if r.short_for_season:
                    n.append(
                        f"shorter than two seasons ({2 * self.season_length}): non-seasonal model"
                    )
            notes.append("; ".join(n))
        d["notes"] = notes
        return d

    # -------------------------------------------------------------- predict
    def predict(self, h: int | None = None) -> pd.DataFrame:
        """Return the forecasts (the first ``h`` periods of each series if given)."""
        check_is_fitted(self)
        fc = self.forecast_.copy()
        if h is None:
            return fc
        if not isinstance(h, (int, np.integer)) or not 1 <= h <= self.h:
            raise InputError(f"h={h!r} must be an integer between 1 and the fitted h={self.h}")
        rank = fc.groupby("unique_id").cumcount()
        return fc[rank < h].reset_index(drop=True)

    # ------------------------------------------------------------ save/load
    def save(self, path: str | Path) -> Path:
        """Write settings, forecasts, selection, diagnostics and card to a JSON file."""
        check_is_fitted(self)
        path = Path(path)
        frames = {
            n: json.loads(getattr(self, n).to_json(orient="split", date_format="iso", index=False))
            for n in ("forecast_", "selection_", "diagnostics_")
        }
        doc = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "settings": _to_json(self.get_params()),
            "fitted": {**frames, "card_": self.card_},
        }
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> DemandForecaster:
        """Read a forecaster written by :meth:`save` (forecasts are not recomputed)."""
        obj = super().load(path)
        for n in ("forecast_", "selection_", "diagnostics_"):
            raw = getattr(obj, n)
            frame = pd.DataFrame(raw["data"], columns=raw["columns"])
            for c in ("ds", "first_ds", "last_ds"):
                if c in frame:
                    frame[c] = pd.to_datetime(frame[c]).dt.tz_localize(None)
            setattr(obj, n, frame)
        obj.backtest_ = None
        return obj
