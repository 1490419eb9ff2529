"""customer_scores: one golden row per customer, configuration, extra steps, clusters.

as_of = 2024-08-01, shipped configuration (bins 5, R x F segment map, top 1% / 10% tiers,
lifecycle new 30 / lapsed 180 / reactivated 90 / at risk 1.5 x gap):

    cust purchases (amount)                            recency freq monetary  aov
    A    2024-06-01 10.00, 07-15 40.00, 07-30 50.00    2       3    100.00    33.33
    B    2024-07-25 20.00                              7       1     20.00    20.00
    C    2023-12-01 60.00, 2024-01-20 85.50            194     2    145.50    72.75
    D    2024-03-01 30.00                              153     1     30.00    30.00

Scores with n = 4: floor(5 * rank / 4) + 1 maps rank 0, 1, 2, 3 to 1, 2, 3, 4.
    R (fewer days better): C 1, D 2, B 3, A 4
    F: B and D tie at 1 (rank 0) -> 1, C -> 3, A -> 4
    M: B 1, D 2, A 3, C 4
Segments (R, F): A (4, 4) Loyal; B (3, 1) About to Sleep; C (1, 3) At Risk;
    D (2, 1) Hibernating.
Tiers: top 1% of 4 = position < 0.04 -> C only; top 10% = position < 0.4 -> nobody else.
Lifecycle: A gaps 44, 15 -> typical 29.5, recency 2 -> active; B first bought 7 days ago ->
    new; C 194 days > 180 -> lapsed; D one purchase: population gap = median of A's 29.5 and
    C's 50 = 39.75, 153 > 1.5 x 39.75 -> at_risk.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.analytics.clusters import CustomerClusters, cluster_features
from omnicrm.analytics.rfm import with_order_date
from omnicrm.analytics.scores import (
    DEFAULT_STEPS,
    SCORES_COLUMNS,
    ScoringConfig,
    attach_clusters,
    customer_scores,
)
from omnicrm.analytics.segments import SegmentTable, segment_summary
from omnicrm.errors import InputError, NotFittedError
from omnicrm.warehouse import connect

AS_OF = "2024-08-01"
PURCHASES = [
    ("A", "2024-06-01 10:00", "10.00", "store"),
    ("A", "2024-07-15 10:00", "40.00", "online"),
    ("A", "2024-07-30 10:00", "50.00", "online"),
    ("B", "2024-07-25 10:00", "20.00", "store"),
    ("C", "2023-12-01 10:00", "60.00", "store"),
    ("C", "2024-01-20 10:00", "85.50", "store"),
    ("D", "2024-03-01 10:00", "30.00", "app"),
]
GOLDEN = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C", "D"],
        "recency_days": [2, 7, 194, 153],
        "frequency": [3, 1, 2, 1],
        "monetary": [Decimal(v) for v in ("100.00", "20.00", "145.50", "30.00")],
        "avg_order_value": [Decimal(v) for v in ("33.33", "20.00", "72.75", "30.00")],
        "r_score": [4, 3, 1, 2],
        "f_score": [4, 1, 3, 1],
        "m_score": [3, 1, 4, 2],
        "rfm_segment": ["Loyal", "About to Sleep", "At Risk", "Hibernating"],
        "value_tier": ["rest", "rest", "top_1", "rest"],
        "lifecycle_stage": ["active", "new", "lapsed", "at_risk"],
    }
)


def purchases_frame(rows=PURCHASES) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "order_ts", "amount", "channel"])
    df["order_id"] = [f"o{i}" for i in range(len(df))]
    df["line_number"] = 1
    df["order_ts"] = pd.to_datetime(df["order_ts"], utc=True)
    df["product_id"] = ["p1", "p2", "p3", "p1", "p2", "p1", "p4"][: len(df)]
    df["quantity"] = 1
    df["unit_price"] = df["amount"]
    df["is_return"] = False
    return df


@pytest.fixture
def con():
    con = connect("duckdb://:memory:")
    yield con
    con.disconnect()


@pytest.fixture
def lines(con, load_lines):
    return load_lines(con, purchases_frame())


def test_customer_scores_golden(lines):
    out = customer_scores(lines, as_of=AS_OF).execute().sort_values("customer_id")
    assert tuple(out.columns) == SCORES_COLUMNS
    got = out[GOLDEN.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, GOLDEN, check_dtype=False)
    assert (out.as_of == pd.Timestamp(AS_OF, tz="UTC")).all()
    assert out.set_index("customer_id").loc["C", "first_purchase_ts"] == pd.Timestamp(
        "2023-12-01 10:00", tz="UTC"
    )


def test_scores_are_one_row_per_customer(lines):
    out = customer_scores(lines, as_of=AS_OF)
    assert out.count().execute() == out.customer_id.nunique().execute() == 4


def test_bad_input_is_a_clear_error(con, load_lines, lines):
    with pytest.raises(
        InputError, match=r"as_of 2020-01-01 is before the first order \(2023-12-01 10:00:00\)"
    ):
        customer_scores(lines, as_of="2020-01-01")
    empty = load_lines(con, purchases_frame([]), name="empty")
    with pytest.raises(InputError, match="empty"):
        customer_scores(empty, as_of=AS_OF)


def test_an_extra_step_extends_the_table(lines):
    def add_big_spender(scores, context):
        return scores.mutate(big_spender=scores.monetary >= context.config.bins * 10)

    out = customer_scores(lines, as_of=AS_OF, steps=(*DEFAULT_STEPS, add_big_spender))
    df = out.execute().set_index("customer_id").sort_index()
    assert out.columns[-1] == "big_spender"
    assert df.big_spender.to_dict() == {"A": True, "B": False, "C": True, "D": False}


def test_a_four_bin_configuration_from_files(tmp_path, lines):
    segments = tmp_path / "segments.csv"
    segments.write_text(
        "segment,label_zh,r_min,r_max,f_min,f_max\nRecent,近期,3,4,1,4\nOld,久远,1,2,1,4\n",
        encoding="utf-8",
    )
    config = ScoringConfig.from_files(segments=segments)
    assert config.bins == 4
    out = customer_scores(lines, as_of=AS_OF, config=config).execute().set_index("customer_id")
    # n = 4, bins = 4: score = rank + 1 -> R: C 1, D 2, B 3, A 4.
    assert out.r_score.sort_index().to_dict() == {"A": 4, "B": 3, "C": 1, "D": 2}
    assert out.rfm_segment.sort_index().to_dict() == {
        "A": "Recent", "B": "Recent", "C": "Old", "D": "Old",
    }  # fmt: skip


def test_bins_must_match_the_segment_table():
    with pytest.raises(InputError, match=r"bins is 4 but rfm_segments.csv is written for scores"):
        ScoringConfig(bins=4)
    with pytest.raises(InputError, match="bins"):
        ScoringConfig(bins=1, segments=SegmentTable.default())


def test_attach_clusters_joins_the_cluster_of_every_customer(lines):
    features = cluster_features(lines, as_of=AS_OF).execute()
    model = CustomerClusters(k_range=(2, 2), random_state=0).fit(features)
    scores = customer_scores(lines, as_of=AS_OF)
    out = attach_clusters(scores, model, features).execute().set_index("customer_id")
    assert out.columns[-2:].tolist() == ["cluster", "cluster_name"]
    expected = dict(zip(features.customer_id, model.labels_, strict=True))
    assert out.cluster.to_dict() == expected
    assert set(out.cluster_name) <= set(model.names_.values())


def test_attach_clusters_needs_a_fitted_model_and_ids(lines):
    features = cluster_features(lines, as_of=AS_OF).execute()
    scores = customer_scores(lines, as_of=AS_OF)
    with pytest.raises(NotFittedError, match="not fitted"):
        attach_clusters(scores, CustomerClusters(), features)
    model = CustomerClusters(k_range=(2, 2)).fit(features)
    with pytest.raises(InputError, match="id column 'customer_id'"):
        attach_clusters(scores, model, features.drop(columns="customer_id"))


def test_segment_summary_of_the_golden_scores(lines):
    # Value tiers: C alone is top_1; A, B, D are the rest. Net spend in all: 295.50.
    scores = customer_scores(lines, as_of=AS_OF)
    out = segment_summary(scores, by="value_tier").execute()
    assert out.value_tier.tolist() == ["rest", "top_1"]
    assert out.customers.tolist() == [3, 1]
    assert out.customer_share.tolist() == [0.75, 0.25]
    assert out.monetary.tolist() == [Decimal("150.00"), Decimal("145.50")]
    assert out.monetary_share.tolist() == pytest.approx([150 / 295.5, 145.5 / 295.5])
    # rest = A, B, D: recency (2 + 7 + 153) / 3 = 54, frequency (3 + 1 + 1) / 3
    assert out.avg_recency_days.tolist()[0] == pytest.approx(54.0)
    assert out.avg_frequency.tolist()[0] == pytest.approx(5 / 3)
    by_segment = segment_summary(scores).execute()
    assert by_segment.customers.sum() == 4
    assert set(by_segment.rfm_segment) == {"Loyal", "About to Sleep", "At Risk", "Hibernating"}


def test_lines_with_a_precomputed_utc_order_date_give_the_golden_scores(lines):
    # analyze materialises the lines once with order_date_utc; every step must give the same
    # table as from the plain lines.
    out = customer_scores(with_order_date(lines), as_of=AS_OF).execute()
    got = out.sort_values("customer_id")[GOLDEN.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, GOLDEN, check_dtype=False)
