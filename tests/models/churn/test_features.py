"""Churn features: hand-checked values, no leakage from on or after as_of, missing tables."""

from __future__ import annotations

import math
from datetime import date

import ibis
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import FEATURE_COLUMNS, ChurnTables, churn_features, churn_labels
from omnicrm.models.churn.features import origin_features

from .conftest import busy_lines, events_table, feedback_table, lines_table, products_table

AS_OF = "2025-02-20"  # day 50 after DAY0


def features(tables: ChurnTables, as_of: str = AS_OF) -> pd.DataFrame:
    return churn_features(tables, as_of=as_of).execute().set_index("customer_id").sort_index()


def test_rfm_trends_and_gaps_of_a_crafted_history(crafted_tables):
    a = features(crafted_tables).loc["a"]
    assert (a.recency_days, a.tenure_days, a.frequency) == (10, 50, 4)
    assert a.monetary == pytest.approx(45.0)  # 20 + 5 + 10 + 20 - 10 returned
    assert a.avg_order_value == pytest.approx(11.25)
    assert (a.orders_30d, a.spend_30d, a.orders_prev_30d, a.spend_prev_30d) == (2, 30, 2, 25)
    assert a.orders_trend_30d == 1.0
    assert a.spend_trend_30d == pytest.approx(1.2)
    assert a.orders_90d == 4
    assert math.isnan(a.spend_trend_90d)
    assert a.gap_mean_days == pytest.approx(40 / 3)
    assert a.gap_median_days == 10
    assert a.gap_now_ratio == 1.0
    assert a.gap_std_days == pytest.approx(pd.Series([10, 10, 20]).std())


def test_mix_returns_discounts_feedback_and_events(crafted_tables):
    a = features(crafted_tables).loc["a"]
    assert (a.share_store, a.share_app, a.share_online, a.channels_used) == (0.75, 0.25, 0, 2)
    assert (a.categories_bought, a.categories_90d) == (2, 2)
    assert a.return_line_rate == 0.25
    assert a.return_amount_share == pytest.approx(10 / 55)
    assert a.discount_share == pytest.approx(5 / 60)
    assert a.promo_spend_share == pytest.approx(5 / 55)
    assert (a.last_nps, a.last_csat, a.nps_mean, a.is_detractor) == (3, 5, 6, 1)
    assert a.days_since_feedback == 8
    assert pd.Timestamp(a.last_nps_date).date() == date(2025, 2, 12)
    # two store_visit events on one day are one visit
    assert (a.visits_30d, a.signins_30d, a.views_30d, a.days_since_event) == (1, 1, 1, 1)


def test_single_purchase_customer_has_no_gaps_and_no_nps(crafted_tables):
    b = features(crafted_tables).loc["b"]
    assert b.frequency == 1
    assert b.recency_days == 45
    assert math.isnan(b.gap_median_days)
    assert math.isnan(b.gap_now_ratio)
    assert math.isnan(b.last_nps)
    assert math.isnan(b.is_detractor)
    assert b.last_csat == 2
    assert (b.views_30d, b.views_90d) == (0, 1)


def test_anonymous_sales_and_later_customers_are_not_scored(crafted_tables):
    assert list(features(crafted_tables).index) == ["a", "b"]
    assert list(features(crafted_tables, "2025-01-03").index) == ["a"]


def test_features_are_unchanged_when_data_on_or_after_as_of_changes(crafted_tables):
    before = features(crafted_tables)
    future_lines = crafted_tables.lines.execute().to_dict("records")
    extra = lines_table(
        [
            {"order_id": "f1", "customer_id": "a", "day": 50, "hour": 0},  # midnight of as_of
            {"order_id": "f2", "customer_id": "b", "day": 60, "unit_price": "999.00"},
            {"order_id": "f3", "customer_id": "c", "day": 70},
            {"order_id": "f4", "customer_id": "a", "day": 80, "quantity": -3},
        ]
    ).execute()
    lines = ibis.memtable(
        pd.concat([pd.DataFrame(future_lines), extra], ignore_index=True),
        schema=crafted_tables.lines.schema(),
    )
    events = ibis.memtable(
        pd.concat(
            [
                crafted_tables.events.execute(),
                events_table([("a", "store_visit", 50), ("b", "sign_in", 55)]).execute(),
            ]
        ),
        schema=crafted_tables.events.schema(),
    )
    feedback = ibis.memtable(
        pd.concat(
            [
                crafted_tables.feedback.execute(),
                feedback_table([("a", 51, 0, 1), ("b", 52, 2, 1)]).execute(),
            ]
        ),
        schema=crafted_tables.feedback.schema(),
    )
    altered = ChurnTables(lines=lines, products=products_table(), events=events, feedback=feedback)
    pd.testing.assert_frame_equal(features(altered), before)

    # the change is visible to what is *meant* to see the future: the label
    def churned(tables: ChurnTables) -> dict:
        labels = churn_labels(tables.lines, as_of=AS_OF, horizon_days=30).execute()
        return labels.set_index("customer_id").churned.to_dict()

    assert churned(crafted_tables) == {"a": True, "b": True}
    assert churned(altered) == {"a": False, "b": False}


def test_absent_optional_tables_give_null_features(crafted_tables):
    only_lines = ChurnTables(lines=crafted_tables.lines)
    frame = features(only_lines)
    for col in ("categories_bought", "last_nps", "visits_30d", "days_since_event"):
        assert frame[col].isna().all(), col
    assert list(frame.columns) == [*FEATURE_COLUMNS, "last_nps_date", "last_csat_date"]


def test_a_missing_column_is_named(crafted_tables):
    lines = crafted_tables.lines.drop("discount_amount")
    with pytest.raises(InputError, match=r"lacks column.*discount_amount"):
        churn_features(ChurnTables(lines=lines), as_of=AS_OF)
    events = crafted_tables.events.drop("event_type")
    with pytest.raises(InputError, match=r"events table lacks column.*event_type"):
        churn_features(ChurnTables(lines=crafted_tables.lines, events=events), as_of=AS_OF)


def test_missing_order_lines_table_is_a_clear_error(warehouse):
    with pytest.raises(InputError, match=r"no table 'order_lines'.*omnicrm ingest"):
        ChurnTables.from_connection(warehouse)


@pytest.mark.slow
def test_features_are_the_same_bits_however_many_threads_sum_them():
    # money is summed in whole cents and the gaps' standard deviation from exact sums of
    # whole days: the float64 sums before depended on the order in which DuckDB's threads added
    # the rows, and so did the model (docs/churn.md, "Reproducibility")
    def frame(threads: int) -> pd.DataFrame:
        con = ibis.duckdb.connect(threads=threads)
        tables = ChurnTables(lines=busy_lines(con), products=products_table())
        origins = [date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1)]
        return origin_features(tables, origins, horizon_days=30).to_pandas()

    one = frame(1)
    assert len(one) > 3_000
    assert one["gap_std_days"].notna().any()
    pd.testing.assert_frame_equal(frame(4), one, check_exact=True)
