"""Recommenders: popularity, repeat purchase, item-kNN, implicit ALS and a learned hybrid.

Every recommender has one interface (:class:`~omnicrm.models.recommend.base.Recommender`):
``fit(interactions)`` with columns ``customer_id, item_id, ts`` (+ ``quantity``) and
``recommend(customer_ids, k, exclude_items=None)`` returning ``customer_id, item_id, rank,
score, reason, cold_start``. See ``docs/recommend.md``.

Importing this package sets ``OPENBLAS_NUM_THREADS=1`` if unset (for ``implicit``; see
:mod:`omnicrm.models.recommend.als`).
"""

from omnicrm.models.recommend.als import ALSRecommender
from omnicrm.models.recommend.base import OUTPUT_COLUMNS, Recommender, check_k, top_k
from omnicrm.models.recommend.coldstart import similar_products
from omnicrm.models.recommend.evaluation import (
    compare_recommenders,
    evaluate_recommender,
    time_split,
)
from omnicrm.models.recommend.hybrid import HybridRecommender
from omnicrm.models.recommend.interactions import (
    Interactions,
    interactions_from_order_lines,
    split_by_time,
)
from omnicrm.models.recommend.knn import ItemKNNRecommender, item_similarity
from omnicrm.models.recommend.metrics import (
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    repeat_explore_recall,
)
from omnicrm.models.recommend.popularity import PopularityRecommender
from omnicrm.models.recommend.repeat import (
    PersonalFrequencyRecommender,
    RepeatPurchaseRecommender,
)

__all__ = [
    "OUTPUT_COLUMNS",
    "ALSRecommender",
    "HybridRecommender",
    "Interactions",
    "ItemKNNRecommender",
    "PersonalFrequencyRecommender",
    "PopularityRecommender",
    "Recommender",
    "RepeatPurchaseRecommender",
    "catalogue_coverage",
    "check_k",
    "compare_recommenders",
    "evaluate_recommender",
    "interactions_from_order_lines",
    "intra_list_diversity",
    "item_similarity",
    "novelty",
    "ranking_metrics",
    "repeat_explore_recall",
    "similar_products",
    "split_by_time",
    "time_split",
    "top_k",
]
