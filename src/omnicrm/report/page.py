"""Report building blocks and the HTML writer.

A :class:`Report` is a list of :class:`Section` s, each a list of :class:`Block` s (a chart, a
table or a paragraph). :func:`write_report` renders them into one HTML file that embeds
plotly.js once, so it opens offline.

Examples
--------
>>> import pandas as pd
>>> from omnicrm.report.page import Report, Section, table_block, write_report
>>> section = Section("data", "Data", blocks=[table_block("Rows", pd.DataFrame({"a": [1]}))])
>>> html = write_report(None, Report(lang="en", sections=[section]))
>>> "<h2" in html and "plotly" in html
True
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

from omnicrm import __version__
from omnicrm.report.i18n import t

FONT_FAMILY = "Inter, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', Arial, sans-serif"
COLORWAY = [
    "#2563eb",
    "#16a34a",
    "#f59e0b",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#475569",
]


@dataclass
class Block:
    """One item of a section: ``kind`` is ``figure``, ``table`` or ``text``; ``html`` is ready."""

    kind: str
    title: str
    html: str
    note: str = ""
    wide: bool = False
    """Span the whole width of the section instead of one grid column."""


@dataclass
class Section:
    """A titled part of the report with an anchor ``id``."""

    id: str
    title: str
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    """The whole report."""

    lang: str = "en"
    sections: list[Section] = field(default_factory=list)
    subtitle: str = ""
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def style_figure(fig: go.Figure, *, height: int = 380) -> go.Figure:
    """Apply the report's look (fonts that render Chinese, palette, margins)."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 13},
        colorway=COLORWAY,
        height=height,
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def figure_block(
    title: str, fig: go.Figure, *, note: str = "", height: int = 380, wide: bool = False
) -> Block:
    """A chart block; plotly.js itself is embedded once by :func:`write_report`."""
    style_figure(fig, height=height)
    body = fig.to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}
    )
    return Block("figure", title, body, note, wide)


def _format_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return html_lib.escape(str(value))


def table_block(
    title: str, frame: pd.DataFrame, *, note: str = "", max_rows: int = 50, wide: bool = False
) -> Block:
    """An HTML table of ``frame`` (first ``max_rows`` rows), numbers right-aligned."""
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html_lib.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = "".join(
            f'<td class="{"num" if isinstance(v, int | float | Decimal) else ""}">'
            f"{_format_cell(v)}</td>"
            for v in record
        )
        rows.append(f"<tr>{cells}</tr>")
    more = len(frame) - len(shown)
    if more > 0:
        note = (note + " " if note else "") + f"(+{more:,} more rows)"
    body = (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    return Block("table", title, body, note, wide)


def text_block(text: str, *, title: str = "") -> Block:
    """A paragraph of plain text (escaped)."""
    return Block("text", title, f"<p>{html_lib.escape(text)}</p>")


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("omnicrm.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def write_report(path: str | Path | None, report: Report) -> str:
    """Render ``report`` to HTML, write it to ``path`` (if given) and return the HTML text.

    The page embeds plotly.js once (about 4.8 MB) and loads nothing from the network.
    """
    from plotly.offline import get_plotlyjs

    template = _environment().get_template("report.html.j2")
    html = template.render(
        report=report,
        t=lambda key: t(report.lang, key),
        plotly_js=get_plotlyjs(),
        version=__version__,
        generated=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    return html
