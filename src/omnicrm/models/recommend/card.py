"""The recommenders' model card for ``omnicrm models evaluate`` (registered as ``recommenders``).

Split: recommenders are fitted on purchases before the split day ``as_of`` and judged on what
each customer bought from ``as_of`` during the card's horizon (``horizon_days``, at most
:data:`MAX_TEST_DAYS`, so the test looks like the next few shopping trips). ``metrics`` are the
hybrid's; ``baselines`` hold global and trending popularity, each customer's most bought items,
and every single component, on the same split. ``details["table"]`` has one row per model.

Importing this module registers the card in :data:`omnicrm.models.evaluation.EVALUATORS`
(``omnicrm.cli.recommend_cmd`` imports it, so the CLI always has it).

Examples
--------
>>> from omnicrm.models.evaluation import EVALUATORS
>>> "recommenders" in EVALUATORS
True
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from omnicrm.models.evaluation import EvaluationContext, ModelCard, register
from omnicrm.models.recommend.als import ALSRecommender
from omnicrm.models.recommend.evaluation import compare_recommenders
from omnicrm.models.recommend.hybrid import HybridRecommender
from omnicrm.models.recommend.interactions import interactions_from_order_lines
from omnicrm.models.recommend.knn import ItemKNNRecommender
from omnicrm.models.recommend.popularity import PopularityRecommender
from omnicrm.models.recommend.repeat import (
    PersonalFrequencyRecommender,
    RepeatPurchaseRecommender,
)

K = 10
MAX_TEST_DAYS = 28
METRICS: tuple[str, ...] = (
    "recall",
    "precision",
    "ndcg",
    "hit_rate",
    "coverage",
    "diversity",
    "novelty",
    "recall_repeat",
    "recall_explore",
)


def recommender_card(ctx: EvaluationContext) -> ModelCard:
    """Evaluate the hybrid and its baselines on the context's time split."""
    lines = ctx.tables.lines
    days = min(ctx.horizon_days, MAX_TEST_DAYS)
    end = ctx.as_of + timedelta(days=days)
    train = interactions_from_order_lines(lines, as_of=ctx.as_of)
    test = interactions_from_order_lines(lines, since=ctx.as_of, as_of=end)
    categories = None
    if ctx.tables.products is not None:
        p = ctx.tables.products.select("product_id", "category").to_pandas()
        categories = p.drop_duplicates("product_id").set_index("product_id")["category"]
    hybrid = HybridRecommender(k=K)
    models = {
        "hybrid": hybrid,
        "popularity": PopularityRecommender(),
        "trending": PopularityRecommender(kind="trending"),
        "frequency": PersonalFrequencyRecommender(),
        "repeat": RepeatPurchaseRecommender(),
        "knn": ItemKNNRecommender(),
        "als": ALSRecommender(),
    }
    table = compare_recommenders(models, train, test, k=K, categories=categories)
    row = table.loc["hybrid"]
    pick = [m for m in METRICS if m in table.columns]
    return ModelCard(
        name="recommenders",
        title="Product recommendations (hybrid of repeat, item-kNN, ALS, popularity)",
        data_window=ctx.window(),
        split={
            "as_of": str(ctx.as_of),
            "test_days": days,
            "test": f"every purchase of each customer from as_of for {days} days",
            "k": K,
            "customers": int(row["customers"]),
            "cold_start_customers": int(row["cold_start_customers"]),
        },
        metrics={m: float(row[m]) for m in pick},
        baselines={
            name: {m: float(table.loc[name, m]) for m in pick}
            for name in table.index
            if name != "hybrid"
        },
        parameters={
            "weights": dict(hybrid.weights_),
            "weights_source": hybrid.weights_source_,
            "validation": dict(hybrid.validation_),
        },
        details={"table": _rows(table)},
        notes=[
            f"Recall@{K}: share of a customer's test items in their top {K}, averaged over "
            "test customers; customers unseen before as_of get the cold-start fallback.",
            "recall_repeat / recall_explore: recall on items the customer had bought before "
            "/ never bought; repeat purchases dominate grocery baskets.",
            "Hybrid weights are learned on the last 28 days before as_of (no test data).",
        ],
    )


def _rows(table: pd.DataFrame) -> list[dict]:
    out = table.reset_index()
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in out.to_dict("records")
    ]


register("recommenders", recommender_card)
