"""Holdout comparison and repeat-purchase tracking on CDNOW (Fader, Hardie & Lee 2005, Fig. 2-4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from omnicrm.errors import InputError
from omnicrm.models.clv import BetaGeoModel, ParetoNBDModel
from omnicrm.models.clv.diagnostics import (
    conditional_expectations,
    plot_conditional_expectations,
    plot_tracking,
    repeat_purchase_tracking,
)

from .conftest import OBSERVATION_END


@pytest.fixture(scope="module", params=[BetaGeoModel, ParetoNBDModel], ids=["bgnbd", "pnbd"])
def model(request, cdnow_cal_holdout):
    return request.param().fit(cdnow_cal_holdout)


@pytest.fixture(scope="module")
def tracking(model, cdnow_transactions):
    return repeat_purchase_tracking(
        model,
        cdnow_transactions,
        customer_id_col="sample_id",
        datetime_col="date",
        start="1997-01-01",
        end=OBSERVATION_END,
    )


class TestTracking:
    def test_78_weeks_with_the_actual_repeat_purchase_counts(self, tracking):
        assert len(tracking) == 78
        assert tracking["period_start"].iloc[-1] == pd.Timestamp("1998-06-24")
        assert tracking["actual_cumulative"].iloc[38] == 2457  # calibration, weeks 1-39
        assert tracking["actual_cumulative"].iloc[77] == 2457 + 1882  # plus the holdout

    def test_model_tracks_cumulative_repeat_purchases_within_a_few_percent(self, tracking):
        for week in (39, 78):
            row = tracking.iloc[week - 1]
            assert row["expected_cumulative"] == pytest.approx(row["actual_cumulative"], rel=0.05)

    def test_per_period_values_add_up_to_the_cumulative_ones(self, tracking):
        np.testing.assert_allclose(tracking["expected"].cumsum(), tracking["expected_cumulative"])
        assert (tracking["actual"].cumsum() == tracking["actual_cumulative"]).all()
        assert (tracking["expected"] >= 0).all()

    def test_expectation_is_the_sum_over_customers_of_the_new_customer_curve(
        self, model, cdnow_transactions, tracking
    ):
        first = cdnow_transactions.groupby("sample_id")["date"].min()
        end_of_week_10 = pd.Timestamp("1997-03-11")  # last day of week 10
        elapsed = ((end_of_week_10 - first).dt.days.clip(lower=0) / 7).to_numpy()
        expected = model.expected_purchases_new_customer(elapsed).sum()
        assert tracking["expected_cumulative"].iloc[9] == pytest.approx(expected, rel=1e-12)

    def test_period_range_is_checked(self, model, cdnow_transactions):
        with pytest.raises(InputError, match="end 1996-01-01 is before start 1997-01-01"):
            repeat_purchase_tracking(
                model,
                cdnow_transactions,
                customer_id_col="sample_id",
                datetime_col="date",
                start="1997-01-01",
                end="1996-01-01",
            )

    def test_plots(self, tracking):
        for cumulative in (True, False):
            fig = plot_tracking(tracking, cumulative=cumulative, calibration_end=39)
            assert isinstance(fig, go.Figure)
            assert [t.name for t in fig.data] == ["Actual", "Model"]
        assert list(fig.data[0].y) == tracking["actual"].tolist()


class TestConditionalExpectations:
    def test_table_by_calibration_frequency(self, model, cdnow_cal_holdout):
        table = conditional_expectations(model, cdnow_cal_holdout)
        assert table["frequency"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
        assert table["customers"].sum() == 2357
        assert table["customers"].iloc[0] == 1411
        ch = cdnow_cal_holdout
        top = ch[ch["frequency"] >= 7]
        assert table["actual"].iloc[-1] == pytest.approx(top["frequency_holdout"].mean())
        assert table["expected"].iloc[-1] == pytest.approx(
            model.expected_purchases(39.0, top).mean()
        )

    def test_model_follows_the_holdout(self, model, cdnow_cal_holdout):
        table = conditional_expectations(model, cdnow_cal_holdout)
        assert (np.diff(table["expected"]) > 0).all()
        total_expected = (table["expected"] * table["customers"]).sum()
        assert total_expected == pytest.approx(1882, rel=0.15)

    def test_requires_one_holdout_length(self, model, cdnow_cal_holdout):
        bad = cdnow_cal_holdout.assign(duration_holdout=np.arange(len(cdnow_cal_holdout)))
        with pytest.raises(InputError, match="duration_holdout differs between customers"):
            conditional_expectations(model, bad)

    def test_plot(self, model, cdnow_cal_holdout):
        table = conditional_expectations(model, cdnow_cal_holdout)
        fig = plot_conditional_expectations(table)
        assert list(fig.data[1].y) == pytest.approx(table["expected"].tolist())
        with pytest.raises(InputError, match="table has no column 'expected'"):
            plot_conditional_expectations(table.drop(columns="expected"))
