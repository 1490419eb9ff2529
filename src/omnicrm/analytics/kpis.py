"""Customer and sales KPIs per day, week or month: overall and by channel, store or segment.

Every figure is defined in ``docs/metrics.md``; the summary below is the same text.

Conventions
-----------
- Only sales lines with ``order_ts < as_of`` are used (no leakage). Days are UTC calendar days,
  weeks start on Monday, months on the 1st.
- A *purchase line* is a line that is not a return (``quantity > 0`` and ``is_return`` not
  true). A *return line* has ``quantity < 0`` or ``is_return`` true. A *purchase order* is an
  ``order_id`` with at least one purchase line in the period.
- Customer metrics use identified lines only (``customer_id`` not null); money metrics use every
  line, anonymous sales included.
- A figure *by dimension* (channel, store, segment) is the overall figure computed on the lines
  of that dimension value only: "new customers" of a store are customers whose first purchase in
  that store falls in the period; "retention" of a channel counts customers who bought in that
  channel in both periods.
- A rate whose denominator is zero is NULL (undefined), never 0.

Metrics (``metric`` column of the output; the table is :data:`METRICS`)
-----------------------------------------------------------------------
``active_customers``      identified customers with >= 1 purchase order in the period
``new_customers``         identified customers whose first purchase ever (before ``as_of``) is
                          in the period
``retention_rate``        customers active in the previous period who are active again in this
                          one / customers active in the previous period
``churn_rate``            1 - retention_rate
``repurchase_rate``       customers with >= 2 purchase orders in the period / active customers
``purchase_frequency``    purchase orders of identified customers / active customers
``orders``                purchase orders (anonymous included)
``sales_amount``          sum of ``amount`` over purchase lines (after line discounts)
``returned_amount``       minus the sum of ``amount`` over return lines (a positive number)
``revenue``               sum of ``amount`` over all lines = sales_amount - returned_amount
``average_order_value``   sales_amount / orders
``return_rate``           returned_amount / sales_amount
``members_revenue_share`` revenue of member customers / revenue (NULL when revenue <= 0; only
                          when ``members`` is given)

See :func:`kpi_table` for an example.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

import ibis
import ibis.expr.datatypes as dtypes

from omnicrm.analytics.periods import check_grain, period_calendar, period_expr
from omnicrm.analytics.rfm import ORDER_DATE, order_date
from omnicrm.errors import InputError

Grain = Literal["day", "week", "month"]
DIMENSIONS: tuple[str, ...] = ("channel", "store_id", "segment")

OVERALL = "all"
"""``dimension`` and ``dimension_value`` of the overall (not broken down) rows."""
UNKNOWN = "unknown"
"""``dimension_value`` of lines whose channel or store is missing."""
ANONYMOUS = "anonymous"
"""Segment ``dimension_value`` of anonymous sales (no ``customer_id``)."""
UNSEGMENTED = "unsegmented"
"""Segment ``dimension_value`` of identified customers missing from the segments table."""

SEGMENT_COLUMNS: tuple[str, ...] = ("segment", "rfm_segment")
"""Segment column names recognised in a segments table, in order of preference."""

METRICS: dict[str, str] = {
    "active_customers": "identified customers with at least one purchase order in the period",
    "new_customers": "identified customers whose first purchase ever is in the period",
    "retention_rate": "share of the previous period's active customers active again",
    "churn_rate": "1 - retention_rate",
    "repurchase_rate": "active customers with two or more purchase orders / active customers",
    "purchase_frequency": "purchase orders of identified customers / active customers",
    "orders": "purchase orders (orders with at least one non-return line), anonymous included",
    "sales_amount": "sum of amount over purchase lines (after line discounts)",
    "returned_amount": "minus the sum of amount over return lines (positive)",
    "revenue": "net amount of all lines: sales_amount - returned_amount",
    "average_order_value": "sales_amount / orders",
    "return_rate": "returned_amount / sales_amount",
    "members_revenue_share": "revenue of loyalty members / revenue",
}
"""Every KPI name with its one-line definition (full definitions in ``docs/metrics.md``)."""

RATE_METRICS: frozenset[str] = frozenset(
    {"retention_rate", "churn_rate", "repurchase_rate", "members_revenue_share"}
)
"""Metrics that are shares between 0 and 1 (``return_rate`` may exceed 1)."""

LINE_COLUMNS: tuple[str, ...] = ("order_id", "order_ts", "customer_id", "quantity", "amount")
"""Columns of the sales lines table that every function here needs."""

OUTPUT_COLUMNS: tuple[str, ...] = (
    "period_start", "grain", "dimension", "dimension_value", "metric", "value"
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# as_of, validation and the sales window (shared with cohorts.py)
# --------------------------------------------------------------------------------------------
def to_utc(as_of: dt.date | dt.datetime | str, *, name: str = "as_of") -> dt.datetime:
    """Normalise a date, datetime or ISO string to an aware UTC datetime.

    A date means midnight UTC at its start; a naive datetime is read as UTC.

    Examples
    --------
    >>> to_utc("2024-03-01")
    datetime.datetime(2024, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    value = as_of
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"{name} {as_of!r} is not a date: write it as YYYY-MM-DD or an ISO date-time"
            ) from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise InputError(
        f"{name} {as_of!r} is not a date: pass a datetime.date, a datetime or 'YYYY-MM-DD'"
    )


def require_columns(table: ibis.Table, columns: Iterable[str], *, what: str) -> None:
    """Raise :class:`InputError` naming the columns of ``columns`` missing from ``table``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(table.columns) or 'no columns'}. Pass an order_lines-shaped table"
        )


def sales_window(lines: ibis.Table, as_of_utc: dt.datetime) -> tuple[ibis.Table, dt.datetime]:
    """Lines strictly before ``as_of_utc``, and the time of the first order (runs one query).

    Raises
    ------
    InputError
        When the table has no rows, or when ``as_of`` is not after the first order.
    """
    require_columns(lines, LINE_COLUMNS, what="sales lines table")
    stats = lines.aggregate(n=lines.count(), first=lines.order_ts.min()).execute()
    n, first = int(stats["n"].iloc[0]), stats["first"].iloc[0]
    if n == 0 or first is None or first != first:  # NaT compares unequal to itself
        raise InputError(
            "the sales lines table is empty: load order_lines first ('omnicrm ingest')"
        )
    first_utc = to_utc(first.to_pydatetime() if hasattr(first, "to_pydatetime") else first)
    if first_utc >= as_of_utc:
        raise InputError(
            f"as_of {as_of_utc.isoformat()} is not after the first order "
            f"({first_utc.isoformat()}): choose an as_of after it, nothing is sold before"
        )
    cutoff = ibis.literal(as_of_utc, type=dtypes.Timestamp(timezone="UTC"))
    return lines.filter(lines.order_ts < cutoff), first_utc


def return_flag(lines: ibis.Table) -> ibis.BooleanValue:
    """True for a return line: negative quantity, or ``is_return`` set (if the column exists).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"quantity": [2, -1, 1], "is_return": [False, True, None]})
    >>> t.select(r=return_flag(t)).execute().r.tolist()
    [False, True, False]
    """
    flag = lines.quantity < 0
    if "is_return" in lines.columns:
        flag = flag | lines.is_return.fill_null(False)
    return flag


def kpi_lines(lines: ibis.Table, *, as_of: dt.date | dt.datetime | str) -> ibis.Table:
    """The sales lines before ``as_of`` summed per order, day, customer, channel, store and kind.

    One row per ``(order_id, customer_id, UTC day, channel, store_id, return or not)``: one row
    for most orders, two for an order with purchase and return lines. Every KPI of this module
    and every figure of :func:`omnicrm.analytics.cohorts.cohort_retention` is a function of
    those keys and of sums of ``amount`` (no figure counts lines), so computed from this table
    they are the same as computed from ``lines`` with the same ``as_of``, over about a third of
    the rows. ``omnicrm analyze`` writes it once and computes its six KPI breakdowns and the
    cohorts from it.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with :data:`LINE_COLUMNS` (``channel``, ``store_id``, ``is_return`` and
        ``order_date_utc`` are kept when present).
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are kept; use the same ``as_of`` for the KPIs.

    Returns
    -------
    ibis.Table
        The keys above, ``order_date_utc`` being the UTC day (see
        :func:`omnicrm.analytics.rfm.order_date`); ``order_ts``, the group's first time;
        ``is_return``, true for the return lines' row; ``quantity``, -1 for it and 1 for the
        purchase lines' row (only its sign is read); ``amount``, the sum.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> from decimal import Decimal
    >>> lines = ibis.memtable({
    ...     "order_id": ["o1", "o1", "o1"], "customer_id": ["c1"] * 3,
    ...     "order_ts": [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)] * 3,
    ...     "quantity": [Decimal("1"), Decimal("2"), Decimal("-1")],
    ...     "amount": [Decimal("4.50"), Decimal("3.00"), Decimal("-4.50")]},
    ...     schema={"order_id": "string", "customer_id": "string",
    ...             "order_ts": "timestamp('UTC')", "quantity": "decimal(18, 3)",
    ...             "amount": "decimal(18, 2)"})
    >>> out = kpi_lines(lines, as_of="2024-01-02").order_by("is_return").execute()
    >>> out[["is_return", "quantity", "amount"]].astype(str).values.tolist()
    [['False', '1.000', '7.50'], ['True', '-1.000', '-4.50']]
    """
    require_columns(lines, LINE_COLUMNS, what="sales lines table")
    cutoff = ibis.literal(to_utc(as_of), type=dtypes.Timestamp(timezone="UTC"))
    window = lines.filter(lines.order_ts < cutoff)
    keys = {
        "order_id": window.order_id,
        "customer_id": window.customer_id,
        ORDER_DATE: order_date(window),
        "is_return": return_flag(window),
    }
    keys.update({c: window[c] for c in ("channel", "store_id") if c in window.columns})
    summed = window.group_by(**keys).aggregate(
        order_ts=window.order_ts.min(), amount=window.amount.sum()
    )
    sign = ibis.ifelse(summed.is_return, -1, 1).cast(lines.quantity.type())
    return summed.mutate(quantity=sign)


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------
def kpi_table(
    lines: ibis.Table,
    *,
    as_of: dt.date | dt.datetime | str,
    grain: Grain = "day",
    by: str | None = None,
    segments: ibis.Table | None = None,
    members: ibis.Table | None = None,
    include_partial: bool = True,
) -> ibis.Table:
    """KPIs per period, overall or by one dimension, in long format.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` columns (``customer_id`` already resolved to the
        unified customer key). ``channel`` / ``store_id`` are needed for those breakdowns;
        ``is_return`` is optional (a negative quantity marks a return anyway).
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used. A date means midnight UTC.
    grain : {"day", "week", "month"}
        Period length; weeks start on Monday, days are UTC.
    by : {None, "channel", "store_id", "segment"}
        Breakdown. ``None`` gives the overall rows (``dimension = dimension_value = "all"``).
    segments : ibis.Table, optional
        One row per customer with ``customer_id`` and a ``segment`` (or ``rfm_segment``)
        column; required for ``by="segment"``. Identified customers missing from it are
        ``"unsegmented"``, anonymous sales are ``"anonymous"``. The segment is applied to every
        period (it is the segment as of the table given, not as of each period).
    members : ibis.Table, optional
        Loyalty members: a table with ``customer_id`` (and, if present, ``is_member``; then only
        rows where it is true count), e.g. the ``customers`` table. Adds
        ``members_revenue_share``.
    include_partial : bool
        Keep the last period when it ends after ``as_of`` (e.g. the month to date).

    Returns
    -------
    ibis.Table
        ``period_start`` (date), ``grain``, ``dimension``, ``dimension_value``, ``metric``,
        ``value`` (float64; NULL for a rate with a zero denominator). One row per period (from
        each dimension value's first sale to ``as_of``, with zero-activity periods included),
        dimension value and metric of :data:`METRICS`. Unordered (a global sort costs a second
        pass on Spark): sort when displaying.

    Raises
    ------
    InputError
        Unknown grain or dimension, missing columns, ``segments`` missing for (or given
        without) a segment breakdown, empty lines table, or ``as_of`` not after the first order.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> from decimal import Decimal
    >>> lines = ibis.memtable({
    ...     "order_id": ["o1", "o2"], "line_number": [1, 1], "customer_id": ["c1", "c1"],
    ...     "order_ts": [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
    ...                  dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)],
    ...     "channel": ["store", "online"], "store_id": ["s1", "web"], "product_id": ["p", "p"],
    ...     "quantity": [Decimal("1.000"), Decimal("2.000")],
    ...     "unit_price": [Decimal("10.00"), Decimal("5.00")],
    ...     "discount_amount": [Decimal("0.00"), Decimal("0.00")],
    ...     "amount": [Decimal("10.00"), Decimal("10.00")], "is_return": [False, False]})
    >>> k = kpi_table(lines, as_of=dt.date(2024, 1, 3), grain="month").execute()
    >>> k.set_index("metric").loc[["active_customers", "orders", "revenue"], "value"].tolist()
    [1.0, 2.0, 20.0]
    """
    check_grain(grain)
    if by is not None and by not in DIMENSIONS:
        raise InputError(
            f"by={by!r} is not a known dimension: use None (overall) or one of "
            f"{', '.join(DIMENSIONS)}"
        )
    as_of_utc = to_utc(as_of)
    if by in ("channel", "store_id"):
        require_columns(lines, [by], what="sales lines table")
    if segments is not None and by != "segment":
        raise InputError(
            f"segments= is only used with by='segment' (got by={by!r}): drop it or set by='segment'"
        )
    segment_table = _segment_lookup(segments)
    if by == "segment" and segment_table is None:
        raise InputError(
            "by='segment' needs segments=<table with customer_id and segment>, e.g. the "
            "customer_scores table (column rfm_segment)"
        )
    member_ids = _member_ids(members) if members is not None else None
    window, first = sales_window(lines, as_of_utc)
    calendar = period_calendar(first, as_of_utc, grain, include_partial=include_partial)
    return _kpis(window, calendar, grain, by, segment_table, member_ids)


def kpi_daily(
    lines: ibis.Table,
    *,
    as_of: dt.date | dt.datetime | str,
    members: ibis.Table | None = None,
    include_partial: bool = True,
) -> ibis.Table:
    """The ``kpi_daily`` table: daily KPIs overall, by channel and by store, stacked.

    Same columns and definitions as :func:`kpi_table` with ``grain="day"``; ``dimension`` is
    ``"all"``, ``"channel"`` or ``"store_id"``.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> from decimal import Decimal
    >>> lines = ibis.memtable({
    ...     "order_id": ["o1"], "customer_id": [None], "channel": ["store"],
    ...     "store_id": ["s1"], "order_ts": [dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)],
    ...     "quantity": [Decimal("1")], "amount": [Decimal("4.50")]},
    ...     schema={"order_id": "string", "customer_id": "string", "channel": "string",
    ...             "store_id": "string", "order_ts": "timestamp('UTC')",
    ...             "quantity": "decimal(18, 3)", "amount": "decimal(18, 2)"})
    >>> k = kpi_daily(lines, as_of="2024-01-02").execute()
    >>> sorted(k.dimension.unique())
    ['all', 'channel', 'store_id']
    """
    as_of_utc = to_utc(as_of)
    require_columns(lines, ["channel", "store_id"], what="sales lines table")
    member_ids = _member_ids(members) if members is not None else None
    window, first = sales_window(lines, as_of_utc)
    calendar = period_calendar(first, as_of_utc, "day", include_partial=include_partial)
    parts = [_kpis(window, calendar, "day", by, None, member_ids) for by in (None, *DIMENSIONS[:2])]
    return ibis.union(*parts)


def _segment_lookup(segments: ibis.Table | None) -> ibis.Table | None:
    if segments is None:
        return None
    require_columns(segments, ["customer_id"], what="segments table")
    column = next((c for c in SEGMENT_COLUMNS if c in segments.columns), None)
    if column is None:
        raise InputError(
            f"segments table needs a segment column named one of {', '.join(SEGMENT_COLUMNS)}; "
            f"it has {', '.join(segments.columns)}"
        )
    stats = segments.aggregate(rows=segments.count(), ids=segments.customer_id.nunique())
    rows, ids = (int(v) for v in stats.execute().iloc[0])
    if rows != ids:
        raise InputError(
            f"segments table has {rows} rows for {ids} customer_id values: give exactly one "
            "segment per customer"
        )
    return segments.select(
        seg_customer_id=segments.customer_id, segment=segments[column].cast("string")
    )


def _member_ids(members: ibis.Table) -> ibis.Table:
    require_columns(members, ["customer_id"], what="members table")
    if "is_member" in members.columns:
        members = members.filter(members.is_member.fill_null(False))
    return members.select("customer_id").distinct()


def _kpis(
    window: ibis.Table,
    calendar: ibis.Table,
    grain: str,
    by: str | None,
    segments: ibis.Table | None,
    member_ids: ibis.Table | None,
) -> ibis.Table:
    """Wide metrics per (dimension value, period), then melted to the long format."""
    if by == "segment":
        joined = window.left_join(segments, window.customer_id == segments.seg_customer_id)
        dim = ibis.cases(
            (joined.customer_id.isnull(), ANONYMOUS),
            else_=joined.segment.fill_null(UNSEGMENTED),
        )
        window = joined.mutate(dv=dim).drop("seg_customer_id", "segment")
    elif by is not None:
        window = window.mutate(dv=window[by].cast("string").fill_null(UNKNOWN))
    else:
        window = window.mutate(dv=ibis.literal(OVERALL))
    base = window.mutate(
        period_start=period_expr(order_date(window), grain), is_ret=return_flag(window)
    )
    keys = ["dv", "period_start"]

    money_aggs = {
        "revenue": base.amount.sum(),
        "sales": base.amount.sum(where=~base.is_ret),
        "returned": (-base.amount).sum(where=base.is_ret),
        "orders": base.order_id.nunique(where=~base.is_ret),
    }
    if member_ids is not None:
        money_aggs["member_revenue"] = base.amount.sum(
            where=base.customer_id.isin(member_ids.customer_id)
        )
    money = base.group_by(keys).aggregate(**money_aggs)

    buys = base.filter(~base.is_ret & base.customer_id.notnull())
    per_customer = buys.group_by([*keys, "customer_id"]).aggregate(n=buys.order_id.nunique())
    customers = per_customer.group_by(keys).aggregate(
        active=per_customer.count(),
        repeaters=per_customer.count(where=per_customer.n >= 2),
        customer_orders=per_customer.n.sum(),
    )
    firsts = buys.group_by(["dv", "customer_id"]).aggregate(period_start=buys.period_start.min())
    new = firsts.group_by(keys).aggregate(new=firsts.count())

    current = per_customer.select(*keys, "customer_id").join(calendar, "period_start")
    earlier = per_customer.select(
        p_dv="dv", p_customer_id="customer_id", p_period_start="period_start"
    )
    retained = (
        current.join(
            earlier,
            [
                current.dv == earlier.p_dv,
                current.customer_id == earlier.p_customer_id,
                current.previous_start == earlier.p_period_start,
            ],
        )
        .group_by(keys)
        .aggregate(retained=ibis._.count())
    )
    previous_active = customers.select(
        dv="dv", previous_start="period_start", previous_active="active"
    )

    # every period from each dimension value's first sale on, with zero-activity periods kept
    starts = base.group_by("dv").aggregate(dv_first=base.period_start.min())
    grid = starts.cross_join(calendar)
    grid = grid.filter(grid.period_start >= grid.dv_first).drop("dv_first")
    wide = (
        grid.left_join(money, keys).drop("dv_right", "period_start_right")
        .left_join(customers, keys).drop("dv_right", "period_start_right")
        .left_join(new, keys).drop("dv_right", "period_start_right")
        .left_join(retained, keys).drop("dv_right", "period_start_right")
        .left_join(previous_active, ["dv", "previous_start"])
        .drop("dv_right", "previous_start_right")
    )  # fmt: skip
    return _melt(wide, grain, by, with_members=member_ids is not None)


def _melt(wide: ibis.Table, grain: str, by: str | None, *, with_members: bool) -> ibis.Table:
    def num(column: str) -> ibis.FloatingValue:
        return wide[column].cast("float64").fill_null(0.0)

    def ratio(numerator: ibis.FloatingValue, denominator: ibis.FloatingValue):
        return numerator / denominator.nullif(0.0)

    active, sales, orders = num("active"), num("sales"), num("orders")
    retention = ratio(num("retained"), num("previous_active"))
    values = {
        "active_customers": active,
        "new_customers": num("new"),
        "retention_rate": retention,
        "churn_rate": 1.0 - retention,
        "repurchase_rate": ratio(num("repeaters"), active),
        "purchase_frequency": ratio(num("customer_orders"), active),
        "orders": orders,
        "sales_amount": sales,
        "returned_amount": num("returned"),
        "revenue": num("revenue"),
        "average_order_value": ratio(sales, orders),
        "return_rate": ratio(num("returned"), sales),
    }
    if with_members:
        revenue = num("revenue")
        values["members_revenue_share"] = ibis.ifelse(
            revenue > 0.0, num("member_revenue") / revenue, ibis.null("float64")
        )
    # Long format by a cross join with the metric names and one CASE: a single pass that
    # compiles everywhere (pivot_longer needs arrays of structs, or jsonb on PostgreSQL).
    # grain and dimension come from that table too: real columns, not literals, so that the
    # result can be joined on them (Ibis folds a literal column into the join predicate).
    names = ibis.memtable(
        {"metric": list(values), "grain": grain, "dimension": by or OVERALL},
        schema={"metric": "string", "grain": "string", "dimension": "string"},
    )
    long = wide.cross_join(names)
    return long.select(
        period_start="period_start",
        grain="grain",
        dimension="dimension",
        dimension_value="dv",
        metric="metric",
        value=ibis.cases(*((long.metric == name, v) for name, v in values.items())),
    )
