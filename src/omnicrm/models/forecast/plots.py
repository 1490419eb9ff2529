"""Plotly figures for the report: a series' history with its forecast and intervals, and a
timeline of KPI alerts. They return figures; embedding them in HTML is the report's job.

Examples
--------
>>> import pandas as pd
>>> hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=3),
...                      "y": [1.0, 2.0, 3.0]})
>>> fc = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-04", periods=2),
...                    "model": "naive", "yhat": [3.0, 3.0], "yhat_lo_80": [2.0, 1.5],
...                    "yhat_hi_80": [4.0, 4.5]})
>>> [t.name for t in forecast_figure(hist, fc, "a").data]
['80% interval', 'history', 'forecast (naive)']
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from omnicrm.errors import InputError

_BAND_COLOURS = ("rgba(31, 119, 180, 0.30)", "rgba(31, 119, 180, 0.15)")
_SEVERITY_COLOURS = {"warning": "#f0a30a", "critical": "#d62728"}


def forecast_figure(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    unique_id: str,
    *,
    last_days: int | None = 120,
    title: str | None = None,
) -> go.Figure:
    """History (last ``last_days`` periods), point forecast and its interval bands."""
    h = history[history["unique_id"] == unique_id].sort_values("ds")
    f = forecast[forecast["unique_id"] == unique_id].sort_values("ds")
    if h.empty and f.empty:
        raise InputError(f"series {unique_id!r} is in neither the history nor the forecast")
    if last_days is not None:
        h = h.tail(last_days)
    levels = sorted(
        (int(c.rsplit("_", 1)[1]) for c in f.columns if c.startswith("yhat_lo_")), reverse=True
    )
    fig = go.Figure()
    for i, level in enumerate(levels):
        x = pd.concat([f["ds"], f["ds"][::-1]])
        y = pd.concat([f[f"yhat_hi_{level}"], f[f"yhat_lo_{level}"][::-1]])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                fill="toself",
                mode="lines",
                line={"width": 0},
                fillcolor=_BAND_COLOURS[min(i, 1)] if len(levels) > 1 else _BAND_COLOURS[0],
                name=f"{level}% interval",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(x=h["ds"], y=h["y"], mode="lines", name="history", line={"color": "#444"})
    )
    model = f["model"].iloc[0] if "model" in f and len(f) else "forecast"
    fig.add_trace(
        go.Scatter(
            x=f["ds"],
            y=f["yhat"],
            mode="lines",
            name=f"forecast ({model})",
            line={"color": "#1f77b4", "dash": "dash"},
        )
    )
    fig.update_layout(
        title=title or f"Demand forecast — {unique_id}",
        xaxis_title="date",
        yaxis_title="units",
        hovermode="x unified",
        template="plotly_white",
    )
    return fig


def alerts_timeline(alerts: pd.DataFrame, *, title: str = "KPI alerts") -> go.Figure:
    """One marker per alert: day on x, metric and scope on y, colour by severity; the
    explanation shows on hover.

    Examples
    --------
    >>> a = pd.DataFrame({"ds": pd.to_datetime(["2026-06-01"]), "metric": ["revenue"],
    ...                   "scope": ["all"], "severity": ["critical"], "message": ["…"]})
    >>> [t.name for t in alerts_timeline(a).data]
    ['critical']
    """
    fig = go.Figure()
    for severity, colour in _SEVERITY_COLOURS.items():
        a = alerts[alerts["severity"] == severity]
        if a.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=a["ds"],
                y=a["metric"] + " · " + a["scope"],
                mode="markers",
                name=severity,
                marker={
                    "color": colour,
                    "size": 12 if severity == "critical" else 9,
                    "symbol": "diamond" if severity == "critical" else "circle",
                },
                text=a["message"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="date",
        template="plotly_white",
        yaxis={"categoryorder": "category ascending"},
    )
    return fig
