"""Calendars of reporting periods: period starts, the period before, partial periods."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from omnicrm.analytics.periods import next_period, period_calendar, period_of
from omnicrm.errors import InputError


def test_weeks_start_on_monday_and_months_on_the_first():
    thursday = dt.date(2024, 2, 29)
    assert period_of(thursday, "day") == thursday
    assert period_of(thursday, "week") == dt.date(2024, 2, 26)
    assert period_of(thursday, "month") == dt.date(2024, 2, 1)
    assert next_period(dt.date(2024, 2, 1), "month") == dt.date(2024, 3, 1)
    assert next_period(dt.date(2024, 12, 30), "week") == dt.date(2025, 1, 6)


def test_calendar_previous_period_crosses_year_and_month_ends():
    cal = period_calendar(
        dt.datetime(2023, 12, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        "month",
        include_partial=True,
    ).execute()
    starts = [pd.Timestamp(p).date() for p in cal.period_start]
    previous = [pd.Timestamp(p).date() for p in cal.previous_start]
    assert starts == [dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert previous == [dt.date(2023, 11, 1), dt.date(2023, 12, 1), dt.date(2024, 1, 1)]


def test_a_calendar_without_a_complete_period_is_refused():
    with pytest.raises(InputError, match="no complete month lies between"):
        period_calendar(
            dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
            dt.datetime(2024, 1, 20, tzinfo=dt.UTC),
            "month",
            include_partial=False,
        )
