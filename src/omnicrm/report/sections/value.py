"""The report's "Value and churn risk" section: risk list, CLV by segment, BG/NBD diagnostics.

Reads ``customer_scores`` (with the CLV and churn columns), ``clv_holdout`` and
``clv_tracking`` written by ``omnicrm analyze``.
"""

from __future__ import annotations

import ibis
import pandas as pd
import plotly.graph_objects as go
from ibis.backends import BaseBackend

from omnicrm.analytics.segments import SegmentTable
from omnicrm.report.i18n import t
from omnicrm.report.page import COLORWAY, Block, Section, figure_block, table_block

RISK_ROWS = 20


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the value section, or ``None`` when the scores carry no CLV/churn columns."""
    tables = set(con.list_tables())
    if "customer_scores" not in tables:
        return None
    scores = con.table("customer_scores")
    if not {"clv_12m", "churn_prob"} <= set(scores.columns):
        return None
    section = Section("value", t(lang, "value_section"), intro=t(lang, "value_intro"))
    risk = (
        scores.filter(scores.value_at_risk.notnull())
        .order_by(scores.value_at_risk.desc())
        .limit(RISK_ROWS)
        .execute()
    )
    section.blocks.append(_risk_chart(risk, lang))
    section.blocks.append(_clv_by_segment(scores, lang))
    section.blocks.append(_risk_table(risk, lang))
    if {"clv_holdout", "clv_tracking"} <= tables:
        section.blocks += _diagnostics(con, lang)
    return section


def _risk_chart(risk: pd.DataFrame, lang: str) -> Block:
    head = risk.iloc[::-1]
    hover = [
        f"{t(lang, 'churn_prob')} {p:.0%} · CLV {c:,.0f}<br>{r or ''}"
        for p, c, r in zip(head.churn_prob, head.clv_12m, head.churn_reasons, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=head.value_at_risk,
            y=head.customer_id.astype(str),
            orientation="h",
            hovertext=hover,
            hoverinfo="text+x",
            marker_color=COLORWAY[3],
        )
    )
    fig.update_layout(
        xaxis_title=t(lang, "value_at_risk"), yaxis_title=t(lang, "customer"), margin={"l": 110}
    )
    return figure_block(t(lang, "risk_chart"), fig, height=520)


def _clv_by_segment(scores: ibis.Table, lang: str) -> Block:
    valued = scores.filter(scores.clv_12m.notnull())
    frame = (
        valued.group_by("rfm_segment")
        .aggregate(clv=valued.clv_12m.mean(), risk=valued.churn_prob.mean(), n=valued.count())
        .execute()
    )
    labels = SegmentTable.default().labels(lang)
    frame = frame.sort_values("clv", ascending=False)
    fig = go.Figure()
    fig.add_bar(
        x=[labels.get(s, s) for s in frame.rfm_segment],
        y=frame.clv,
        name=t(lang, "clv_12m"),
        marker_color=COLORWAY[1],
        customdata=frame.risk,
        hovertemplate="%{x}<br>CLV %{y:,.0f}<br>"
        + t(lang, "churn_prob")
        + " %{customdata:.0%}<extra></extra>",
    )
    fig.update_layout(yaxis_title=t(lang, "clv_12m"))
    return figure_block(t(lang, "clv_distribution"), fig, height=520)


def _risk_table(risk: pd.DataFrame, lang: str) -> Block:
    shown = pd.DataFrame(
        {
            t(lang, "customer"): risk.customer_id,
            t(lang, "segment"): risk.rfm_segment.map(SegmentTable.default().labels(lang)),
            t(lang, "clv_12m"): risk.clv_12m.astype(float).round(2),
            t(lang, "churn_prob"): risk.churn_prob.map("{:.0%}".format),
            t(lang, "value_at_risk"): risk.value_at_risk.astype(float).round(2),
            t(lang, "churn_reasons"): risk.churn_reasons.fillna(""),
        }
    )
    note = (
        "Full list: omnicrm risk-list --out risk.csv"
        if lang == "en"
        else "完整名单：omnicrm risk-list --out risk.csv"
    )
    return table_block(t(lang, "risk_list"), shown, note=note, wide=True)


def _diagnostics(con: BaseBackend, lang: str) -> list[Block]:
    holdout = con.table("clv_holdout").execute()
    tracking = con.table("clv_tracking").execute().sort_values("period")
    cal_end = pd.Timestamp(holdout.calibration_end.iloc[0])
    date = f"{cal_end:%Y-%m-%d}"
    fig = go.Figure()
    fig.add_scatter(
        x=holdout.frequency,
        y=holdout.actual,
        name="Actual" if lang == "en" else "实际",
        mode="lines+markers",
        marker_color=COLORWAY[0],
    )
    fig.add_scatter(
        x=holdout.frequency,
        y=holdout.expected,
        name="BG/NBD",
        mode="lines+markers",
        line={"dash": "dash"},
        marker_color=COLORWAY[2],
    )
    fig.update_layout(
        xaxis_title=t(lang, "calibration_frequency"),
        yaxis_title=t(lang, "holdout_purchases"),
        xaxis_type="category",
    )
    track = go.Figure()
    track.add_scatter(
        x=tracking.period_start,
        y=tracking.actual_cumulative,
        name="Actual" if lang == "en" else "实际",
        marker_color=COLORWAY[0],
    )
    track.add_scatter(
        x=tracking.period_start,
        y=tracking.expected_cumulative,
        name="BG/NBD",
        line={"dash": "dash"},
        marker_color=COLORWAY[2],
    )
    track.add_vline(
        x=cal_end.to_pydatetime().timestamp() * 1000, line_dash="dot", line_color="#64748b"
    )
    track.update_layout(xaxis_title=t(lang, "week"), yaxis_title=t(lang, "repeat_purchases"))
    return [
        figure_block(t(lang, "clv_holdout").format(date=date), fig),
        figure_block(t(lang, "clv_tracking").format(date=date), track),
    ]
