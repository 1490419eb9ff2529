"""CLV columns for customer_scores: values, as_of semantics, the scores step, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.analytics.scores import DEFAULT_STEPS, customer_scores
from omnicrm.errors import InputError
from omnicrm.models.clv import BetaGeoModel, add_clv, fit_clv, rfm_summary
from omnicrm.models.clv.scoring import CLV_COLUMNS

START = datetime(2024, 1, 1, tzinfo=UTC)


def bgnbd_lines(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """Purchases drawn from a BG/NBD-like process (heterogeneous rates and dropout)."""
    rng = np.random.default_rng(seed)
    cid = np.repeat(np.arange(n), rng.geometric(rng.beta(1.0, 4.0, n)))
    gap = rng.exponential(1.0, cid.size) * rng.gamma(1.0, 30.0, n)[cid]
    day = rng.integers(0, 150, n)[cid] + pd.Series(gap).groupby(cid).cumsum().to_numpy()
    keep = day < 600
    cid, day = cid[keep], day[keep]
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(cid.size)],
            "customer_id": [f"c{c}" for c in cid],
            "order_ts": [START + timedelta(days=float(d)) for d in np.floor(day)],
            "quantity": 1.0,
            "amount": rng.gamma(3.0, 15.0, cid.size).round(2),
            "is_return": False,
        }
    )


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return bgnbd_lines()


def test_scores_follow_the_fitted_models(lines):
    fit = fit_clv(ibis.memtable(lines), as_of="2025-03-01")
    s = fit.scores
    assert list(s.columns[-4:]) == list(CLV_COLUMNS)
    assert s.customer_id.is_unique
    assert s.p_alive.between(0, 1).all()
    assert (s.expected_purchases_90d >= 0).all()
    assert (s.clv_12m >= 0).all()
    # the BG/NBD columns are exactly the model's own predictions on the same summary
    np.testing.assert_allclose(s.p_alive, fit.purchase_model.p_alive(fit.summary))
    np.testing.assert_allclose(
        s.expected_purchases_90d, fit.purchase_model.expected_purchases(90 / 7, fit.summary)
    )
    # one-time buyers get the population mean spend
    pop = fit.spend_model.population_mean_spend()
    assert s.loc[s.frequency == 0, "expected_spend"].to_numpy() == pytest.approx(pop)


def test_as_of_excludes_its_own_day_like_customer_scores(lines):
    as_of = "2025-03-01"
    summary = fit_clv(ibis.memtable(lines), as_of=as_of).summary
    cut = lines[lines.order_ts < pd.Timestamp(as_of, tz="UTC")]
    expected = rfm_summary(
        cut,
        customer_id_col="customer_id",
        datetime_col="order_ts",
        monetary_value_col="amount",
        observation_period_end="2025-02-28",
    )
    pd.testing.assert_frame_equal(
        summary.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


def test_customers_with_a_long_silence_are_less_likely_alive(lines):
    s = fit_clv(ibis.memtable(lines), as_of="2025-03-01").scores
    repeaters = s[s.frequency >= 3]
    recent = repeaters[(repeaters["T"] - repeaters.recency) < 4]
    silent = repeaters[(repeaters["T"] - repeaters.recency) > 30]
    assert recent.p_alive.mean() > silent.p_alive.mean() + 0.3
    assert recent.clv_12m.mean() > silent.clv_12m.mean()


def test_add_clv_is_a_customer_scores_step(lines):
    frame = lines.assign(order_ts=lines.order_ts)
    table = ibis.memtable(frame)
    scores = customer_scores(table, as_of="2025-03-01", steps=(*DEFAULT_STEPS, add_clv))
    out = scores.execute()
    assert set(CLV_COLUMNS) <= set(out.columns)
    assert out.customer_id.is_unique
    assert out[list(CLV_COLUMNS)].notna().all().all()


def test_penalizer_fallback_only_when_needed(lines):
    fit = fit_clv(ibis.memtable(lines), as_of="2025-03-01")
    assert fit.purchase_model.penalizer_coef == 0.0
    forced = fit_clv(ibis.memtable(lines), as_of="2025-03-01", penalizer_coef=0.001)
    assert forced.purchase_model.penalizer_coef == 0.001
    assert isinstance(forced.purchase_model, BetaGeoModel)


def test_no_purchase_before_as_of_is_explained(lines):
    with pytest.raises(
        InputError, match="no purchase by an identified customer before as_of 2023-06-01"
    ):
        fit_clv(ibis.memtable(lines), as_of="2023-06-01")


def test_bad_horizon_and_tiny_data_are_refused(lines):
    with pytest.raises(InputError, match="horizon_days = 0 must be a whole number"):
        fit_clv(ibis.memtable(lines), as_of="2025-03-01", horizon_days=0)
    few = lines[lines.customer_id.isin(["c1", "c2", "c3"])]
    with pytest.raises(InputError, match="at least 10 customers"):
        fit_clv(ibis.memtable(few), as_of="2025-03-01")
