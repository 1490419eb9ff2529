"""Model cards, the registry, the truth file and the split day."""

from __future__ import annotations

import io
import json
import math
from datetime import date

import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import ChurnTables
from omnicrm.models.evaluation import (
    EVALUATORS,
    EvaluationContext,
    ModelCard,
    evaluate_models,
    load_truth,
    register,
)
from omnicrm.models.evaluation.clv_cards import holdout_outcomes, spearman

from ..churn.conftest import lines_table


def test_card_is_plain_json_and_nan_becomes_null():
    import numpy as np

    card = ModelCard(
        name="m",
        title="M",
        data_window={"first_day": "2025-01-01"},
        split={"as_of": "2025-06-01"},
        metrics={"auc": np.float64(0.81), "rho": math.nan, "n": np.int64(3)},
        baselines={"naive": {"auc": 0.5}},
    )
    doc = json.loads(json.dumps(card.to_dict()))
    assert doc["metrics"] == {"auc": 0.81, "rho": None, "n": 3}
    assert set(doc) == {
        "name",
        "title",
        "data_window",
        "split",
        "metrics",
        "baselines",
        "ground_truth",
        "parameters",
        "details",
        "notes",
    }


def test_registry_holds_the_four_models_and_takes_new_ones(monkeypatch):
    # the four built in come first; other cards (forecast, recommenders) register on import
    assert list(EVALUATORS)[:4] == ["bgnbd", "pareto_nbd", "gamma_gamma", "churn"]
    monkeypatch.setattr("omnicrm.models.evaluation.registry.EVALUATORS", dict(EVALUATORS))
    from omnicrm.models.evaluation import registry

    def recommender_card(ctx):
        return ModelCard(
            name="recs",
            title="Recommender",
            data_window=ctx.window(),
            split={"as_of": str(ctx.as_of)},
            metrics={"hit_rate": 0.2},
        )

    register("recs", recommender_card)
    ctx = context()
    cards = registry.evaluate_models(ctx, ["recs"])
    assert cards["recs"].metrics == {"hit_rate": 0.2}
    assert cards["recs"].data_window["last_day"] == "2025-06-30"
    with pytest.raises(InputError, match=r"unknown model.*nope; choose from bgnbd"):
        registry.evaluate_models(ctx, ["nope"])
    with pytest.raises(InputError, match="letters, digits and underscores"):
        register("bad name", recommender_card)


def context(**kwargs) -> EvaluationContext:
    lines = lines_table(
        [
            {"order_id": "o1", "customer_id": "a", "day": 0},
            {"order_id": "o2", "customer_id": "a", "day": 180},
        ]
    )
    return EvaluationContext.create(ChurnTables(lines=lines), **kwargs)


def test_split_day_defaults_to_the_latest_with_a_full_horizon():
    ctx = context()
    assert (ctx.first_day, ctx.last_day) == (date(2025, 1, 1), date(2025, 6, 30))
    assert ctx.as_of == date(2025, 4, 2)
    assert ctx.score_day == date(2025, 7, 1)
    assert context(horizon_days=30).as_of == date(2025, 6, 1)


def test_split_day_without_a_full_horizon_or_history_is_refused():
    with pytest.raises(
        InputError,
        match=r"as_of 2025-06-15 leaves 16 days of data from it "
        r"\(to 2025-06-30\); the churn horizon needs 90: "
        r"choose an as_of on or before 2025-04-02",
    ):
        context(as_of="2025-06-15")
    with pytest.raises(InputError, match="on or before the first purchase"):
        context(as_of="2024-12-01")


def test_unknown_model_name_is_refused_before_any_work():
    with pytest.raises(InputError, match="unknown model"):
        evaluate_models(context(), ["bgnbd", "clv"])


def test_truth_file_is_read_and_checked(tmp_path):
    truth = load_truth(
        io.StringIO(
            "customer_id,alive_at_end,purchases_next_90d,spend_next_365d\n007,False,0,0.00\n"
        )
    )
    assert truth.customer_id.tolist() == ["007"]  # ids stay text
    assert truth.alive_at_end.tolist() == [False]
    with pytest.raises(InputError, match=r"lacks column.*spend_next_365d"):
        load_truth(io.StringIO("customer_id,alive_at_end,purchases_next_90d\nA,true,1\n"))
    with pytest.raises(InputError, match="alive_at_end is 'maybe' in row 2"):
        load_truth(
            io.StringIO(
                "customer_id,alive_at_end,purchases_next_90d,spend_next_365d\nA,maybe,1,2\n"
            )
        )
    with pytest.raises(InputError, match="does not exist"):
        load_truth(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="cannot be read"):
        load_truth(tmp_path)


def test_holdout_outcomes_count_purchase_days_and_spend():
    lines = lines_table(
        [
            {"order_id": "o1", "customer_id": "a", "day": 10, "hour": 9},
            {"order_id": "o2", "customer_id": "a", "day": 10, "hour": 18},  # same day
            {"order_id": "o3", "customer_id": "a", "day": 12, "quantity": -1},  # return
            {"order_id": "o4", "customer_id": "a", "day": 20},
            {"order_id": "o5", "customer_id": "a", "day": 21},  # after the end
        ]
    )
    out = holdout_outcomes(lines, date(2025, 1, 11), date(2025, 1, 21))
    assert out.to_dict("records") == [
        {"customer_id": "a", "holdout_purchases": 2, "holdout_spend": 30.0}
    ]


def test_spearman_of_constant_values_is_undefined():
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert spearman([1, 2, 3], [10, 20, 35]) == pytest.approx(1.0)
