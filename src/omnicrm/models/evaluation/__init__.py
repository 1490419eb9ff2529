"""Model cards: every model evaluated on a time split, next to a baseline, in one place.

``omnicrm models evaluate`` builds an :class:`EvaluationContext` from the warehouse and runs
the registered evaluators (:data:`EVALUATORS`); add a model with :func:`register`.

Typical use::

    from omnicrm.models.churn import ChurnTables
    from omnicrm.models.evaluation import EvaluationContext, evaluate_models, load_truth
    ctx = EvaluationContext.create(ChurnTables.from_connection(con),
                                   truth=load_truth("data/truth.csv"))
    cards = evaluate_models(ctx)               # {"bgnbd": ModelCard, ..., "churn": ...}
    {name: card.to_dict() for name, card in cards.items()}
"""

from omnicrm.models.evaluation.card import ModelCard
from omnicrm.models.evaluation.context import EvaluationContext, load_truth
from omnicrm.models.evaluation.registry import EVALUATORS, Evaluator, evaluate_models, register

__all__ = [
    "EVALUATORS",
    "EvaluationContext",
    "Evaluator",
    "ModelCard",
    "evaluate_models",
    "load_truth",
    "register",
]
