"""Recency, frequency and monetary value per customer, and their 1–n quantile scores.

Definitions (all computed from sales lines with ``order_ts < as_of``; rows without a
``customer_id`` are anonymous sales and are left out):

- **purchase line**: a line that is not a return (``is_return`` false and ``quantity > 0``);
  a **purchase order** is an ``order_id`` with at least one purchase line.
- **recency_days**: whole calendar days (UTC) from the last purchase to ``as_of``;
  a purchase on the day before ``as_of`` has recency 1, one earlier the same day 0.
- **frequency**: number of distinct purchase orders (returns excluded).
- **monetary**: net spend, the sum of ``amount`` over all lines, returns included (they are
  negative), DECIMAL(18, 2).
- **avg_order_value**: ``monetary / frequency``, rounded half away from zero to the cent,
  DECIMAL(18, 2) (computed in integer cents, so it is exact and identical on every backend).

Only customers with at least one purchase order before ``as_of`` get a row.

Scores (Hughes 1994, *Strategic Database Marketing*): each measure is cut into ``bins``
quantile groups. With ``rank`` the number of customers with a strictly worse value and ``n``
the number of customers, ``score = floor(bins * rank / n) + 1``. Without ties every score
holds ``floor(n / bins)`` or ``ceil(n / bins)`` customers (exactly SQL ``NTILE(bins)`` when
``n`` is a multiple of ``bins``); tied customers share the score of the first of them (never
split arbitrarily, as ``NTILE`` would), so the result does not depend on row order. Higher is
better: recent (small ``recency_days``), frequent and high-spending customers score ``bins``.

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from omnicrm.analytics.rfm import rfm_metrics, rfm_scores
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"],
...     "order_ts": [datetime(2024, 7, d, tzinfo=timezone.utc) for d in (1, 20, 25)],
...     "quantity": [1, 2, 1], "amount": [Decimal("10.00"), Decimal("5.50"), Decimal("3.00")],
...     "is_return": [False, False, False]})
>>> m = rfm_metrics(lines, as_of="2024-08-01")
>>> m.order_by("customer_id").select("customer_id", "recency_days", "frequency").execute()
  customer_id  recency_days  frequency
0           a            12          2
1           b             7          1
>>> s = rfm_scores(m, bins=2).order_by("customer_id").execute()
>>> s[["r_score", "f_score", "m_score"]].values.tolist()
[[1, 2, 2], [2, 1, 1]]
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from omnicrm.errors import InputError

MONEY = dt.Decimal(18, 2)
"""Warehouse money type (as in the data contract)."""

SALES_COLUMNS: tuple[str, ...] = (
    "order_id",
    "order_ts",
    "customer_id",
    "quantity",
    "amount",
    "is_return",
)
"""Columns of a sales-lines table that customer metrics need (``order_lines`` has them)."""

METRIC_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_purchase_ts",
    "last_purchase_ts",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
)
"""Columns returned by :func:`rfm_metrics`, in order."""

SCORE_COLUMNS: tuple[str, ...] = ("r_score", "f_score", "m_score")
"""Columns added by :func:`rfm_scores`."""


def as_of_timestamp(as_of: date | datetime | str | pd.Timestamp) -> datetime:
    """Return ``as_of`` as a timezone-aware UTC datetime.

    A date (or a date string) means midnight UTC at the start of that day; a naive datetime is
    taken to be UTC; an aware one is converted to UTC.

    Examples
    --------
    >>> as_of_timestamp("2024-08-01")
    datetime.datetime(2024, 8, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if as_of is None or as_of is pd.NaT:
        raise InputError("as_of is missing: give a date such as 2024-08-01")
    if isinstance(as_of, str):
        try:
            as_of = pd.Timestamp(as_of)
        except ValueError:
            raise InputError(
                f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD (or an ISO date-time)"
            ) from None
    if isinstance(as_of, pd.Timestamp):
        as_of = as_of.to_pydatetime()
    if isinstance(as_of, datetime):
        if as_of.tzinfo is None:
            return as_of.replace(tzinfo=UTC)
        return as_of.astimezone(UTC)
    if isinstance(as_of, date):
        return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    raise InputError(
        f"as_of {as_of!r} ({type(as_of).__name__}) is not a date: give a date, a datetime or "
        "a string such as 2024-08-01"
    )


def require_columns(table: ibis.Table, columns: tuple[str, ...], what: str) -> None:
    """Raise :class:`InputError` naming the columns of ``columns`` missing from ``table``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(missing)}; it needs "
            f"{', '.join(columns)} (the order_lines contract, docs/data-model.md)"
        )


def check_history(lines: ibis.Table, as_of: datetime) -> None:
    """Check that ``lines`` has customer purchases before ``as_of`` (runs one small query).

    Raises
    ------
    InputError
        When the table is empty, when ``as_of`` is on or before the first order, or when no
        line before ``as_of`` carries a ``customer_id``.
    """
    require_columns(lines, SALES_COLUMNS, "the sales lines table")
    known = lines.customer_id.notnull()
    stats = lines.aggregate(
        n=lines.count(),
        first=lines.order_ts.min(),
        last=lines.order_ts.max(),
        customer_lines=known.sum(),
        before=(known & (lines.order_ts < as_of)).sum(),
    ).execute()
    row = stats.iloc[0]
    if int(row["n"]) == 0:
        raise InputError(
            "the sales lines table is empty: load orders first (omnicrm ingest) or check the "
            "table name"
        )
    first = pd.Timestamp(row["first"])
    if as_of <= _as_utc(first):
        where = "is the time of" if as_of == _as_utc(first) else "is before"
        raise InputError(
            f"as_of {_fmt(as_of)} {where} the first order ({_fmt(first)}); choose a later "
            "date: only sales strictly before as_of are used"
        )
    if not int(row["customer_lines"] or 0):
        raise InputError(
            "no sales line has a customer_id: customer metrics need identified customers "
            "(map a customer or member id column when ingesting)"
        )
    if not int(row["before"] or 0):
        raise InputError(
            f"no sales line with a customer_id is before as_of {_fmt(as_of)}; choose a date "
            f"after {_fmt(first)}"
        )


def _as_utc(ts: pd.Timestamp) -> datetime:
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _fmt(ts: datetime | pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    if (ts.hour, ts.minute, ts.second, ts.microsecond) == (0, 0, 0, 0):
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def customer_history(lines: ibis.Table, as_of: datetime) -> ibis.Table:
    """Lines of identified customers strictly before ``as_of``, with a boolean ``purchase``.

    ``purchase`` is true for a bought (not returned) line: ``is_return`` is not true and
    ``quantity > 0``.
    """
    hist = lines.filter(lines.order_ts < as_of, lines.customer_id.notnull())
    purchase = ~hist.is_return.fill_null(False) & (hist.quantity > 0)
    return hist.mutate(purchase=purchase)


def customer_orders(lines: ibis.Table, as_of: datetime) -> ibis.Table:
    """Identified lines before ``as_of`` summed per ``(customer_id, order_id, order_ts)``.

    One row per order in practice (an order's lines share its time): ``bought`` (the order has
    a purchase line), ``first_purchase_ts`` and ``last_purchase_ts`` (over its purchase lines;
    null without one) and ``amount`` (all its lines, returns included). :func:`rfm_metrics`
    and the lifecycle's purchase days both start from this table, so that in one query the
    sales lines are aggregated once, and per-row work such as the UTC date (costly on
    timestamps with a time zone) runs on orders rather than lines.
    """
    hist = customer_history(lines, as_of)
    bought = hist.purchase
    return hist.group_by(["customer_id", "order_id", "order_ts"]).aggregate(
        bought=bought.any(),
        first_purchase_ts=hist.order_ts.min(where=bought),
        last_purchase_ts=hist.order_ts.max(where=bought),
        amount=hist.amount.sum(),
    )


def days_before(as_of: datetime, ts: ibis.Value) -> ibis.Value:
    """Whole calendar days (UTC) from the timestamp column ``ts`` to ``as_of``.

    Uses the one portable form of a day difference (date minus date, see docs/STACK pitfalls).
    """
    return ibis.date(as_of.date()).delta(ts.date(), unit="day")


def rfm_metrics(
    lines: ibis.Table, *, as_of: date | datetime | str, validate: bool = True
) -> ibis.Table:
    """Recency, frequency, monetary value and average order value per customer.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` contract columns (at least
        :data:`SALES_COLUMNS`); ``customer_id`` is the (resolved) customer key.
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used.
    validate : bool
        Check the input first (one small query); see :func:`check_history`.

    Returns
    -------
    ibis.Table
        One row per customer with a purchase before ``as_of``; columns
        :data:`METRIC_COLUMNS` (definitions in the module documentation).
    """
    as_of = as_of_timestamp(as_of)
    if validate:
        check_history(lines, as_of)
    else:
        require_columns(lines, SALES_COLUMNS, "the sales lines table")
    orders = customer_orders(lines, as_of)
    per_customer = orders.group_by("customer_id").aggregate(
        first_purchase_ts=orders.first_purchase_ts.min(),
        last_purchase_ts=orders.last_purchase_ts.max(),
        frequency=orders.order_id.nunique(where=orders.bought),
        monetary=orders.amount.sum().cast(MONEY),
    )
    buyers = per_customer.filter(per_customer.frequency > 0)
    return buyers.select(
        "customer_id",
        "first_purchase_ts",
        "last_purchase_ts",
        recency_days=days_before(as_of, buyers.last_purchase_ts).cast("int64"),
        frequency=buyers.frequency.cast("int64"),
        monetary=buyers.monetary,
        avg_order_value=money_ratio(buyers.monetary, buyers.frequency),
    )


def money_ratio(amount: ibis.Value, count: ibis.Value) -> ibis.Value:
    """``amount / count`` rounded half away from zero to the cent, exactly, as DECIMAL(18, 2).

    Works in integer cents (``(2 * |cents| + count) // (2 * count)``) because backends differ
    in how they type and round a decimal divided by an integer.
    """
    cents = (amount * 100).cast("int64")
    rounded = (cents.abs() * 2 + count) // (count * 2)
    signed = ibis.ifelse(cents < 0, -rounded, rounded)
    return (signed.cast(dt.Decimal(18, 0)) * ibis.literal(Decimal("0.01"), type=MONEY)).cast(MONEY)


def quantile_score(column: ibis.Column, bins: int, *, higher_is_better: bool = True) -> ibis.Value:
    """Score ``column`` from 1 to ``bins`` by quantile, ties sharing the lower score.

    ``score = floor(bins * rank / n) + 1`` where ``rank`` counts the rows with a strictly
    worse value (0-based SQL ``RANK() - 1``) and ``n`` the rows. Null values get a null score
    and do not count in ``n``.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"x": [10, 20, 20, 30, 40]})
    >>> t.mutate(s=quantile_score(t.x, 5)).order_by("x").s.execute().tolist()
    [1, 2, 2, 4, 5]
    """
    bins = validate_bins(bins)
    key = column if higher_is_better else column.desc()
    valid = column.notnull()
    rank = ibis.rank().over(ibis.window(order_by=key, group_by=valid))
    n = column.count().over(ibis.window())
    score = (rank * bins) // n + 1
    return ibis.ifelse(valid, score, ibis.null("int64")).cast("int64")


def validate_bins(bins: object) -> int:
    """Return ``bins`` if it is an integer from 2 to 100, else raise :class:`InputError`."""
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 100:
        raise InputError(
            f"bins {bins!r} is not valid: the number of score groups must be an integer from "
            "2 to 100 (5 gives the usual 1-5 RFM scores)"
        )
    return bins


def rfm_scores(metrics: ibis.Table, *, bins: int = 5) -> ibis.Table:
    """Add ``r_score``, ``f_score`` and ``m_score`` (1 to ``bins``) to :func:`rfm_metrics`.

    Recency is scored so that recent customers (small ``recency_days``) score high.

    Parameters
    ----------
    metrics : ibis.Table
        The output of :func:`rfm_metrics` (columns ``recency_days``, ``frequency``,
        ``monetary``).
    bins : int
        Number of quantile groups (5: quintiles).

    Returns
    -------
    ibis.Table
        ``metrics`` with :data:`SCORE_COLUMNS` appended.
    """
    require_columns(metrics, ("recency_days", "frequency", "monetary"), "the RFM metrics table")
    return metrics.mutate(
        r_score=quantile_score(metrics.recency_days, bins, higher_is_better=False),
        f_score=quantile_score(metrics.frequency, bins),
        m_score=quantile_score(metrics.monetary, bins),
    )
