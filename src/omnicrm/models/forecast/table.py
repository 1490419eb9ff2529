"""The ``forecasts`` warehouse table: one row per run, level, series and future period.

Insert-only: each run has its own ``run_id`` and ``created_at``; readers take the latest run
of a level (:func:`latest_forecasts`).

Examples
--------
>>> import pandas as pd
>>> from omnicrm.warehouse import connect
>>> con = connect("duckdb://:memory:")
>>> fc = pd.DataFrame({"level": "total", "unique_id": "total",
...                    "ds": pd.date_range("2026-06-01", periods=2), "model": "naive",
...                    "yhat": [5.0, 6.0], "yhat_lo_80": [4.0, 5.0], "yhat_hi_80": [6.0, 7.0],
...                    "yhat_lo_95": [3.0, 4.0], "yhat_hi_95": [7.0, 8.0]})
>>> write_forecasts(con, fc, run_id="r1", as_of="2026-06-01")
2
>>> latest_forecasts(con, "total")["yhat"].astype(float).tolist()
[5.0, 6.0]
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.errors import InputError
from omnicrm.schema.types import Column, Table
from omnicrm.warehouse import ensure_table

FORECASTS = Table(
    name="forecasts",
    grain="one row per forecast run, level, series and future period",
    key=("run_id", "level", "unique_id", "ds"),
    description="Demand forecasts with 80% and 95% intervals (units).",
    columns=(
        Column("run_id", "string", required=True, description="Forecast run."),
        Column("created_at", "timestamp", required=True, description="When it was computed."),
        Column("as_of", "date", required=True, description="Data used: order lines before it."),
        Column(
            "level",
            "string",
            required=True,
            description="product-store, category, region or total (bottom = the level "
            "forecast directly; the others are bottom-up sums).",
        ),
        Column(
            "unique_id",
            "string",
            required=True,
            description="<product>@<store>, category=<name>, region=<name> or total.",
        ),
        Column("ds", "date", required=True, description="Forecast day (or week start)."),
        Column("model", "string", required=True, description="Model that produced it."),
        Column("yhat", "quantity", required=True, description="Point forecast."),
        Column("yhat_lo_80", "quantity", description="Lower bound, 80% interval."),
        Column("yhat_hi_80", "quantity", description="Upper bound, 80% interval."),
        Column("yhat_lo_95", "quantity", description="Lower bound, 95% interval."),
        Column("yhat_hi_95", "quantity", description="Upper bound, 95% interval."),
    ),
)


def write_forecasts(
    con: BaseBackend,
    forecasts: pd.DataFrame,
    *,
    run_id: str,
    as_of: dt.date | str,
    now: dt.datetime | None = None,
) -> int:
    """Append ``level, unique_id, ds, model, yhat, yhat_lo_80 … yhat_hi_95`` rows."""
    need = [c for c in FORECASTS.column_names if c not in ("run_id", "created_at", "as_of")]
    missing = [c for c in need if c not in forecasts.columns]
    if missing:
        raise InputError(
            f"forecast frame lacks columns {missing}: the forecasts table stores "
            "80% and 95% intervals (levels=(80, 95))"
        )
    ensure_table(con, FORECASTS)
    rows = forecasts[need].copy()
    rows["ds"] = pd.to_datetime(rows["ds"]).dt.date
    rows["run_id"] = run_id
    rows["created_at"] = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    rows["as_of"] = pd.Timestamp(as_of).date()
    con.insert(FORECASTS.name, rows[FORECASTS.column_names])
    return len(rows)


def latest_forecasts(con: BaseBackend, level: str) -> pd.DataFrame:
    """Rows of the most recent run that wrote ``level``."""
    t = ensure_table(con, FORECASTS)
    t = t.filter(t.level == level)
    last = t.aggregate(c=t.created_at.max())
    return t.filter(t.created_at == last.c.as_scalar()).order_by(["unique_id", "ds"]).to_pandas()
