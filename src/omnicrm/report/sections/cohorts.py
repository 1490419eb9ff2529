"""The report's "Cohorts and migration" section: retention heatmap and migration matrix."""

from __future__ import annotations

import plotly.graph_objects as go
from ibis.backends import BaseBackend

from omnicrm.analytics.segments import SegmentTable
from omnicrm.report.i18n import t
from omnicrm.report.page import Block, Section, figure_block


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the cohort section, or ``None`` before ``omnicrm analyze`` has run."""
    tables = set(con.list_tables())
    if "cohorts" not in tables:
        return None
    section = Section("cohorts", t(lang, "cohorts_section"), intro=t(lang, "cohorts_intro"))
    section.blocks.append(_heatmap(con, lang))
    if "segment_migration" in tables:
        section.blocks.append(_migration(con, lang))
    return section


def _heatmap(con: BaseBackend, lang: str) -> Block:
    cohorts = con.table("cohorts").execute()
    matrix = cohorts.pivot_table(index="cohort_month", columns="months_since", values="retention")
    sizes = cohorts[cohorts.months_since == 0].set_index("cohort_month")["customers"]
    rows = [f"{m:%Y-%m} (n={int(sizes.get(m, 0)):,})" for m in matrix.index]
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=list(matrix.columns),
            y=rows,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hovertemplate="%{y}<br>+%{x}: %{z:.1%}<extra></extra>",
            colorbar={"tickformat": ".0%"},
        )
    )
    fig.update_layout(
        xaxis_title=t(lang, "months_since"),
        yaxis_title=t(lang, "cohort_month"),
        yaxis_autorange="reversed",
        legend={"y": -0.3},
    )
    return figure_block(
        t(lang, "cohort_heatmap"), fig, height=max(380, 18 * len(rows) + 120), wide=True
    )


def _migration(con: BaseBackend, lang: str) -> Block:
    migration = con.table("segment_migration").execute()
    labels = SegmentTable.default().labels(lang)
    order = [rule.segment for rule in SegmentTable.default().rules]
    names = {**labels, "new": t(lang, "new"), "gone": t(lang, "gone")}
    rows = [s for s in ["new", *order] if s in set(migration.segment_from)]
    cols = [s for s in [*order, "gone"] if s in set(migration.segment_to)]
    matrix = migration.pivot_table(
        index="segment_from", columns="segment_to", values="customers", aggfunc="sum"
    ).reindex(index=rows, columns=cols)
    fig = go.Figure(
        go.Heatmap(
            z=matrix.fillna(0).to_numpy(),
            x=[names.get(c, c) for c in cols],
            y=[names.get(r, r) for r in rows],
            colorscale="Purples",
            texttemplate="%{z:,}",
            hovertemplate="%{y} → %{x}: %{z:,}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title=t(lang, "segment_to"),
        yaxis_title=t(lang, "segment_from"),
        yaxis_autorange="reversed",
    )
    title = t(lang, "migration_matrix").format(
        start=f"{migration.start.iloc[0]:%Y-%m-%d}", end=f"{migration.end.iloc[0]:%Y-%m-%d}"
    )
    return figure_block(title, fig, height=520, wide=True)
