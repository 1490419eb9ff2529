"""The report's "Data" section: rows per table, period, sales by channel, quarantine."""

from __future__ import annotations

import ibis
import pandas as pd
import plotly.express as px
from ibis.backends import BaseBackend

from omnicrm.analytics.summary import (
    date_range,
    quarantine_reasons,
    sales_by_channel_month,
    table_row_counts,
)
from omnicrm.report.i18n import t
from omnicrm.report.page import (
    COLORWAY,
    Block,
    Section,
    figure_block,
    table_block,
    text_block,
)


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the data section, or ``None`` for an empty warehouse."""
    counts = table_row_counts(con)
    if not counts:
        return None
    section = Section("data", t(lang, "data_section"), intro=t(lang, "data_intro"))
    section.blocks.append(_rows_per_table(counts, lang))
    if counts.get("order_lines"):
        lines = con.table("order_lines")
        section.blocks.append(_period(lines, lang))
        section.blocks += _sales_by_channel(lines, lang)
    section.blocks += _quarantine(con, counts, lang)
    return section


def _rows_per_table(counts: dict[str, int], lang: str) -> Block:
    frame = pd.DataFrame({t(lang, "table"): list(counts), t(lang, "rows"): list(counts.values())})
    return table_block(t(lang, "rows_per_table"), frame)


def _period(lines: ibis.Table, lang: str) -> Block:
    row = date_range(lines).execute().iloc[0]
    frame = pd.DataFrame(
        {
            t(lang, "period"): [
                t(lang, k)
                for k in ("first_order", "last_order", "orders", "lines", "returned_lines")
            ],
            "": [
                row.first_order,
                row.last_order,
                int(row.orders),
                int(row.lines),
                int(row.returned_lines or 0),
            ],
        }
    )
    return table_block(t(lang, "period"), frame)


def _sales_by_channel(lines: ibis.Table, lang: str) -> list[Block]:
    frame = sales_by_channel_month(lines).execute()
    frame["revenue"] = frame["revenue"].astype(float)
    frame["channel"] = frame["channel"].map(lambda c: t(lang, c))
    labels = {
        "month": t(lang, "month"),
        "revenue": t(lang, "revenue"),
        "channel": t(lang, "channel"),
        "orders": t(lang, "orders"),
    }
    totals = (
        frame.groupby("channel", as_index=False)["orders"]
        .sum()
        .sort_values("orders", ascending=False)
    )
    colors = dict(zip(totals["channel"], COLORWAY, strict=False))
    revenue = px.bar(
        frame,
        x="month",
        y="revenue",
        color="channel",
        labels=labels,
        color_discrete_map=colors,
        category_orders={"channel": list(totals["channel"])},
    )
    orders = px.pie(
        totals,
        names="channel",
        values="orders",
        hole=0.5,
        labels=labels,
        color="channel",
        color_discrete_map=colors,
    )
    return [
        figure_block(t(lang, "revenue_by_channel"), revenue),
        figure_block(t(lang, "orders_by_channel"), orders),
    ]


def _quarantine(con: BaseBackend, counts: dict[str, int], lang: str) -> list[Block]:
    blocks: list[Block] = []
    if counts.get("ingest_runs"):
        runs = con.table("ingest_runs").order_by("started_at").execute()
        frame = pd.DataFrame(
            {
                t(lang, "file"): runs["source_file"].map(lambda p: str(p).rsplit("/", 1)[-1]),
                t(lang, "table"): runs["table_name"],
                t(lang, "read"): runs["rows_read"].astype(int),
                t(lang, "loaded"): runs["rows_loaded"].astype(int),
                t(lang, "quarantined"): runs["rows_quarantined"].astype(int),
                t(lang, "duplicates"): runs["rows_duplicate"].astype(int),
            }
        )
        blocks.append(table_block(t(lang, "ingest_runs"), frame))
    if not counts.get("quarantine"):
        blocks.append(text_block(t(lang, "quarantine_none"), title=t(lang, "quarantine")))
        return blocks
    reasons = quarantine_reasons(con.table("quarantine")).execute()
    reasons.columns = [t(lang, "table"), t(lang, "reason"), t(lang, "rows")]
    blocks.append(table_block(t(lang, "quarantine"), reasons, max_rows=25))
    return blocks
