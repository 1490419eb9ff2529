"""The forecast model card backtests category demand before the split day."""

from __future__ import annotations

import datetime as dt

from omnicrm.models.churn import ChurnTables
from omnicrm.models.evaluation import EVALUATORS, EvaluationContext
from omnicrm.models.forecast.card import forecast_card


def test_card_is_registered_and_compares_with_seasonal_naive(retailer_warehouse):
    assert "forecast" in EVALUATORS
    last = retailer_warehouse.table("order_lines").order_ts.max().execute().date()
    ctx = EvaluationContext(
        tables=ChurnTables.from_connection(retailer_warehouse),
        as_of=last - dt.timedelta(days=30),
        first_day=last - dt.timedelta(days=729),
        last_day=last,
    )
    card = forecast_card(ctx).to_dict()
    assert card["name"] == "forecast"
    assert "seasonal_naive" in card["baselines"] or card["parameters"]["best_model"] == (
        "seasonal_naive"
    )
    assert card["split"]["n_windows"] == 3
    assert card["metrics"]["mase"] > 0
