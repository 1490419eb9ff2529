"""CDNOW fixtures: the 2,357-customer sample used in the CLV papers (see tests/data/cdnow)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from omnicrm.models.clv import calibration_holdout_summary, rfm_summary

CDNOW = Path(__file__).parents[2] / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """One row per CDNOW purchase line: customer ``sample_id``, ``date``, ``dollars``."""
    frame = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        names=["id", "sample_id", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions) -> pd.DataFrame:
    """Calibration summary (weeks 1-39) as in Fader, Hardie & Lee (2005)."""
    return rfm_summary(
        cdnow_transactions,
        customer_id_col="sample_id",
        datetime_col="date",
        monetary_value_col="dollars",
        observation_period_end=CALIBRATION_END,
    )


@pytest.fixture(scope="session")
def cdnow_cal_holdout(cdnow_transactions) -> pd.DataFrame:
    """Calibration summary plus holdout (weeks 40-78) purchase counts."""
    return calibration_holdout_summary(
        cdnow_transactions,
        customer_id_col="sample_id",
        datetime_col="date",
        calibration_period_end=CALIBRATION_END,
        observation_period_end=OBSERVATION_END,
    )


@pytest.fixture(scope="session")
def cdnow_repeat_buyers(cdnow_summary) -> pd.DataFrame:
    """The 946 customers with at least one repeat purchase (input of the Gamma-Gamma model)."""
    return cdnow_summary[cdnow_summary["frequency"] > 0].reset_index(drop=True)
