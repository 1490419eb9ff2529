"""The retail calendar: weekly and yearly seasonality, holidays, shopping festivals, promotions.

Everything here is data. :data:`FESTIVALS` lists each festival as a window relative to an anchor
date (a fixed month-day, or a lunisolar date looked up in :data:`LUNAR_DATES`) with a traffic lift,
a lift of the digital channels and the promotion run during the window. :func:`day_profile`
turns the table into per-day arrays over the simulated span.

Examples
--------
>>> from datetime import date
>>> prof = day_profile(date(2025, 11, 1), 20)
>>> bool(prof.traffic[10] > 1.5 * prof.traffic[3])     # 11-11 vs an ordinary Tuesday
True
>>> prof.promotions[prof.promo[10]].promotion_id
'P2025-DOUBLE11'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from omnicrm.errors import InputError

LUNAR_DATES: dict[str, dict[int, date]] = {
    "spring_festival": {
        2015: date(2015, 2, 19),
        2016: date(2016, 2, 8),
        2017: date(2017, 1, 28),
        2018: date(2018, 2, 16),
        2019: date(2019, 2, 5),
        2020: date(2020, 1, 25),
        2021: date(2021, 2, 12),
        2022: date(2022, 2, 1),
        2023: date(2023, 1, 22),
        2024: date(2024, 2, 10),
        2025: date(2025, 1, 29),
        2026: date(2026, 2, 17),
        2027: date(2027, 2, 6),
        2028: date(2028, 1, 26),
        2029: date(2029, 2, 13),
        2030: date(2030, 2, 3),
        2031: date(2031, 1, 23),
        2032: date(2032, 2, 11),
        2033: date(2033, 1, 31),
        2034: date(2034, 2, 19),
        2035: date(2035, 2, 8),
    },
    "mid_autumn": {
        2015: date(2015, 9, 27),
        2016: date(2016, 9, 15),
        2017: date(2017, 10, 4),
        2018: date(2018, 9, 24),
        2019: date(2019, 9, 13),
        2020: date(2020, 10, 1),
        2021: date(2021, 9, 21),
        2022: date(2022, 9, 10),
        2023: date(2023, 9, 29),
        2024: date(2024, 9, 17),
        2025: date(2025, 10, 6),
        2026: date(2026, 9, 25),
        2027: date(2027, 9, 15),
        2028: date(2028, 10, 3),
        2029: date(2029, 9, 22),
        2030: date(2030, 9, 12),
        2031: date(2031, 10, 1),
        2032: date(2032, 9, 19),
        2033: date(2033, 9, 8),
        2034: date(2034, 9, 27),
        2035: date(2035, 9, 16),
    },
}
"""Dates of the lunisolar holidays (Gregorian), per year."""

FIRST_YEAR, LAST_YEAR = 2015, 2035

WEEKDAY_WEIGHTS: tuple[float, ...] = (0.88, 0.86, 0.90, 0.93, 1.05, 1.28, 1.20)
"""Relative traffic Monday..Sunday (weekend peak)."""

YEARLY_AMPLITUDE, YEARLY_PEAK_DAY = 0.08, 20
"""Yearly cycle ``1 + A cos(2 pi (doy - peak) / 365.25)``: busier in winter, quieter in summer."""


@dataclass(frozen=True)
class Festival:
    """One festival window: ``[start_offset, end_offset]`` days around its anchor date.

    ``anchor`` is ``"MM-DD"`` or a key of :data:`LUNAR_DATES`. ``traffic_lift`` multiplies the
    store and online traffic, ``online_lift`` additionally multiplies the digital channels'
    weights. A promotion with ``promo_pct`` > 0 discounts lines of ``promo_departments`` (all
    departments when empty).
    """

    code: str
    label: str
    anchor: str
    start_offset: int
    end_offset: int
    traffic_lift: float
    online_lift: float = 1.0
    promo_pct: float = 0.0
    promo_departments: tuple[str, ...] = ()


FESTIVALS: tuple[Festival, ...] = (
    Festival("NEWYEAR", "元旦 New Year", "01-01", -2, 0, 1.15),
    Festival(
        "NIANHUO",
        "年货节 New-year shopping",
        "spring_festival",
        -14,
        -1,
        1.7,
        1.1,
        0.10,
        ("Fresh", "Grocery", "Snacks", "Beverages"),
    ),
    Festival("SPRING", "春节 Spring Festival holiday", "spring_festival", 0, 6, 0.55, 0.6),
    Festival("WOMEN", "三八节 Women's day", "03-08", -2, 0, 1.1, 1.3, 0.15, ("Personal care",)),
    Festival("LABOUR", "五一 Labour day", "05-01", 0, 4, 1.25, 1.0, 0.05, ()),
    Festival(
        "618PRE",
        "618 pre-sale",
        "06-18",
        -17,
        -1,
        1.1,
        1.4,
        0.08,
        ("Electronics", "Personal care", "Baby"),
    ),
    Festival(
        "618",
        "618 shopping festival",
        "06-18",
        0,
        0,
        1.8,
        2.5,
        0.20,
        ("Electronics", "Personal care", "Baby", "Beverages"),
    ),
    Festival(
        "MIDAUTUMN",
        "中秋 Mid-Autumn",
        "mid_autumn",
        -10,
        0,
        1.3,
        1.0,
        0.10,
        ("Bakery", "Snacks", "Fresh"),
    ),
    Festival("NATIONAL", "国庆黄金周 National Day golden week", "10-01", 0, 6, 1.35, 0.9, 0.05, ()),
    Festival("DOUBLE11PRE", "双十一 pre-sale", "11-11", -10, -1, 1.1, 1.5, 0.08, ()),
    Festival("DOUBLE11", "双十一 Double 11", "11-11", 0, 0, 2.2, 3.5, 0.20, ()),
    Festival("DOUBLE12", "双十二 Double 12", "12-12", 0, 0, 1.5, 2.0, 0.15, ()),
)
"""Holidays and shopping festivals with their traffic effect and promotion."""


@dataclass(frozen=True)
class WeeklyPromotion:
    """A promotion run every week on one weekday, for members only when ``members_only``."""

    code: str
    label: str
    weekday: int
    pct: float
    departments: tuple[str, ...]
    members_only: bool = True


WEEKLY_PROMOTIONS: tuple[WeeklyPromotion, ...] = (
    WeeklyPromotion("MEMBERDAY", "周三会员日 Wednesday member day", 2, 0.05, ("Fresh", "Dairy")),
)
"""Recurring promotions (the Wednesday member day of Chinese supermarkets)."""


@dataclass(frozen=True)
class Promotion:
    """A promotion instance: what ``promotion_id`` on a line refers to."""

    promotion_id: str
    label: str
    pct: float
    departments: tuple[str, ...]
    members_only: bool


@dataclass(frozen=True)
class DayProfile:
    """Per-day arrays over ``n_days`` days from ``first_day``.

    ``traffic``: relative shopping intensity (mean 1 over an ordinary year); ``online_lift``:
    extra factor for digital channels; ``promo`` / ``member_promo``: index into ``promotions``
    of the promotion open to everyone / to members on that day, -1 for none.
    """

    first_day: date
    traffic: np.ndarray
    online_lift: np.ndarray
    promo: np.ndarray
    member_promo: np.ndarray
    promotions: tuple[Promotion, ...]
    festival_days: dict[str, list[int]]


def anchor_date(anchor: str, year: int) -> date:
    """Return the Gregorian date of ``anchor`` (``"MM-DD"`` or a lunisolar key) in ``year``.

    >>> anchor_date("spring_festival", 2026), anchor_date("11-11", 2025)
    (datetime.date(2026, 2, 17), datetime.date(2025, 11, 11))
    """
    if anchor in LUNAR_DATES:
        try:
            return LUNAR_DATES[anchor][year]
        except KeyError:
            raise InputError(
                f"year {year} is outside the holiday calendar ({FIRST_YEAR}-{LAST_YEAR}); "
                "choose an end date so that the simulated span stays inside it"
            ) from None
    month, day = (int(x) for x in anchor.split("-"))
    return date(year, month, day)


def check_span(first_day: date, n_days: int) -> None:
    """Raise :class:`InputError` when the span leaves the years the calendar knows."""
    last_day = first_day + timedelta(days=n_days - 1)
    if first_day.year - 1 < FIRST_YEAR or last_day.year + 1 > LAST_YEAR:
        raise InputError(
            f"the simulated span {first_day}..{last_day} leaves the holiday calendar "
            f"({FIRST_YEAR + 1}-{LAST_YEAR - 1}); use an --end-date between "
            f"{FIRST_YEAR + 4}-01-01 and {LAST_YEAR - 2}-12-31"
        )


def day_profile(first_day: date, n_days: int) -> DayProfile:
    """Build the per-day traffic, digital lift and promotion arrays for a span of days.

    Parameters
    ----------
    first_day : date
        Day 0 of the span.
    n_days : int
        Number of days.

    Returns
    -------
    DayProfile

    Examples
    --------
    >>> from datetime import date
    >>> p = day_profile(date(2025, 1, 1), 365)
    >>> bool(0.95 < p.traffic.mean() < 1.15)   # festivals add to the ordinary-day mean of 1
    True
    """
    check_span(first_day, n_days)
    ordinals = first_day.toordinal() + np.arange(n_days)
    weekday = (ordinals + 6) % 7  # date.fromordinal(1) is a Monday: ordinal 1 -> 0
    years = np.array([date.fromordinal(int(o)).year for o in ordinals[[0, -1]]])
    year_start = np.array([date(y, 1, 1).toordinal() for y in range(years[0], years[1] + 1)])
    doy = ordinals - year_start[np.searchsorted(year_start, ordinals, side="right") - 1]
    traffic = np.asarray(WEEKDAY_WEIGHTS)[weekday] / np.mean(WEEKDAY_WEIGHTS)
    season = np.cos(2 * np.pi * (doy - YEARLY_PEAK_DAY) / 365.25)
    traffic = traffic * (1 + YEARLY_AMPLITUDE * season)
    online = np.ones(n_days)
    promo = np.full(n_days, -1, dtype=np.int64)
    promo_pct = np.zeros(n_days)
    promotions: list[Promotion] = []
    festival_days: dict[str, list[int]] = {}
    for year in range(years[0] - 1, years[1] + 2):
        for fest in FESTIVALS:
            start = anchor_date(fest.anchor, year).toordinal() - ordinals[0] + fest.start_offset
            lo, hi = max(start, 0), min(start + fest.end_offset - fest.start_offset + 1, n_days)
            if lo >= hi:
                continue
            traffic[lo:hi] *= fest.traffic_lift
            online[lo:hi] *= fest.online_lift
            festival_days.setdefault(fest.code, []).extend(range(lo, hi))
            if fest.promo_pct > 0:
                promotions.append(
                    Promotion(
                        f"P{year}-{fest.code}",
                        fest.label,
                        fest.promo_pct,
                        fest.promo_departments,
                        False,
                    )
                )
                better = promo_pct[lo:hi] < fest.promo_pct
                promo[lo:hi][better] = len(promotions) - 1
                promo_pct[lo:hi][better] = fest.promo_pct
    member_promo = np.full(n_days, -1, dtype=np.int64)
    for weekly in WEEKLY_PROMOTIONS:
        promotions.append(
            Promotion(
                f"P-{weekly.code}",
                weekly.label,
                weekly.pct,
                weekly.departments,
                weekly.members_only,
            )
        )
        target = member_promo if weekly.members_only else promo
        target[weekday == weekly.weekday] = len(promotions) - 1
    return DayProfile(
        first_day, traffic, online, promo, member_promo, tuple(promotions), festival_days
    )
