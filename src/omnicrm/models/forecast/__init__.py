"""Demand forecasting: series from the warehouse, backtests, model choice, intervals, stock.

See ``docs/forecasting.md`` for the models, the selection rule, metric formulas, hierarchical
coherence, stock formulas and KPI anomaly alerts.
"""

from omnicrm.models.forecast.backtest import BacktestResult, backtest
from omnicrm.models.forecast.data import describe_series, prepare_series
from omnicrm.models.forecast.forecaster import DemandForecaster
from omnicrm.models.forecast.metrics import bias, mase, rmsse, wape
from omnicrm.models.forecast.models import AUTO, MODELS

__all__ = [
    "AUTO",
    "MODELS",
    "BacktestResult",
    "DemandForecaster",
    "backtest",
    "bias",
    "describe_series",
    "mase",
    "prepare_series",
    "rmsse",
    "wape",
]
