"""The warehouse tables churn features are built from, and the time checks on them.

``order_lines`` is required; ``products`` (category breadth), ``events`` (visits, sign-ins,
views) and ``feedback`` (NPS, CSAT) are optional: when one is absent its features are null for
every customer, which LightGBM treats as missing values.

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> lines = ibis.memtable({
...     "order_id": ["o1"], "order_ts": [datetime(2024, 1, 5, tzinfo=timezone.utc)],
...     "customer_id": ["a"], "quantity": [1.0], "amount": [3.0], "is_return": [False]})
>>> ChurnTables(lines=lines).available()
('order_lines',)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, overload

import ibis
import pandas as pd

from omnicrm.analytics.rfm import SALES_COLUMNS, as_of_timestamp, require_columns
from omnicrm.errors import InputError
from omnicrm.warehouse.sales import sold_lines

OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "products": ("product_id", "category"),
    "events": ("customer_id", "event_type", "event_ts"),
    "feedback": ("customer_id", "response_ts", "nps", "csat"),
}
"""Optional tables and the columns the features read from each."""

LINE_COLUMNS: tuple[str, ...] = (
    *SALES_COLUMNS,
    "channel",
    "product_id",
    "unit_price",
    "discount_amount",
    "promotion_id",
)
"""Columns of ``order_lines`` the features read (``order_lines`` contract)."""


@dataclass(frozen=True)
class ChurnTables:
    """Ibis tables of one warehouse: sales lines plus the optional behaviour tables."""

    lines: ibis.Table
    products: ibis.Table | None = None
    events: ibis.Table | None = None
    feedback: ibis.Table | None = None

    @classmethod
    def from_connection(cls, con: ibis.BaseBackend) -> ChurnTables:
        """Open the contract tables of a connection from :func:`omnicrm.warehouse.connect`.

        Raises
        ------
        InputError
            When ``order_lines`` is missing.
        """
        present = set(con.list_tables())
        if "order_lines" not in present:
            raise InputError(
                "the warehouse has no table 'order_lines': churn and CLV models need sales "
                "lines; load them first with `omnicrm ingest <file> --table order_lines`"
            )
        optional = {name: con.table(name) if name in present else None for name in OPTIONAL_TABLES}
        return cls(lines=sold_lines(con), **optional)

    def available(self) -> tuple[str, ...]:
        """Names of the tables present (``order_lines`` first)."""
        names = ["order_lines"]
        names += [n for n in OPTIONAL_TABLES if getattr(self, n) is not None]
        return tuple(names)

    def validate(self) -> None:
        """Check that every present table has the columns the features read."""
        require_columns(self.lines, LINE_COLUMNS, "the order_lines table")
        for name, columns in OPTIONAL_TABLES.items():
            table = getattr(self, name)
            if table is not None:
                require_columns(table, columns, f"the {name} table")


def as_of_day(as_of: date | datetime | str) -> date:
    """The calendar day (UTC) of ``as_of``; history is what happened before it.

    Examples
    --------
    >>> as_of_day("2026-04-01T15:00:00+08:00")
    datetime.date(2026, 4, 1)
    """
    return as_of_timestamp(as_of).date()


@overload
def history_span(lines: ibis.Table, *, customers: Literal[False] = False) -> tuple[date, date]: ...


@overload
def history_span(lines: ibis.Table, *, customers: Literal[True]) -> tuple[date, date, int]: ...


def history_span(lines: ibis.Table, *, customers: bool = False):
    """First and last day (UTC) with a sales line by an identified customer (one query).

    With ``customers=True`` also the number of distinct customers with a sales line.
    """
    known = lines.filter(lines.customer_id.notnull())
    aggs = {"first": known.order_ts.min(), "last": known.order_ts.max()}
    if customers:
        aggs["customers"] = known.customer_id.nunique()
    row = known.aggregate(**aggs).execute().iloc[0]
    if pd.isna(row["first"]):
        raise InputError(
            "no sales line has a customer_id: churn and CLV models need identified customers "
            "(map a customer or member id column when ingesting)"
        )
    if customers:
        return _day(row["first"]), _day(row["last"]), int(row["customers"])
    return _day(row["first"]), _day(row["last"])


def _day(value: object) -> date:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.date()


def check_label_window(as_of: date, horizon_days: int, last_day: date) -> None:
    """Raise :class:`InputError` unless ``[as_of, as_of + horizon_days)`` is fully observed.

    The data are observed up to and including ``last_day``.

    Examples
    --------
    >>> from datetime import date
    >>> try:
    ...     check_label_window(date(2026, 6, 15), 90, date(2026, 6, 30))
    ... except InputError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    as_of 2026-06-15 leaves 16 days of data from it (to 2026-06-30); the churn horizon needs 90:
    choose an as_of on or before 2026-04-02
    """
    observed = (last_day - as_of).days + 1
    if observed < horizon_days:
        latest = last_day + timedelta(days=1) - timedelta(days=horizon_days)
        raise InputError(
            f"as_of {as_of} leaves {max(observed, 0)} days of data from it (to {last_day}); "
            f"the churn horizon needs {horizon_days}: choose an as_of on or before {latest}"
        )


def check_horizon_days(horizon_days: object) -> int:
    """Return ``horizon_days`` if it is a whole number of days from 7 to 730."""
    if (
        isinstance(horizon_days, bool)
        or not isinstance(horizon_days, int)
        or not (7 <= horizon_days <= 730)
    ):
        raise InputError(
            f"horizon_days = {horizon_days!r} must be a whole number of days from 7 to 730 "
            "(90 is the usual churn horizon)"
        )
    return horizon_days
