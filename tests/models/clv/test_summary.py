"""rfm_summary / rfm_summary_expr / calibration_holdout_summary: the CLV models' input."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.clv import calibration_holdout_summary, rfm_summary, rfm_summary_expr

from .conftest import CALIBRATION_END


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "ts", "amount"]).assign(
        ts=lambda f: pd.to_datetime(f["ts"], format="ISO8601")
    )


def _summary(tx, **kw):
    kw.setdefault("observation_period_end", "2024-01-29")
    return rfm_summary(
        tx, customer_id_col="customer_id", datetime_col="ts", monetary_value_col="amount", **kw
    )


class TestCdnowPublishedCounts:
    def test_946_repeat_buyers_and_2457_repeat_transactions(self, cdnow_summary):
        assert len(cdnow_summary) == 2357
        assert int((cdnow_summary["frequency"] > 0).sum()) == 946
        assert int(cdnow_summary["frequency"].sum()) == 2457

    def test_worked_example_customer_has_continuous_weeks(self, cdnow_summary):
        row = cdnow_summary.set_index("customer_id").loc[1]
        assert row["frequency"] == 2
        assert row["recency"] == pytest.approx(213 / 7)  # 30.43 weeks
        assert row["T"] == pytest.approx(272 / 7)  # 38.86 weeks

    def test_monetary_value_excludes_the_first_purchase(self, cdnow_transactions, cdnow_summary):
        one = cdnow_transactions[cdnow_transactions["sample_id"] == 1]
        cal = one[one["date"] <= CALIBRATION_END].groupby("date")["dollars"].sum()
        expected = cal.iloc[1:].mean()
        got = cdnow_summary.set_index("customer_id").loc[1, "monetary_value"]
        assert got == pytest.approx(expected)


class TestRules:
    def test_same_day_purchases_are_one_purchase_with_summed_spend(self):
        tx = _tx(
            [
                ("a", "2024-01-01 09:00", 1.0),
                ("a", "2024-01-08 10:00", 2.0),
                ("a", "2024-01-08 19:00", 3.0),
            ]
        )
        row = _summary(tx).iloc[0]
        assert (row["frequency"], row["recency"], row["T"]) == (1, 1.0, 4.0)
        assert row["monetary_value"] == 5.0

    def test_days_unit_gives_whole_days(self):
        tx = _tx([("a", "2024-01-01", 1.0), ("a", "2024-01-04", 1.0)])
        row = _summary(tx, time_unit="D").iloc[0]
        assert (row["recency"], row["T"]) == (3.0, 28.0)

    def test_transactions_after_the_end_are_ignored_and_the_end_day_is_included(self):
        tx = _tx(
            [
                ("a", "2024-01-01", 1.0),
                ("a", "2024-01-29 23:59", 1.0),
                ("a", "2024-01-30", 1.0),
                ("b", "2024-02-01", 1.0),
            ]
        )
        out = _summary(tx)
        assert out["customer_id"].tolist() == ["a"]
        assert out["frequency"].tolist() == [1]
        assert out["recency"].tolist() == [4.0]

    def test_timezone_aware_times_are_dated_in_utc(self):
        tx = _tx([("a", "2024-01-01 23:30", 1.0), ("a", "2024-01-02 00:30", 1.0)])
        tx["ts"] = tx["ts"].dt.tz_localize("Asia/Shanghai")  # both are 2024-01-01 in UTC
        assert _summary(tx)["frequency"].tolist() == [0]

    def test_without_monetary_column_there_is_no_monetary_value(self):
        tx = _tx([("a", "2024-01-01", 1.0)])
        out = rfm_summary(
            tx,
            customer_id_col="customer_id",
            datetime_col="ts",
            observation_period_end="2024-01-02",
        )
        assert list(out.columns) == ["customer_id", "frequency", "recency", "T"]


class TestBadInput:
    def test_unknown_column_is_named(self):
        with pytest.raises(InputError, match="datetime column 'when' is not in the transactions"):
            rfm_summary(
                _tx([("a", "2024-01-01", 1.0)]),
                customer_id_col="customer_id",
                datetime_col="when",
                observation_period_end="2024-01-02",
            )

    def test_unknown_time_unit(self):
        with pytest.raises(InputError, match="time_unit 'M' is not supported"):
            _summary(_tx([("a", "2024-01-01", 1.0)]), time_unit="M")

    def test_non_numeric_spend_names_the_row(self):
        tx = _tx([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 1.0)])
        tx["amount"] = ["1.0", "abc"]
        with pytest.raises(InputError, match=r"not a number in row 1 \(value 'abc'\)"):
            _summary(tx)

    def test_missing_customer_is_refused(self):
        tx = _tx([("a", "2024-01-01", 1.0), (None, "2024-01-02", 1.0)])
        with pytest.raises(InputError, match="empty in row 1; anonymous sales"):
            _summary(tx)

    def test_no_transactions_before_the_end(self):
        with pytest.raises(InputError, match="no transactions on or before"):
            _summary(_tx([("a", "2024-03-01", 1.0)]))

    def test_iso_strings_mixing_dates_and_times_are_read(self):
        tx = pd.DataFrame(
            {
                "customer_id": ["a", "a"],
                "ts": ["2024-01-01 10:00", "2024-01-08"],
                "amount": [1.0, 2.0],
            }
        )
        assert _summary(tx)["recency"].tolist() == [1.0]

    def test_unreadable_dates_are_named(self):
        tx = pd.DataFrame({"customer_id": ["a"], "ts": ["next tuesday"], "amount": [1.0]})
        with pytest.raises(InputError, match="datetime column 'ts' has values that are not dates"):
            _summary(tx)

    def test_bad_end_date(self):
        with pytest.raises(InputError, match="observation_period_end 'soon' is not a date"):
            _summary(_tx([("a", "2024-01-01", 1.0)]), observation_period_end="soon")


class TestCalibrationHoldout:
    def test_cdnow_holdout_counts(self, cdnow_cal_holdout):
        assert int(cdnow_cal_holdout["frequency"].sum()) == 2457
        assert int(cdnow_cal_holdout["frequency_holdout"].sum()) == 1882
        assert set(cdnow_cal_holdout["duration_holdout"]) == {39.0}

    def test_customers_first_seen_in_the_holdout_are_not_in_the_summary(self):
        tx = _tx([("a", "2024-01-01", 1.0), ("a", "2024-01-20", 1.0), ("b", "2024-01-20", 1.0)])
        out = calibration_holdout_summary(
            tx,
            customer_id_col="customer_id",
            datetime_col="ts",
            calibration_period_end="2024-01-15",
            observation_period_end="2024-01-29",
        )
        assert out["customer_id"].tolist() == ["a"]
        assert out["frequency_holdout"].tolist() == [1]

    def test_holdout_must_follow_calibration(self):
        with pytest.raises(InputError, match="holdout period would be empty"):
            calibration_holdout_summary(
                _tx([("a", "2024-01-01", 1.0)]),
                customer_id_col="customer_id",
                datetime_col="ts",
                calibration_period_end="2024-01-15",
                observation_period_end="2024-01-15",
            )


def _expr_matches_pandas(con, cdnow_transactions, cdnow_summary):
    frame = cdnow_transactions.rename(
        columns={"sample_id": "customer_id", "date": "order_ts", "dollars": "amount"}
    )
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["order_ts"] = frame["order_ts"].dt.tz_localize("UTC")
    frame = frame[["customer_id", "order_ts", "amount"]]
    if con.name == "pyspark":  # a temporary view: nothing written to spark-warehouse/
        table = con.create_view("clv_lines", ibis.memtable(frame), overwrite=True)
    else:
        table = con.create_table("clv_lines", frame, overwrite=True)
    got = rfm_summary_expr(table, as_of=CALIBRATION_END).to_pandas()
    expected = cdnow_summary.assign(customer_id=cdnow_summary["customer_id"].astype(str))
    merged = expected.merge(got, on="customer_id", suffixes=("", "_wh"), validate="1:1")
    assert len(merged) == len(expected) == len(got)
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(merged[col + "_wh"], merged[col], rtol=1e-12, atol=1e-9)


class TestWarehouseExpression:
    def test_duckdb_matches_pandas_on_cdnow(self, warehouse, cdnow_transactions, cdnow_summary):
        _expr_matches_pandas(warehouse, cdnow_transactions, cdnow_summary)

    @pytest.mark.postgres
    def test_postgres_matches_pandas_on_cdnow(
        self, postgres_url, cdnow_transactions, cdnow_summary
    ):
        from omnicrm.warehouse import connect

        con = connect(postgres_url)
        try:
            _expr_matches_pandas(con, cdnow_transactions, cdnow_summary)
        finally:
            con.drop_table("clv_lines", force=True)
            con.disconnect()

    @pytest.mark.spark
    @pytest.mark.slow
    def test_spark_matches_pandas_on_cdnow(
        self, spark_warehouse, cdnow_transactions, cdnow_summary
    ):
        _expr_matches_pandas(spark_warehouse, cdnow_transactions, cdnow_summary)

    def test_expression_is_lazy_and_skips_anonymous_sales(self, warehouse):
        frame = pd.DataFrame(
            {
                "customer_id": ["a", None, "a"],
                "amount": [1.0, 9.0, 2.0],
                "order_ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-15"], utc=True),
            }
        )
        expr = rfm_summary_expr(
            warehouse.create_table("t", frame), as_of="2024-01-29", time_unit="D"
        )
        out = expr.to_pandas()
        assert out.to_dict("list") == {
            "customer_id": ["a"],
            "frequency": [1],
            "recency": [14.0],
            "T": [28.0],
            "monetary_value": [2.0],
        }

    def test_unknown_column_is_named(self, warehouse):
        frame = pd.DataFrame({"customer_id": ["a"], "ts": pd.to_datetime(["2024-01-01"])})
        with pytest.raises(InputError, match="datetime column 'order_ts' is not in the table"):
            rfm_summary_expr(
                warehouse.create_table("t", frame), as_of="2024-01-29", monetary_value_col=None
            )
