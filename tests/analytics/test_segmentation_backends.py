"""RFM, segments, tiers, lifecycle and cluster features give identical results on DuckDB (the
reference) and on PySpark local mode and PostgreSQL, on a synthetic history with ties, same-day
orders, returns, anonymous sales and orders after ``as_of``."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from omnicrm.analytics.clusters import CustomerClusters, cluster_features
from omnicrm.analytics.lifecycle import LifecycleRules, lifecycle_stages
from omnicrm.analytics.rfm import rfm_metrics, rfm_scores
from omnicrm.analytics.scores import attach_clusters, customer_scores
from omnicrm.analytics.segments import rfm_segments
from omnicrm.analytics.tiers import value_tiers
from omnicrm.warehouse import connect

BACKENDS = [
    pytest.param("pyspark", marks=[pytest.mark.spark, pytest.mark.slow]),
    pytest.param("postgres", marks=pytest.mark.postgres),
]
TABLE = "segmentation_test_lines"

AS_OF = "2024-06-15"
CHANNELS = np.array(["store", "online", "app", "mini_program", "unmanned"])


def synthetic_lines(n_customers: int = 150, seed: int = 42) -> pd.DataFrame:
    """About 1,500 lines over 2023-01-01 .. 2024-07-31, built without per-row loops."""
    rng = np.random.default_rng(seed)
    orders_per = rng.poisson(3, n_customers) + 1
    customer = np.repeat([f"c{i:03d}" for i in range(n_customers)], orders_per).astype(object)
    n_orders = len(customer)
    customer[rng.random(n_orders) < 0.05] = None  # anonymous sales
    day = rng.integers(0, 578, n_orders)  # days after 2023-01-01
    day[rng.random(n_orders) < 0.1] = day[0]  # a popular day: ties in recency
    minute = rng.integers(0, 24 * 60, n_orders)
    ts = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(day * 1440 + minute, unit="m")
    n_lines = rng.integers(1, 4, n_orders)
    idx = np.repeat(np.arange(n_orders), n_lines)
    line_number = np.concatenate([np.arange(1, k + 1) for k in n_lines])
    returned = rng.random(len(idx)) < 0.08
    quantity = rng.integers(1, 4, len(idx)) * np.where(returned, -1, 1)
    cents = rng.integers(100, 5000, len(idx))
    cents[rng.random(len(idx)) < 0.2] = 1000  # ties in spend
    price = [Decimal(int(c)).scaleb(-2) for c in cents]
    return pd.DataFrame(
        {
            "order_id": [f"o{i:05d}" for i in idx],
            "line_number": line_number,
            "order_ts": ts[idx],
            "customer_id": customer[idx],
            "store_id": "s1",
            "channel": CHANNELS[rng.integers(0, len(CHANNELS), n_orders)][idx],
            "product_id": [f"p{k}" for k in rng.integers(0, 30, len(idx))],
            "quantity": [Decimal(int(q)) for q in quantity],
            "unit_price": price,
            "discount_amount": Decimal("0.00"),
            "amount": [p * int(q) for p, q in zip(price, quantity, strict=True)],
            "promotion_id": np.where(rng.random(len(idx)) < 0.3, "promo", None),
            "is_return": returned,
        }
    )


@pytest.fixture(scope="module", params=BACKENDS)
def lines_on(request, load_lines):
    """The same lines loaded into DuckDB and into the backend under test."""
    df = synthetic_lines()
    duck = connect("duckdb://:memory:")
    if request.param == "pyspark":
        other = request.getfixturevalue("spark")
    else:
        other = connect(request.getfixturevalue("postgres_url"))
    yield {"duckdb": load_lines(duck, df, TABLE), "other": load_lines(other, df, TABLE)}
    duck.disconnect()
    if request.param == "postgres":
        other.drop_table(TABLE)
        other.disconnect()


def run_both(lines_on, build) -> tuple[pd.DataFrame, pd.DataFrame]:
    return build(lines_on["duckdb"]).execute(), build(lines_on["other"]).execute()


def normalise(df: pd.DataFrame, key: str = "customer_id") -> pd.DataFrame:
    """Sort by key; timestamps as naive UTC (Spark returns them naive, the others aware)."""
    df = df.sort_values(key).reset_index(drop=True)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = df[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif df[col].dtype == object and len(df) and isinstance(df[col].iloc[0], pd.Timestamp):
            df[col] = pd.to_datetime(df[col], utc=True).dt.tz_localize(None)
    return df


def assert_same(duck: pd.DataFrame, other: pd.DataFrame) -> None:
    duck, other = normalise(duck), normalise(other)
    assert len(duck) > 50
    pd.testing.assert_frame_equal(duck, other, check_dtype=False, check_exact=False, rtol=1e-12)


def test_rfm_scores_and_segments_are_identical(lines_on):
    duck, other = run_both(
        lines_on, lambda lines: rfm_segments(rfm_scores(rfm_metrics(lines, as_of=AS_OF)))
    )
    assert_same(duck, other)
    assert duck.rfm_segment.nunique() >= 8  # the data reach most of the map


def test_value_tiers_are_identical(lines_on):
    duck, other = run_both(lines_on, lambda lines: value_tiers(rfm_metrics(lines, as_of=AS_OF)))
    assert_same(duck, other)
    assert set(duck.value_tier) == {"top_1", "top_10", "rest"}


def test_lifecycle_stages_are_identical(lines_on):
    rules = LifecycleRules(new_days=60, lapsed_days=150, reactivated_days=120)
    duck, other = run_both(
        lines_on, lambda lines: lifecycle_stages(lines, as_of=AS_OF, rules=rules)
    )
    assert_same(duck, other)
    assert set(duck.lifecycle_stage) == {"new", "active", "at_risk", "lapsed", "reactivated"}


def test_customer_scores_are_identical(lines_on):
    duck, other = run_both(lines_on, lambda lines: customer_scores(lines, as_of=AS_OF))
    assert_same(duck, other)


def test_cluster_features_are_identical(lines_on):
    duck, other = run_both(lines_on, lambda lines: cluster_features(lines, as_of=AS_OF))
    assert_same(duck, other)


def test_attached_clusters_are_identical(lines_on):
    features = cluster_features(lines_on["duckdb"], as_of=AS_OF).execute()
    model = CustomerClusters(k_range=(2, 4), random_state=0).fit(features)
    duck, other = run_both(
        lines_on,
        lambda lines: attach_clusters(customer_scores(lines, as_of=AS_OF), model, features),
    )
    assert_same(duck, other)
    assert duck.cluster.notna().all()
