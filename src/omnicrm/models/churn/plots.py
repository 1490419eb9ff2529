"""Plotly figures for the report: risk list, calibration curve, lift chart (no files written).

Examples
--------
>>> import numpy as np
>>> y = np.array([1, 0, 1, 0, 1, 0, 0, 0, 1, 0])
>>> p = np.linspace(0.9, 0.1, 10)
>>> fig = plot_lift(y, {"churn model": p})
>>> fig.data[0].name
'churn model'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from omnicrm.errors import InputError
from omnicrm.models.churn.calibration import calibration_table


def plot_risk_list(risk: pd.DataFrame, *, top: int = 20, title: str | None = None) -> go.Figure:
    """Horizontal bars of value at risk for the ``top`` customers of :func:`risk_list`."""
    for col in ("customer_id", "value_at_risk", "churn_prob", "clv_12m"):
        if col not in risk.columns:
            raise InputError(f"risk list has no column {col!r}; pass risk_list(...)")
    head = risk.sort_values("value_at_risk", ascending=False).head(top).iloc[::-1]
    reasons = head["churn_reasons"] if "churn_reasons" in head.columns else [""] * len(head)
    hover = [
        f"churn {p:.0%} · CLV {c:,.0f}<br>{r}"
        for p, c, r in zip(head["churn_prob"], head["clv_12m"], reasons, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=head["value_at_risk"],
            y=head["customer_id"].astype(str),
            orientation="h",
            hovertext=hover,
            hoverinfo="text+x",
            name="value at risk",
        )
    )
    fig.update_layout(
        title=title or f"Top {len(head)} customers by value at risk",
        xaxis_title="12-month CLV x churn probability",
        yaxis_title="customer",
        template="plotly_white",
    )
    return fig


def plot_calibration(
    y: np.ndarray, probabilities: dict[str, np.ndarray], *, bins: int = 10, title: str | None = None
) -> go.Figure:
    """Reliability diagram: observed churn rate vs mean prediction per quantile bin."""
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot", "color": "grey"}
    )
    for name, p in probabilities.items():
        table = calibration_table(y, p, bins=bins)
        fig.add_scatter(x=table["predicted"], y=table["observed"], mode="lines+markers", name=name)
    fig.update_layout(
        title=title or "Calibration",
        xaxis_title="predicted churn probability",
        yaxis_title="observed churn rate",
        template="plotly_white",
    )
    return fig


def lift_table(y: np.ndarray, score: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Churn rate per score decile (1 = highest scores) over the overall rate."""
    y = np.asarray(y, dtype="float64")
    order = np.argsort(-np.asarray(score, dtype="float64"), kind="stable")
    group = np.empty(len(y), dtype="int64")
    group[order] = np.arange(len(y)) * bins // len(y)
    rate = pd.Series(y).groupby(group).mean()
    return pd.DataFrame({"decile": rate.index + 1, "lift": rate.to_numpy() / y.mean()})


def plot_lift(
    y: np.ndarray, scores: dict[str, np.ndarray], *, bins: int = 10, title: str | None = None
) -> go.Figure:
    """Lift per score decile for each scorer (the churn model and its baselines)."""
    y = np.asarray(y)
    if len(y) == 0 or y.sum() == 0:
        raise InputError("the lift chart needs customers and at least one churner")
    fig = go.Figure()
    for name, score in scores.items():
        table = lift_table(y, score, bins=bins)
        fig.add_scatter(x=table["decile"], y=table["lift"], mode="lines+markers", name=name)
    fig.add_hline(y=1.0, line_dash="dot", line_color="grey")
    fig.update_layout(
        title=title or "Lift by decile",
        xaxis_title="decile (1 = highest risk)",
        yaxis_title="churn rate / overall churn rate",
        template="plotly_white",
    )
    return fig
