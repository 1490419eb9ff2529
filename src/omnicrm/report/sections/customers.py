"""The report's "Customers" section: segments, value tiers, lifecycle funnel, clusters.

Reads the ``customer_scores`` and ``cluster_profiles`` tables written by ``omnicrm analyze``;
absent until then.
"""

from __future__ import annotations

import ibis
import pandas as pd
import plotly.graph_objects as go
from ibis.backends import BaseBackend
from plotly.subplots import make_subplots

from omnicrm.analytics.segments import SegmentTable, segment_summary
from omnicrm.analytics.tiers import ValueTiers
from omnicrm.report.i18n import t
from omnicrm.report.page import COLORWAY, Block, Section, figure_block, table_block

LIFECYCLE_ORDER = ("new", "active", "reactivated", "at_risk", "lapsed")


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the customers section, or ``None`` before ``omnicrm analyze`` has run."""
    if "customer_scores" not in con.list_tables():
        return None
    scores = con.table("customer_scores")
    as_of = scores.as_of.max().execute()
    intro = t(lang, "customers_intro").format(as_of=f"{as_of:%Y-%m-%d}" if as_of else "—")
    section = Section("customers", t(lang, "customers_section"), intro=intro)
    section.blocks += _segments(scores, lang)
    section.blocks.append(_tiers(scores, lang))
    section.blocks.append(_lifecycle(scores, lang))
    if "cluster_profiles" in con.list_tables():
        section.blocks.append(_clusters(con, lang))
    return section


def _segments(scores: ibis.Table, lang: str) -> list[Block]:
    frame = segment_summary(scores, by="rfm_segment").execute()
    table = SegmentTable.default()
    order = [rule.segment for rule in table.rules]
    frame = frame.set_index("rfm_segment").reindex(order).dropna(how="all").reset_index()
    labels = table.labels(lang)
    frame["label"] = frame["rfm_segment"].map(lambda s: labels.get(s, s))
    customers = frame["customers"].astype(float)
    spend = frame["monetary"].astype(float)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(
        x=frame["label"],
        y=customers / customers.sum(),
        name=t(lang, "share_customers"),
        marker_color=COLORWAY[0],
    )
    fig.add_bar(
        x=frame["label"],
        y=spend / spend.sum(),
        name=t(lang, "share_revenue"),
        marker_color=COLORWAY[1],
    )
    fig.add_scatter(
        x=frame["label"],
        y=spend / customers,
        name=t(lang, "avg_spend"),
        mode="markers+lines",
        marker_color=COLORWAY[2],
        secondary_y=True,
    )
    fig.update_layout(barmode="group", yaxis_tickformat=".0%")
    actions = table.actions()
    shown = pd.DataFrame(
        {
            t(lang, "segment"): frame["label"],
            t(lang, "size"): frame["customers"].astype(int),
            t(lang, "share_revenue"): (spend / spend.sum()).map("{:.1%}".format),
            t(lang, "avg_spend"): (spend / customers).round(2),
            t(lang, "action"): frame["rfm_segment"].map(lambda s: actions.get(s, "")),
        }
    )
    return [
        figure_block(t(lang, "segment_sizes"), fig, height=420, wide=True),
        table_block(t(lang, "segment"), shown, wide=True),
    ]


def _tiers(scores: ibis.Table, lang: str) -> Block:
    frame = segment_summary(scores, by="value_tier").execute()
    labels = ValueTiers.default().labels(lang)
    spend = frame["monetary"].astype(float)
    shown = pd.DataFrame(
        {
            t(lang, "tier"): frame["value_tier"].map(lambda s: labels.get(s, s)),
            t(lang, "size"): frame["customers"].astype(int),
            t(lang, "share_revenue"): (spend / spend.sum()).map("{:.1%}".format),
            t(lang, "avg_spend"): (spend / frame["customers"].astype(float)).round(2),
        }
    ).sort_values(t(lang, "avg_spend"), ascending=False)
    return table_block(t(lang, "value_tiers"), shown)


def _lifecycle(scores: ibis.Table, lang: str) -> Block:
    counts = scores.group_by("lifecycle_stage").aggregate(n=scores.count()).execute()
    counts = counts.set_index("lifecycle_stage").reindex(LIFECYCLE_ORDER).fillna(0)
    fig = go.Figure(
        go.Funnel(
            y=[t(lang, s) for s in counts.index],
            x=counts["n"].astype(int),
            textinfo="value+percent total",
            marker={"color": COLORWAY[:5]},
        )
    )
    return figure_block(t(lang, "lifecycle_funnel"), fig)


def _clusters(con: BaseBackend, lang: str) -> Block:
    profiles = con.table("cluster_profiles").execute().sort_values("cluster")
    means = [c for c in profiles.columns if c.startswith("mean_")]
    shown = profiles[["cluster", "name", "size", "share", *means]].copy()
    shown["share"] = shown["share"].map("{:.1%}".format)
    shown.columns = [
        t(lang, "cluster"),
        t(lang, "name"),
        t(lang, "size"),
        t(lang, "share"),
        *[c.removeprefix("mean_") for c in means],
    ]
    return table_block(t(lang, "cluster_profiles"), shown, wide=True)
