"""CLV diagnostics of ``omnicrm analyze``: summarised in the warehouse, equal to the pandas
reference functions of :mod:`omnicrm.models.clv` on the same purchases."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.jobs.value import clv_diagnostics, holdout_days
from omnicrm.models.clv import BetaGeoModel, calibration_holdout_summary
from omnicrm.models.clv.diagnostics import conditional_expectations, repeat_purchase_tracking

AS_OF = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    """Order lines of 1,500 customers over 20 months: several lines per order and day,
    returns and anonymous lines (not purchases of a customer), lines on and after as_of."""
    rng = np.random.default_rng(3)
    n = 1500
    cid = np.repeat(np.arange(n), rng.geometric(rng.beta(1.0, 3.0, n)))
    gap = rng.exponential(1.0, cid.size) * rng.gamma(1.0, 35.0, n)[cid]
    day = rng.integers(0, 300, n)[cid] + pd.Series(gap).groupby(cid).cumsum().to_numpy()
    keep = day < 640
    cid, day = cid[keep], np.floor(day[keep])
    hours = rng.integers(0, 24, day.size)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(day * 24 + hours, unit="h")
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(day.size)],
            "customer_id": [f"c{c:05d}" for c in cid],
            "order_ts": ts,
            "quantity": 1.0,
            "amount": rng.gamma(3.0, 15.0, day.size).round(2),
            "is_return": rng.random(day.size) < 0.03,
        }
    )
    extra = frame.sample(400, random_state=1).assign(order_id=lambda f: f.order_id + "b")
    anonymous = frame.sample(200, random_state=2).assign(customer_id=None)
    return pd.concat([frame, extra, anonymous], ignore_index=True)


@pytest.fixture(scope="module")
def reference(lines):
    """The diagnostics computed customer by customer with the pandas functions."""
    bought = lines[
        lines.customer_id.notna()
        & ~lines.is_return
        & (lines.quantity > 0)
        & (lines.order_ts < AS_OF)
    ]
    first = bought.order_ts.min()
    last_day = (AS_OF - dt.timedelta(days=1)).date()
    cal_end = last_day - dt.timedelta(days=holdout_days(first.to_pydatetime(), AS_OF))
    summary = calibration_holdout_summary(
        bought,
        customer_id_col="customer_id",
        datetime_col="order_ts",
        calibration_period_end=cal_end,
        observation_period_end=last_day,
    )
    model = BetaGeoModel().fit(summary)
    holdout = conditional_expectations(model, summary)
    ids = set(summary.customer_id)
    tracking = repeat_purchase_tracking(
        model,
        bought[bought.customer_id.isin(ids)],
        customer_id_col="customer_id",
        datetime_col="order_ts",
        start=first.date(),
        end=last_day,
    )
    return model, holdout, tracking, cal_end


@pytest.fixture(scope="module")
def diagnostics(lines):
    return clv_diagnostics(ibis.memtable(lines), as_of=AS_OF)


def test_holdout_table_equals_the_customer_level_computation(diagnostics, reference):
    holdout, _ = diagnostics
    _, expected, _, cal_end = reference
    assert (holdout.calibration_end == pd.Timestamp(cal_end)).all()
    assert holdout.frequency.tolist() == expected.frequency.tolist()
    assert holdout.customers.tolist() == expected.customers.tolist()
    assert holdout.customers.sum() > 1000
    np.testing.assert_allclose(holdout.actual, expected.actual, rtol=1e-12)
    np.testing.assert_allclose(holdout.expected, expected.expected, rtol=1e-6)


def test_tracking_table_equals_the_customer_level_computation(diagnostics, reference):
    _, tracking = diagnostics
    _, _, expected, cal_end = reference
    assert len(tracking) == len(expected) > 80
    assert (tracking.calibration_end == pd.Timestamp(cal_end)).all()
    assert tracking.period_start.tolist() == expected.period_start.tolist()
    assert tracking.actual.tolist() == expected.actual.tolist()
    assert tracking.actual_cumulative.iloc[-1] > 1000
    np.testing.assert_allclose(
        tracking.expected_cumulative, expected.expected_cumulative, rtol=1e-6
    )
