"""On a synthetic retailer the scores agree with what really happened (``truth.csv``).

The generator knows who had dropped out at the end of the data (``alive_at_end``), who made no
purchase in the next 90 days and what each customer spent in the next 365 days. Measured on
this 2,500-record retailer (seed 11): churn_prob AUC 0.91 against dropped out and 0.87
against no purchase in 90 days (1 - P(alive): 0.86 and 0.68); Spearman of clv_12m with the
next year's spend 0.72 (last year's spend: 0.53). The thresholds leave room for noise.
"""

from __future__ import annotations

from datetime import date

import pytest

from omnicrm.analytics.scores import customer_scores
from omnicrm.models.churn import (
    ChurnModel,
    ChurnTables,
    fit_churn_model,
    label_origins,
    risk_list,
    roc_auc,
    rolling_origin_evaluation,
    score_customers,
    training_frame,
)
from omnicrm.models.clv.scoring import fit_clv
from omnicrm.models.evaluation.clv_cards import spearman
from omnicrm.warehouse import connect

pytestmark = pytest.mark.slow

SCORE_DAY = date(2026, 7, 1)  # the day after the data end


@pytest.fixture(scope="module")
def shop(generated_retailer):
    path, truth = generated_retailer
    con = connect(f"duckdb:///{path}")
    yield ChurnTables.from_connection(con), truth
    con.disconnect()


@pytest.fixture(scope="module")
def scored(shop):
    tables, truth = shop
    model = fit_churn_model(tables, as_of=SCORE_DAY)
    frame = score_customers(tables, as_of=SCORE_DAY, model=model)
    return model, frame.merge(truth, on="customer_id", how="inner")


def test_churn_probability_finds_the_customers_who_really_left(scored):
    _, t = scored
    dead, silent = ~t.alive_at_end.astype(bool), t.purchases_next_90d == 0
    assert roc_auc(dead, t.churn_prob) > 0.85
    assert roc_auc(silent, t.churn_prob) > 0.82
    # better than the BG/NBD ranking by 1 - P(alive) on the same customers
    assert roc_auc(silent, t.churn_prob) > roc_auc(silent, 1 - t.p_alive) + 0.1
    assert roc_auc(dead, t.churn_prob) > roc_auc(dead, 1 - t.p_alive)


def test_clv_ranks_next_year_spend(shop):
    tables, truth = shop
    fit = fit_clv(tables.lines, as_of=SCORE_DAY)
    t = fit.scores.merge(truth, on="customer_id")
    assert spearman(t.clv_12m, t.spend_next_365d) > 0.6
    assert spearman(t.expected_purchases_90d, t.purchases_next_90d) > 0.6


def test_rolling_origin_beats_p_alive_and_matches_expected_purchases(shop):
    tables, _ = shop
    origins = label_origins(date(2026, 6, 30), n_origins=4, first_day=date(2024, 6, 30))
    frame = training_frame(tables, origins)
    metrics = rolling_origin_evaluation(frame, ChurnModel(), n_test_origins=1).metrics
    by = metrics.set_index("model")
    assert by.loc["churn", "roc_auc"] > by.loc["bgnbd_p_alive", "roc_auc"] + 0.1
    assert by.loc["churn", "roc_auc"] > by.loc["bgnbd_expected", "roc_auc"] - 0.01
    assert by.loc["churn", "brier"] < by.loc["bgnbd_expected", "brier"]


def test_scores_join_onto_customer_scores_with_reasons(shop, scored):
    tables, _ = shop
    model, _ = scored
    base = customer_scores(tables.lines, as_of=SCORE_DAY)
    joined = score_customers(
        tables, as_of=SCORE_DAY, scores=base, model=model, lang="zh"
    ).to_pandas()
    assert len(joined) == base.count().execute() == joined.customer_id.nunique()
    for col in (
        "p_alive",
        "expected_purchases_90d",
        "expected_spend",
        "clv_12m",
        "churn_prob",
        "churn_reasons",
        "churn_reasons_json",
        "value_at_risk",
    ):
        assert joined[col].notna().all(), col
    top = risk_list(joined, top=20)
    assert (top.churn_reasons.str.len() > 0).mean() > 0.8
    worded = top.churn_reasons[top.churn_reasons.str.len() > 0]
    assert worded.str.contains("[\u4e00-\u9fff]").all()  # Chinese texts
