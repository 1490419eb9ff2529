"""Plotly figures for the report: rules explorer, product network, recommendation examples.

Nothing is written to disk; the report embeds the figures. Inputs are the warehouse tables
written by :mod:`omnicrm.jobs.recommend` (``basket_rules``, ``recommendations``) and the table
of :func:`~omnicrm.models.recommend.evaluation.compare_recommenders`.

Examples
--------
>>> import pandas as pd
>>> rules = pd.DataFrame({"level": ["product"] * 2, "antecedent": ["a", "b"],
...     "consequent": ["b", "a"], "antecedent_names": ["Pasta", "Sauce"],
...     "consequent_names": ["Sauce", "Pasta"], "antecedent_size": [1, 1],
...     "support": [0.1, 0.1], "confidence": [0.5, 0.4], "lift": [3.0, 3.0]})
>>> top_rules(rules, top=1)["rule"].tolist()
['Pasta → Sauce']
>>> len(plot_rules_network(rules).data)
2
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from omnicrm.errors import InputError

RULE_COLUMNS: tuple[str, ...] = (
    "level",
    "antecedent",
    "consequent",
    "antecedent_names",
    "consequent_names",
    "support",
    "confidence",
    "lift",
)


def _check(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} has no column(s) {', '.join(missing)}; pass the {name} "
            "table written by omnicrm.jobs.recommend"
        )


def top_rules(
    rules: pd.DataFrame, *, level: str = "product", top: int = 20, by: str = "lift"
) -> pd.DataFrame:
    """The ``top`` rules of a level, strongest first: the rules explorer's table data."""
    _check(rules, RULE_COLUMNS, "basket_rules")
    if by not in ("lift", "confidence", "support"):
        raise InputError(f"by={by!r} is not lift, confidence or support")
    part = rules[rules["level"] == level]
    part = part.sort_values(
        [by, "confidence", "support", "antecedent", "consequent"],
        ascending=[False, False, False, True, True],
        kind="stable",
    )
    head = part.head(top)
    return pd.DataFrame(
        {
            "rule": head["antecedent_names"] + " → " + head["consequent_names"],
            "antecedent": head["antecedent"],
            "consequent": head["consequent"],
            "support": head["support"],
            "confidence": head["confidence"],
            "lift": head["lift"],
        }
    ).reset_index(drop=True)


def plot_rules_table(rules: pd.DataFrame, *, level: str = "product", top: int = 20) -> go.Figure:
    """A table figure of :func:`top_rules`."""
    data = top_rules(rules, level=level, top=top)
    fig = go.Figure(
        go.Table(
            header={"values": ["rule", "support", "confidence", "lift"], "align": "left"},
            cells={
                "values": [
                    data["rule"],
                    data["support"].map("{:.2%}".format),
                    data["confidence"].map("{:.0%}".format),
                    data["lift"].map("{:.1f}".format),
                ],
                "align": "left",
            },
        )
    )
    fig.update_layout(title=f"Top {len(data)} {level} rules by lift", template="plotly_white")
    return fig


def _layout(
    n: int, edges: np.ndarray, weights: np.ndarray, iterations: int = 200, seed: int = 0
) -> np.ndarray:
    """Fruchterman-Reingold positions (vectorised numpy, fixed seed)."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1, 1, size=(n, 2))
    if n == 1:
        return np.zeros((1, 2))
    k = 1.0 / np.sqrt(n)
    temp = 0.1
    w = weights / weights.max() if len(weights) else weights
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        force = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if len(edges):
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            dl = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
            pull = d * (dl / k * w)[:, None]
            np.add.at(force, edges[:, 0], -pull)
            np.add.at(force, edges[:, 1], pull)
        length = np.maximum(np.linalg.norm(force, axis=1), 1e-9)
        pos += force / length[:, None] * np.minimum(length, temp)[:, None]
        temp *= 0.98
    return pos


def plot_rules_network(rules: pd.DataFrame, *, level: str = "product", top: int = 40) -> go.Figure:
    """Network of items linked by their strongest one-to-one rules (edge width = lift)."""
    _check(rules, RULE_COLUMNS, "basket_rules")
    pairs = rules[(rules["level"] == level) & ~rules["antecedent"].str.contains(" + ", regex=False)]
    pairs = pairs[~pairs["consequent"].str.contains(" + ", regex=False)]
    a, b = pairs["antecedent"].to_numpy(), pairs["consequent"].to_numpy()
    key = np.where(a < b, a + "\0" + b, b + "\0" + a)
    pairs = pairs.assign(_key=key).sort_values(["lift", "_key"], ascending=[False, True])
    pairs = pairs.drop_duplicates("_key").head(top)
    ids = pd.Index(pd.unique(np.r_[pairs["antecedent"].to_numpy(), pairs["consequent"].to_numpy()]))
    names = pd.Series(
        np.r_[pairs["antecedent_names"].to_numpy(), pairs["consequent_names"].to_numpy()],
        index=np.r_[pairs["antecedent"].to_numpy(), pairs["consequent"].to_numpy()],
    )
    names = names[~names.index.duplicated()].reindex(ids)
    edges = np.c_[ids.get_indexer(pairs["antecedent"]), ids.get_indexer(pairs["consequent"])]
    lift = pairs["lift"].to_numpy(float)
    pos = _layout(len(ids), edges, np.log1p(lift)) if len(ids) else np.zeros((0, 2))
    ex = np.c_[pos[edges[:, 0], 0], pos[edges[:, 1], 0], np.full(len(edges), np.nan)].ravel()
    ey = np.c_[pos[edges[:, 0], 1], pos[edges[:, 1], 1], np.full(len(edges), np.nan)].ravel()
    degree = np.bincount(edges.ravel(), minlength=len(ids)) if len(edges) else np.zeros(0)
    fig = go.Figure()
    fig.add_scatter(
        x=ex, y=ey, mode="lines", line={"width": 1, "color": "#999"}, hoverinfo="skip", name="rule"
    )
    fig.add_scatter(
        x=pos[:, 0],
        y=pos[:, 1],
        mode="markers+text",
        text=names.to_numpy(),
        textposition="top center",
        marker={"size": 8 + 3 * degree},
        hovertext=[f"{n}: {d} link(s)" for n, d in zip(names, degree, strict=True)],
        hoverinfo="text",
        name=level,
    )
    fig.update_layout(
        title=f"Bought together: {len(edges)} strongest {level} pairs",
        showlegend=False,
        template="plotly_white",
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def plot_recommendation_examples(
    recommendations: pd.DataFrame, *, customers: int = 5, k: int = 5, seed: int = 0
) -> go.Figure:
    """A table of a few customers' top ``k`` recommendations with their reasons."""
    _check(recommendations, ("customer_id", "rank", "item_id", "reason"), "recommendations")
    ids = np.sort(recommendations["customer_id"].unique())
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(ids, size=min(customers, len(ids)), replace=False))
    rows = recommendations[
        recommendations["customer_id"].isin(chosen) & (recommendations["rank"] <= k)
    ]
    rows = rows.sort_values(["customer_id", "rank"])
    item = rows["item_name"] if "item_name" in rows.columns else rows["item_id"]
    fig = go.Figure(
        go.Table(
            header={"values": ["customer", "#", "item", "why"], "align": "left"},
            cells={
                "values": [rows["customer_id"], rows["rank"], item, rows["reason"]],
                "align": "left",
            },
        )
    )
    fig.update_layout(title=f"Recommendations for {len(chosen)} customers", template="plotly_white")
    return fig


def plot_model_comparison(
    table: pd.DataFrame, *, metrics: tuple[str, ...] = ("recall", "ndcg", "hit_rate")
) -> go.Figure:
    """Grouped bars of the metrics of :func:`compare_recommenders` per model."""
    _check(table, metrics, "comparison")
    fig = go.Figure()
    for metric in metrics:
        fig.add_bar(x=table.index.astype(str), y=table[metric], name=metric)
    k = int(table["k"].iloc[0]) if "k" in table.columns and len(table) else None
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        yaxis_title="share",
        title=f"Recommenders on a time split (k={k})" if k else "Recommenders",
    )
    return fig
