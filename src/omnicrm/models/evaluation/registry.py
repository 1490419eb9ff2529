"""The card registry: model name -> evaluator, and :func:`evaluate_models`.

An evaluator is ``evaluator(context) -> ModelCard``. Other models (recommenders, forecasts)
add themselves with :func:`register`; ``omnicrm models evaluate`` runs every registered
evaluator (or the ones named with ``--model``).

Examples
--------
>>> {"bgnbd", "pareto_nbd", "gamma_gamma", "churn"} <= set(EVALUATORS)
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from omnicrm.errors import InputError
from omnicrm.models.evaluation.card import ModelCard
from omnicrm.models.evaluation.churn_card import churn_card
from omnicrm.models.evaluation.clv_cards import bgnbd_card, gamma_gamma_card, pareto_nbd_card
from omnicrm.models.evaluation.context import EvaluationContext

Evaluator = Callable[[EvaluationContext], ModelCard]

EVALUATORS: dict[str, Evaluator] = {
    "bgnbd": bgnbd_card,
    "pareto_nbd": pareto_nbd_card,
    "gamma_gamma": gamma_gamma_card,
    "churn": churn_card,
}
"""Registered evaluators, in the order cards are printed."""


def register(name: str, evaluator: Evaluator) -> None:
    """Add (or replace) the evaluator of ``name``."""
    if not name or not name.replace("_", "").isalnum():
        raise InputError(f"model name {name!r} must be letters, digits and underscores")
    EVALUATORS[name] = evaluator


def evaluate_models(
    ctx: EvaluationContext, names: Iterable[str] | None = None
) -> dict[str, ModelCard]:
    """Run the evaluators of ``names`` (default: all registered) and return their cards."""
    chosen = list(EVALUATORS) if names is None else list(names)
    unknown = [n for n in chosen if n not in EVALUATORS]
    if unknown:
        raise InputError(
            f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(EVALUATORS)}"
        )
    return {name: EVALUATORS[name](ctx) for name in chosen}
