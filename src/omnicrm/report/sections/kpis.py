"""The report's "KPIs" section: monthly trends and gaps to targets (from ``omnicrm analyze``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from ibis.backends import BaseBackend
from plotly.subplots import make_subplots

from omnicrm.report.i18n import t
from omnicrm.report.page import COLORWAY, Block, Section, figure_block, table_block

RATE_METRICS = ("retention_rate", "repurchase_rate", "churn_rate")


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the KPI section, or ``None`` before ``omnicrm analyze`` has run."""
    if "kpi_monthly" not in con.list_tables():
        return None
    kpis = con.table("kpi_monthly")
    overall = kpis.filter(kpis.dimension == "all").execute()
    if overall.empty:
        return None
    wide = overall.pivot_table(index="period_start", columns="metric", values="value")
    section = Section("kpis", t(lang, "kpi_section"), intro=t(lang, "kpi_intro"))
    section.blocks.append(
        _two_axes(wide, "revenue", "active_customers", lang, t(lang, "revenue_active"))
    )
    section.blocks.append(_rates(wide, lang))
    section.blocks.append(
        _two_axes(wide, "average_order_value", "purchase_frequency", lang, t(lang, "aov_frequency"))
    )
    if "kpi_gaps" in con.list_tables():
        section.blocks.append(_gaps(con, lang))
    return section


def _two_axes(wide: pd.DataFrame, left: str, right: str, lang: str, title: str) -> Block:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=wide.index, y=wide[left], name=t(lang, left), marker_color=COLORWAY[0])
    fig.add_scatter(
        x=wide.index,
        y=wide[right],
        name=t(lang, right),
        mode="lines+markers",
        marker_color=COLORWAY[2],
        secondary_y=True,
    )
    fig.update_yaxes(title_text=t(lang, left), secondary_y=False)
    fig.update_yaxes(title_text=t(lang, right), secondary_y=True)
    return figure_block(title, fig)


def _rates(wide: pd.DataFrame, lang: str) -> Block:
    fig = go.Figure()
    for color, metric in zip(COLORWAY[1:], RATE_METRICS, strict=False):
        if metric in wide:
            fig.add_scatter(
                x=wide.index,
                y=wide[metric],
                name=t(lang, metric),
                mode="lines+markers",
                marker_color=color,
            )
    fig.update_layout(yaxis_tickformat=".0%")
    return figure_block(t(lang, "rates"), fig)


def _gaps(con: BaseBackend, lang: str) -> Block:
    gaps = con.table("kpi_gaps").execute()
    shown = pd.DataFrame(
        {
            t(lang, "metric"): gaps["metric"].map(lambda m: t(lang, m)),
            t(lang, "period_start"): gaps["grain"]
            + " "
            + gaps["period_start"].dt.strftime("%Y-%m-%d"),
            "": gaps["dimension"] + ": " + gaps["dimension_value"],
            t(lang, "actual"): gaps["actual"].round(3),
            t(lang, "target"): gaps["target"].round(3),
            t(lang, "gap"): gaps["gap_pct"].map("{:+.1%}".format),
            t(lang, "status"): gaps["status"].map(lambda s: t(lang, s)),
        }
    )
    return table_block(t(lang, "kpi_gaps"), shown)
