"""Report figures and the model card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from omnicrm.errors import InputError
from omnicrm.models.recommend.plots import (
    plot_model_comparison,
    plot_recommendation_examples,
    plot_rules_network,
    plot_rules_table,
    top_rules,
)

RULES = pd.DataFrame(
    {
        "level": ["product"] * 5 + ["category"],
        "antecedent": ["a", "b", "a + b", "c", "a", "Dairy"],
        "consequent": ["b", "a", "c", "a", "c", "Bakery"],
        "antecedent_names": ["Pasta", "Sauce", "Pasta + Sauce", "Cheese", "Pasta", "Dairy"],
        "consequent_names": ["Sauce", "Pasta", "Cheese", "Pasta", "Cheese", "Bakery"],
        "antecedent_size": [1, 1, 2, 1, 1, 1],
        "support": [0.1, 0.1, 0.05, 0.06, 0.06, 0.2],
        "confidence": [0.5, 0.4, 0.7, 0.6, 0.3, 0.5],
        "lift": [3.0, 3.0, 4.0, 2.0, 2.0, 1.5],
    }
)


def test_top_rules_orders_by_lift_then_confidence_and_keeps_the_level():
    out = top_rules(RULES, top=3)
    assert out["rule"].tolist() == ["Pasta + Sauce → Cheese", "Pasta → Sauce", "Sauce → Pasta"]
    assert top_rules(RULES, level="category")["rule"].tolist() == ["Dairy → Bakery"]
    with pytest.raises(InputError, match="by='weird'"):
        top_rules(RULES, by="weird")
    with pytest.raises(InputError, match=r"no column.*lift"):
        top_rules(RULES.drop(columns="lift"))


def test_rules_table_and_network_figures():
    table = plot_rules_table(RULES, top=2)
    assert isinstance(table, go.Figure)
    assert list(table.data[0].cells.values[0]) == ["Pasta + Sauce → Cheese", "Pasta → Sauce"]
    net = plot_rules_network(RULES)
    nodes = net.data[1]
    # one-to-one rules only, each pair once: a-b, a-c -> 3 nodes, 2 edges
    assert sorted(nodes.text) == ["Cheese", "Pasta", "Sauce"]
    assert np.isfinite(np.asarray(nodes.x, float)).all()
    assert "2 strongest product pairs" in net.layout.title.text
    again = plot_rules_network(RULES)
    assert np.allclose(np.asarray(again.data[1].x, float), np.asarray(nodes.x, float))


def test_recommendation_examples_and_model_comparison():
    recs = pd.DataFrame(
        {
            "customer_id": ["u1"] * 3 + ["u2"] * 3,
            "rank": [1, 2, 3] * 2,
            "item_id": list("xyzxyz"),
            "item_name": list("XYZXYZ"),
            "reason": ["you buy this every ~7 days"] * 6,
        }
    )
    fig = plot_recommendation_examples(recs, customers=1, k=2)
    assert len(fig.data[0].cells.values[0]) == 2
    table = pd.DataFrame(
        {"recall": [0.3, 0.1], "ndcg": [0.4, 0.2], "hit_rate": [0.9, 0.7], "k": [10, 10]},
        index=["hybrid", "popularity"],
    )
    bars = plot_model_comparison(table)
    assert [d.name for d in bars.data] == ["recall", "ndcg", "hit_rate"]
    assert "k=10" in bars.layout.title.text


def test_the_card_is_registered_and_beats_popularity(retailer_warehouse):
    from omnicrm.models.churn import ChurnTables
    from omnicrm.models.evaluation import EVALUATORS, EvaluationContext, evaluate_models
    from omnicrm.models.recommend import card  # noqa: F401

    assert "recommenders" in EVALUATORS
    ctx = EvaluationContext.create(ChurnTables.from_connection(retailer_warehouse))
    result = evaluate_models(ctx, ["recommenders"])["recommenders"].to_dict()
    assert result["split"]["k"] == 10
    assert result["metrics"]["recall"] > 1.3 * result["baselines"]["popularity"]["recall"]
    assert {r["model"] for r in result["details"]["table"]} == {
        "hybrid",
        "popularity",
        "trending",
        "frequency",
        "repeat",
        "knn",
        "als",
    }
    assert set(result["parameters"]["weights"]) == {"repeat", "knn", "als", "popularity"}
