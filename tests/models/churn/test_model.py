"""ChurnModel: time split inside fit, calibration, contributions, save/load, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.churn import ChurnModel, brier, roc_auc, rolling_origin_evaluation

from .conftest import QUARTERS, synthetic_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_frame(QUARTERS, n=800)


@pytest.fixture(scope="module")
def fitted(frame) -> ChurnModel:
    return ChurnModel(n_estimators=80).fit(frame[frame.as_of < QUARTERS[-1]])


def test_trains_on_earlier_origins_and_calibrates_on_the_latest(fitted):
    assert fitted.training_origins_ == QUARTERS[:2]
    assert fitted.calibration_origin_ == QUARTERS[2]
    assert (fitted.n_train_, fitted.n_calibration_) == (1600, 800)


def test_origins_whose_windows_reach_the_calibration_origin_are_not_trained_on():
    frame = synthetic_frame(["2025-01-01", "2025-03-01", "2025-04-01"], n=300)
    model = ChurnModel(n_estimators=20).fit(frame)  # 2025-03-01 + 90 d > 2025-04-01
    assert model.training_origins_ == ["2025-01-01"]
    assert model.n_train_ == 300


def test_learns_the_signal_and_calibration_lowers_brier_on_a_later_origin(fitted, frame):
    test = frame[frame.as_of == QUARTERS[-1]]
    y = test.churned.to_numpy()
    prob, raw = fitted.predict_proba(test), fitted.predict_raw(test)
    assert roc_auc(y, prob) > 0.8
    assert brier(y, prob) < brier(y, raw)
    assert brier(y, prob) == pytest.approx(brier(y, test.true_p), abs=0.02)


def test_contributions_add_up_to_the_raw_log_odds(fitted, frame):
    test = frame.head(50)
    contrib = fitted.contributions(test)
    np.testing.assert_allclose(contrib.sum(axis=1), logit(fitted.predict_raw(test)), atol=1e-9)
    top = contrib.drop(columns="bias").abs().mean().idxmax()
    assert top == "recency_days"


def test_explain_words_the_main_driver(fitted, frame):
    late = frame[(frame.recency_days > 90)].head(5).copy()
    late["gap_median_days"] = 10.0
    reasons = fitted.explain(late)
    assert reasons.index.equals(late.index)
    assert reasons.churn_reasons.str.contains("no purchase for").all()


def test_save_and_load_give_identical_predictions(fitted, frame, tmp_path):
    path = fitted.save(tmp_path / "churn.json")
    loaded = ChurnModel.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), fitted.predict_proba(frame))
    assert loaded.get_params() == fitted.get_params()


def test_unfitted_model_says_so():
    with pytest.raises(NotFittedError, match="ChurnModel is not fitted yet"):
        ChurnModel().predict_proba(pd.DataFrame())


def test_one_origin_is_not_enough(frame):
    with pytest.raises(InputError, match=r"two or more as_of origins.*got 1"):
        ChurnModel().fit(frame[frame.as_of == QUARTERS[0]])


def test_too_few_customers_or_churners_are_refused(frame):
    small = frame.groupby("as_of").head(50)
    with pytest.raises(
        InputError, match="training slice has 100 customers, fewer than min_customers = 200"
    ):
        ChurnModel().fit(small[small.as_of <= QUARTERS[2]])
    few = frame.copy()
    few["churned"] = False
    few.loc[few.index[:5], "churned"] = True
    with pytest.raises(InputError, match="has 5 churned customers, fewer than min_positives"):
        ChurnModel().fit(few)


def test_missing_feature_columns_are_named(frame):
    with pytest.raises(InputError, match=r"lacks column.*p_alive"):
        ChurnModel().fit(frame.drop(columns="p_alive"))


def test_bad_settings_are_refused(frame):
    with pytest.raises(InputError, match="calibration = 'sigmoid' is not supported"):
        ChurnModel(calibration="sigmoid").fit(frame)
    with pytest.raises(InputError, match="num_leaves = 0 must be a whole number"):
        ChurnModel(num_leaves=0).fit(frame)


def test_rolling_origin_never_trains_on_windows_overlapping_the_test(frame):
    result = rolling_origin_evaluation(frame, ChurnModel(n_estimators=40), n_test_origins=1)
    row = result.metrics.set_index("model").loc["churn"]
    assert row.test_as_of == QUARTERS[3]
    assert row.calibration_origin == QUARTERS[2]
    assert row.training_origins == ", ".join(QUARTERS[:2])
    assert set(result.metrics.model) == {"churn", "bgnbd_p_alive", "bgnbd_expected"}
    assert row.roc_auc > result.metrics.set_index("model").loc["bgnbd_p_alive", "roc_auc"]
    assert len(result.predictions) == 800


def test_rolling_origin_needs_two_earlier_origins(frame):
    with pytest.raises(InputError, match="test origin 2025-01-01 has 1 earlier origin"):
        rolling_origin_evaluation(frame, ChurnModel(), n_test_origins=3)
