"""The report's "Forecasts and alerts" section: demand forecasts with intervals, KPI alerts.

Reads ``forecasts`` (``omnicrm forecast``) and ``alerts`` (``omnicrm alerts``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from ibis.backends import BaseBackend

from omnicrm.alerts.table import alerts_with_delivery
from omnicrm.models.forecast.plots import alerts_timeline, forecast_figure
from omnicrm.models.forecast.series import demand_series
from omnicrm.models.forecast.table import latest_forecasts
from omnicrm.report.i18n import t
from omnicrm.report.page import COLORWAY, Block, Section, figure_block, table_block, text_block
from omnicrm.warehouse.sales import sold_lines

HISTORY_DAYS = 180


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the section, or ``None`` when neither table exists yet."""
    tables = set(con.list_tables())
    if not tables & {"forecasts", "alerts"}:
        return None
    section = Section("forecasts", t(lang, "forecast_section"), intro=t(lang, "forecast_intro"))
    if "forecasts" in tables:
        section.blocks += _forecasts(con, lang)
    if "alerts" in tables:
        section.blocks += _alerts(con, tables, lang)
    return section


def _forecasts(con: BaseBackend, lang: str) -> list[Block]:
    blocks: list[Block] = []
    levels = set(con.table("forecasts").select("level").distinct().execute()["level"])
    if "total" in levels:
        forecast = latest_forecasts(con, "total")
        as_of = pd.Timestamp(forecast["ds"].min())
        history = demand_series(sold_lines(con), level="total", as_of=as_of.date())
        fig = forecast_figure(
            _floats(history), _floats(forecast), "total", last_days=HISTORY_DAYS, title=""
        )
        fig.update_layout(title=None)
        blocks.append(figure_block(t(lang, "forecast_total"), fig, wide=True))
    if "category" in levels:
        forecast = _floats(latest_forecasts(con, "category"))
        totals = (
            forecast.groupby("unique_id", as_index=False)["yhat"]
            .sum()
            .sort_values("yhat", ascending=False)
            .head(15)
        )
        days = forecast["ds"].nunique()
        fig = go.Figure(
            go.Bar(
                x=totals["unique_id"].str.removeprefix("category="),
                y=totals["yhat"],
                marker_color=COLORWAY[0],
            )
        )
        blocks.append(figure_block(t(lang, "forecast_category").format(n=days), fig))
    return blocks


def _alerts(con: BaseBackend, tables: set[str], lang: str) -> list[Block]:
    if "alert_deliveries" in tables:
        alerts = alerts_with_delivery(con)
    else:  # alerts computed but never sent: nothing delivered yet
        alerts = con.table("alerts").execute().assign(delivered_at=pd.NaT)
    if alerts.empty:
        return [text_block(t(lang, "no_alerts"), title=t(lang, "alerts_timeline"))]
    timeline = alerts_timeline(alerts)
    timeline.update_layout(title=None)
    latest = alerts.sort_values(["ds", "severity"], ascending=[False, True]).head(20)
    shown = pd.DataFrame(
        {
            t(lang, "day"): pd.to_datetime(latest["ds"]).dt.strftime("%Y-%m-%d"),
            t(lang, "severity"): latest["severity"],
            t(lang, "metric"): latest["metric"].map(lambda m: t(lang, m)),
            "": latest["scope"],
            t(lang, "message"): latest["message"],
            t(lang, "delivered"): latest["delivered_at"].notna(),
        }
    )
    return [
        figure_block(t(lang, "alerts_timeline"), timeline),
        table_block(t(lang, "alerts_table"), shown, wide=True),
    ]


def _floats(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal units to floats for plotting."""
    out = frame.copy()
    for column in out.columns:
        if column == "y" or column.startswith("yhat"):
            out[column] = out[column].astype(float)
    return out
