"""One forecast run on the warehouse: series from ``order_lines``, model choice by backtest,
coherent aggregates, rows written to ``forecasts``, and a JSON-friendly summary.

Examples
--------
>>> import datetime as dt
>>> from decimal import Decimal
>>> import pandas as pd
>>> from omnicrm.schema import TABLES
>>> from omnicrm.warehouse import connect, ensure_table
>>> con = connect("duckdb://:memory:")
>>> _ = ensure_table(con, TABLES["order_lines"])
>>> days = pd.date_range("2026-01-01", periods=90, tz="UTC") + pd.Timedelta(hours=10)
>>> con.insert("order_lines", pd.DataFrame({
...     "order_id": [f"o{i}" for i in range(90)], "line_number": 1, "order_ts": days,
...     "store_id": "s1", "product_id": "p1",
...     "quantity": [Decimal(3 + (d.dayofweek == 5) * 4) for d in days],
...     "unit_price": Decimal("2.00"), "amount": Decimal("6.00")}
...     ).reindex(columns=TABLES["order_lines"].column_names))
>>> run = run_forecast(con, level="total", horizon=7, models=("seasonal_naive",), n_windows=2)
>>> run.summary["series"], run.summary["rows_written"], run.summary["as_of"]
(1, 7, '2026-04-01')
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.errors import InputError
from omnicrm.models.forecast.forecaster import DemandForecaster
from omnicrm.models.forecast.hierarchy import reconcile_bottom_up
from omnicrm.models.forecast.series import LEVELS, demand_series, parse_as_of
from omnicrm.models.forecast.stock import StockPolicies, stock_suggestions
from omnicrm.models.forecast.table import write_forecasts
from omnicrm.warehouse.sales import sold_lines


@dataclass
class ForecastRun:
    """Result of :func:`run_forecast`."""

    run_id: str
    as_of: dt.date
    level: str
    history: pd.DataFrame
    forecaster: DemandForecaster
    forecasts: pd.DataFrame
    summary: dict[str, Any]
    stock: pd.DataFrame | None = None
    """Safety stock and reorder points per product x store (product-store level only)."""


def default_as_of(con: BaseBackend) -> dt.date:
    """The day after the last order line (all data is used)."""
    if "order_lines" not in con.list_tables():
        raise InputError("the warehouse has no order_lines table: run 'omnicrm ingest' first")
    t = con.table("order_lines")
    last = t.aggregate(m=t.order_ts.max()).to_pandas()["m"].iloc[0]
    if pd.isna(last):
        raise InputError("order_lines is empty: nothing to forecast")
    return (pd.Timestamp(last).tz_convert("UTC") + pd.Timedelta(days=1)).date()


def run_forecast(
    con: BaseBackend,
    *,
    level: str = "product-store",
    horizon: int = 28,
    freq: str = "D",
    as_of: dt.date | str | None = None,
    models: Sequence[str] = ("auto",),
    n_windows: int = 3,
    n_jobs: int = 1,
    write: bool = True,
    policies: StockPolicies | None = None,
) -> ForecastRun:
    """Forecast ``level`` from the warehouse and (by default) write the ``forecasts`` rows.

    At ``product-store`` level the category, region and total forecasts are the bottom-up
    sums (coherent to the thousandth) and are written too, and so are the stock suggestions
    (table ``stock_suggestions``, replaced on each run: safety stock, reorder point and order
    quantity per product x store from the backtest error of the chosen model, with the lead
    times and service levels of ``policies``, see :func:`stock_suggestions`).
    """
    if level not in LEVELS:
        raise InputError(f"level={level!r} is not known: choose one of {', '.join(LEVELS)}")
    day = default_as_of(con) if as_of is None else parse_as_of(as_of).date()
    tables = con.list_tables()
    lines = sold_lines(con)
    products = con.table("products") if "products" in tables else None
    stores = con.table("stores") if "stores" in tables else None
    hist = demand_series(lines, products=products, stores=stores, level=level, freq=freq, as_of=day)
    season = 7 if freq == "D" else 52
    f = DemandForecaster(
        h=horizon,
        freq=freq,
        models=models,
        season_length=season,
        n_windows=n_windows,
        n_jobs=n_jobs,
    ).fit(hist[["unique_id", "ds", "y"]])
    if level == "product-store":
        tags = hist.drop_duplicates("unique_id")[["unique_id", "category", "region"]]
        out = reconcile_bottom_up(f, tags, levels=("category", "region", "total"))
        out["level"] = out["level"].replace({"bottom": level})
    else:
        out = f.predict().assign(level=level)
    run_id = uuid.uuid4().hex
    written = write_forecasts(con, out, run_id=run_id, as_of=day) if write else 0
    stock = None
    if level == "product-store":
        stock = stock_suggestions(
            f.predict(),
            f.selection_[["unique_id", "sigma"]],
            policies=policies or StockPolicies(),
            categories=tags[["unique_id", "category"]],
            freq=freq,
        )
        if write:
            con.create_table(
                "stock_suggestions",
                stock.assign(run_id=run_id, as_of=pd.Timestamp(day)),
                overwrite=True,
            )
    diag = f.diagnostics_
    summary = {
        "run_id": run_id,
        "level": level,
        "as_of": day.isoformat(),
        "horizon": horizon,
        "freq": freq,
        "series": len(diag),
        "rows_written": written,
        "selected": f.card_["selected"],
        "accuracy": f.card_.get("models", {}),
        "diagnostics": {
            "gaps_filled": int(diag["gaps_filled"].sum()),
            "negatives_clipped": int(diag["negatives_clipped"].sum()),
            "all_zero_series": int(diag["all_zero"].sum()),
            "short_series": int((f.selection_["how"] == "short_series_rule").sum()),
        },
        "stock_suggestions": 0 if stock is None else len(stock),
        "totals": (
            out[out["level"] == ("total" if level == "product-store" else level)]
            .groupby("unique_id")["yhat"]
            .sum()
            .round(3)
            .head(20)
            .to_dict()
        ),
    }
    return ForecastRun(run_id, day, level, hist, f, out, summary, stock)
