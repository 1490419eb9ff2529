"""Metrics against scikit-learn and hand values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from omnicrm.errors import InputError
from omnicrm.models.churn import brier, lift_at, pr_auc, roc_auc, score_metrics


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_average_precision_match_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.3
    score = np.round(rng.random(500) + 0.3 * y, 1)  # coarse scores: many ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert pr_auc(y, score) == pytest.approx(average_precision_score(y, score), abs=1e-12)
    p = rng.random(500)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_hand_values():
    y = [1, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.7, 0.2, 0.1]
    assert roc_auc(y, s) == pytest.approx(5 / 6)  # 5 of 6 pairs ordered
    assert pr_auc(y, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert brier([1, 0], [0.75, 0.5]) == pytest.approx((0.0625 + 0.25) / 2)


def test_lift_in_the_top_decile():
    y = np.array([1] * 10 + [0] * 90)
    perfect = np.arange(100)[::-1].astype(float)
    assert lift_at(y, perfect) == pytest.approx(10.0)  # top 10 all churn; rate 0.1
    assert lift_at(y, -perfect) == 0.0
    assert lift_at(y[:11], perfect[:11]) == pytest.approx(1 / (10 / 11))  # ceil(1.1) = 2 rows


def test_score_metrics_leaves_brier_out_for_a_ranking():
    m = score_metrics([1, 0, 1, 0], [3.0, 1.0, 2.0, 0.5], probability=False)
    assert set(m) == {"customers", "churn_rate", "roc_auc", "pr_auc", "lift_top_decile"}
    assert m["roc_auc"] == 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(InputError, match="all 3 are churned"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="same length"):
        pr_auc([1, 0], [0.1])
    with pytest.raises(InputError, match="missing or infinite"):
        roc_auc([1, 0], [np.nan, 0.2])
    with pytest.raises(InputError, match=r"probabilities in \[0, 1\]"):
        brier([1, 0], [1.5, 0.2])
    with pytest.raises(InputError, match="labels must be 0/1"):
        roc_auc([2, 0], [0.5, 0.2])
