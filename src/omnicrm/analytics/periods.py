"""Calendars of reporting periods (day, week, month) for KPIs and cohorts.

The calendar is built in Python and handed to the warehouse as a small table, so that no
backend-specific date arithmetic is needed; weeks start on Monday.

Examples
--------
>>> import datetime as dt
>>> from omnicrm.analytics.periods import next_period, period_of
>>> period_of(dt.date(2024, 3, 7), "month"), next_period(dt.date(2024, 3, 1), "week")
(datetime.date(2024, 3, 1), datetime.date(2024, 3, 8))
"""

from __future__ import annotations

import datetime as dt

import ibis

from omnicrm.errors import InputError

GRAINS: tuple[str, ...] = ("day", "week", "month")
"""Supported period grains."""


def period_of(day: dt.date, grain: str) -> dt.date:
    """First day of the period containing ``day`` (weeks start on Monday).

    Examples
    --------
    >>> period_of(dt.date(2024, 3, 7), "week")
    datetime.date(2024, 3, 4)
    """
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: dt.date, grain: str) -> dt.date:
    """First day of the period after the one starting on ``start``.

    Examples
    --------
    >>> next_period(dt.date(2024, 12, 1), "month")
    datetime.date(2025, 1, 1)
    """
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_calendar(
    first: dt.datetime, as_of_utc: dt.datetime, grain: str, *, include_partial: bool
) -> ibis.Table:
    """One row per period from the first order's period to the last period before ``as_of``.

    Columns ``period_start`` and ``previous_start`` (the period before it), both dates.
    A period is partial when it ends after ``as_of``; ``include_partial=False`` drops it.
    """
    last_day = (as_of_utc - dt.timedelta(microseconds=1)).date()
    start, starts, previous = period_of(first.date(), grain), [], []
    prev = None
    while start <= last_day:
        end = next_period(start, grain)
        if include_partial or dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC) <= as_of_utc:
            starts.append(start)
            previous.append(prev)
        prev, start = start, end
    if not starts:
        raise InputError(
            f"no complete {grain} lies between the first order ({first.date()}) and as_of "
            f"({as_of_utc.isoformat()}): pass include_partial=True or a later as_of"
        )
    # previous_start of the first period is the period before it (no sales there by definition)
    if previous[0] is None:
        previous[0] = period_of(starts[0] - dt.timedelta(days=1), grain)
    return ibis.memtable(
        {"period_start": starts, "previous_start": previous},
        schema={"period_start": "date", "previous_start": "date"},
    )


def period_expr(day: ibis.DateValue, grain: str) -> ibis.DateValue:
    """The period start of a date column (portable ``DATE_TRUNC``)."""
    if grain == "day":
        return day
    return day.truncate("W" if grain == "week" else "M")


def check_grain(grain: str) -> None:
    """Raise :class:`InputError` for an unknown grain.

    Examples
    --------
    >>> check_grain("quarter")
    Traceback (most recent call last):
    ...
    omnicrm.errors.InputError: grain 'quarter' is not supported: use one of day, week, month
    """
    if grain not in GRAINS:
        raise InputError(f"grain {grain!r} is not supported: use one of {', '.join(GRAINS)}")
