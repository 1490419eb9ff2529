"""The demand forecast's model card for ``omnicrm models evaluate`` (registered as ``forecast``).

Split: daily category-level demand before the context's split day ``as_of`` is backtested with
rolling origins (3 windows of 28 days, each model trained only on data up to its cutoff). The
metrics are those of the candidate with the lowest MASE over all category series; every other
candidate and the seasonal naive baseline are reported on the same windows. Importing this
module registers the card (``omnicrm.cli.models_cmd`` imports it).

Examples
--------
>>> from omnicrm.models.evaluation import EVALUATORS
>>> "forecast" in EVALUATORS
True
"""

from __future__ import annotations

from omnicrm.models.evaluation import EvaluationContext, ModelCard, register
from omnicrm.models.forecast.backtest import backtest
from omnicrm.models.forecast.series import demand_series

HORIZON = 28
WINDOWS = 3
METRICS = ("mase", "rmsse", "wape", "bias", "mase_ratio_to_seasonal_naive")


def forecast_card(ctx: EvaluationContext) -> ModelCard:
    """Backtest category-level daily demand before ``ctx.as_of``."""
    series = demand_series(
        ctx.tables.lines, products=ctx.tables.products, level="category", as_of=ctx.as_of
    )
    result = backtest(series, h=HORIZON, n_windows=WINDOWS, models=("auto",))
    models = result.card["models"]
    best = min(
        models, key=lambda m: models[m]["mase"] if models[m]["mase"] is not None else float("inf")
    )
    return ModelCard(
        name="forecast",
        title="Daily demand by category (automatic model choice per series)",
        data_window={**ctx.window(), "series": result.card["data"]},
        split={"as_of": str(ctx.as_of), **result.card["backtest"]},
        metrics={k: models[best][k] for k in METRICS if k in models[best]},
        baselines={
            name: {k: v[k] for k in METRICS if k in v} for name, v in models.items() if name != best
        },
        parameters={"best_model": best},
        details={"by_class": result.card["by_class"]},
        notes=[
            "MASE and RMSSE are scaled by the in-sample seasonal naive error (period 7); "
            "WAPE = sum |error| / sum actual; bias = sum error / sum actual.",
            "Series with no demand in a window are kept; intermittent series use "
            "Croston/TSB/ADIDA candidates.",
        ],
    )


register("forecast", forecast_card)
