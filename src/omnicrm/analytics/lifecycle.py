"""Lifecycle stage per customer: new, active, at risk, lapsed or reactivated.

Everything is measured in whole calendar days (UTC) on **purchase days**: the distinct dates
on which a customer bought something (not a return) before ``as_of``. A customer's **gaps**
are the day counts between consecutive purchase days, their **typical gap** is the median of
their gaps, and their **current gap** is ``recency_days``, the days from the last purchase day
to ``as_of``. Stages are checked in this order; the first that applies wins:

1. ``new``: the first purchase day is at most ``new_days`` before ``as_of``.
2. ``lapsed``: no purchase for more than ``lapsed_days`` (``recency_days > lapsed_days``).
3. ``reactivated``: the customer came back after a lapse (a gap of more than ``lapsed_days``)
   and that comeback purchase was at most ``reactivated_days`` before ``as_of``.
4. ``at_risk``: the current gap is longer than ``at_risk_factor`` times the customer's typical
   gap. For customers with one purchase day (no gap of their own) the population's typical
   gap is used: the median of the repeat buyers' typical gaps (each repeat buyer counts once);
   ``fallback_gap_days`` if no customer has two purchase days.
5. ``active``: everyone else.

The thresholds are data (``config/lifecycle.toml``), loaded with :meth:`LifecycleRules.default`
or :meth:`LifecycleRules.from_toml`. A median is the middle value, or the mean of the two middle
values (an exact, interpolating median aggregate: ``quantile_cont`` on DuckDB,
``percentile_cont`` on PostgreSQL, ``percentile`` on Spark; identical on all three).

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> from omnicrm.analytics.lifecycle import LifecycleRules, lifecycle_stages
>>> days = [(1, 1), (1, 11), (2, 1), (2, 20), (2, 25)]   # (customer, day of 2024-07)
>>> lines = ibis.memtable({
...     "order_id": [f"o{i}" for i in range(5)], "customer_id": [str(c) for c, _ in days],
...     "order_ts": [datetime(2024, 7, d, tzinfo=timezone.utc) for _, d in days],
...     "quantity": [1] * 5, "amount": [10] * 5, "is_return": [False] * 5})
>>> rules = LifecycleRules(new_days=5, lapsed_days=60)
>>> out = lifecycle_stages(lines, as_of="2024-08-01", rules=rules).order_by("customer_id")
>>> out.select("customer_id", "typical_gap_days", "lifecycle_stage").execute()
  customer_id  typical_gap_days lifecycle_stage
0           1              10.0         at_risk
1           2              12.0          active
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import ibis

from omnicrm.analytics.rfm import (
    MONEY,
    SALES_COLUMNS,
    as_of_timestamp,
    check_history,
    customer_history,
    customer_orders,
    money_ratio,
    order_date,
    require_columns,
)
from omnicrm.errors import InputError

STAGES: tuple[str, ...] = ("new", "lapsed", "reactivated", "at_risk", "active")
"""Lifecycle stages in the order they are checked."""

STAGE_LABELS_ZH: dict[str, str] = {
    "new": "新客户",
    "active": "活跃客户",
    "at_risk": "流失风险客户",
    "lapsed": "已流失客户",
    "reactivated": "回流客户",
}
"""Chinese display labels of the stages, for the zh report."""


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the lifecycle stages (days, and a factor on the typical gap).

    Parameters
    ----------
    new_days : int
        ``new`` when the first purchase is at most this many days old.
    lapsed_days : int
        ``lapsed`` after more than this many days without a purchase; must exceed ``new_days``.
    reactivated_days : int
        ``reactivated`` when a comeback after a lapse is at most this many days old.
    at_risk_factor : float
        ``at_risk`` when the current gap exceeds this factor times the typical gap.
    fallback_gap_days : float
        Typical gap used when no customer has two purchase days.
    """

    new_days: int = 30
    lapsed_days: int = 180
    reactivated_days: int = 90
    at_risk_factor: float = 1.5
    fallback_gap_days: float = 30.0
    source: str = "lifecycle rules"

    def __post_init__(self) -> None:
        src = self.source
        for name in ("new_days", "lapsed_days", "reactivated_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"{src}: {name} {value!r} is not valid; give a whole number of days >= 1"
                )
        for name in ("at_risk_factor", "fallback_gap_days"):
            value = getattr(self, name)
            valid = isinstance(value, int | float) and not isinstance(value, bool)
            if not valid or not math.isfinite(value) or value <= 0:
                raise InputError(f"{src}: {name} {value!r} is not valid; give a number > 0")
        if self.lapsed_days <= self.new_days:
            raise InputError(
                f"{src}: lapsed_days {self.lapsed_days} must be greater than new_days "
                f"{self.new_days}: a customer silent for more than lapsed_days cannot be new"
            )

    @classmethod
    def default(cls) -> LifecycleRules:
        """The shipped thresholds (``config/lifecycle.toml``)."""
        ref = resources.files("omnicrm.analytics").joinpath("config/lifecycle.toml")
        return cls.from_text(ref.read_text(encoding="utf-8"), source="lifecycle.toml")

    @classmethod
    def from_toml(cls, path: str | Path) -> LifecycleRules:
        """Read and validate thresholds from a TOML file (keys as the parameters)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(
                f"lifecycle rules file {str(path)!r} does not exist: give the path of a TOML "
                "file like omnicrm/analytics/config/lifecycle.toml"
            ) from None
        return cls.from_text(text, source=path.name)

    @classmethod
    def from_text(cls, text: str, *, source: str = "lifecycle rules") -> LifecycleRules:
        """Parse and validate TOML text; keys left out keep their defaults."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{source} is not valid TOML: {exc}") from None
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], *, source: str = "lifecycle rules"
    ) -> LifecycleRules:
        """Build from a dict of thresholds; unknown keys are an error (typos do not pass)."""
        known = [f.name for f in fields(cls) if f.name != "source"]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InputError(
                f"{source}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(known)}"
            )
        return cls(**data, source=source)  # type: ignore[arg-type]


def purchase_days(lines: ibis.Table, as_of: datetime) -> ibis.Table:
    """Distinct ``(customer_id, day)`` pairs on which a customer bought before ``as_of``.

    ``day`` is the UTC date of a purchase line.
    """
    hist = customer_history(lines, as_of)
    buys = hist.filter(hist.purchase)
    return buys.select("customer_id", day=order_date(buys)).distinct()


def _day_aggregates(
    rows: ibis.Table, as_of: datetime, rules: LifecycleRules
) -> tuple[ibis.Table, dict[str, ibis.Value]]:
    """Purchase-day aggregates per customer over ``rows`` put in day order by one window.

    ``rows`` has ``customer_id`` and ``day`` (a purchase day, or null for a row that is none);
    every purchase day of a customer is the ``day`` of at least one of its rows, and repeats are
    allowed (several orders on one day): they are dropped in the window that orders the days
    anyway, which is cheaper than a distinct of millions of pairs. Returns ``rows`` with the
    column ``gap`` and the aggregates ``first_purchase_day``, ``last_purchase_day``,
    ``purchase_days``, ``comeback`` (1 if a purchase day after a lapse is at most
    ``reactivated_days`` old, else 0) and ``typical_gap_days``, to be computed with
    ``rows.group_by("customer_id").aggregate(...)``.
    """
    prev = rows.day.lag().over(ibis.window(group_by="customer_id", order_by="day"))
    rows = rows.mutate(gap=rows.day.delta(prev, unit="day"))
    # Rows without a day (orders with no purchase line) sort before or after all the days of
    # their customer, never between two (NULLS FIRST on Spark, LAST on DuckDB and PostgreSQL):
    # either way the first day's gap is null and every other day's gap is to the day before it.
    # A repeat of the day before it has gap 0: the rows with a day and a null or positive gap
    # are each purchase day once, with its gap to the previous purchase day.
    new_day = rows.day.notnull() & (rows.gap.isnull() | (rows.gap > 0))
    # a comeback at most reactivated_days before as_of is on or after this day (a comparison
    # with a constant, not a day difference on every row)
    recent = ibis.date(as_of.date() - timedelta(days=rules.reactivated_days))
    comeback = (rows.gap > rules.lapsed_days) & (rows.day >= recent)
    aggregates = {
        "first_purchase_day": rows.day.min(),
        "last_purchase_day": rows.day.max(),
        "purchase_days": rows.count(where=new_day),
        "comeback": ibis.ifelse(comeback.fill_null(False), 1, 0).max(),
        # a gap of 0 (a repeat) is no gap; the median skips nulls
        "typical_gap_days": rows.gap.nullif(0).cast("float64").median(),
    }
    return rows, aggregates


LIFECYCLE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_purchase_day",
    "last_purchase_day",
    "purchase_days",
    "recency_days",
    "typical_gap_days",
    "lifecycle_stage",
)
"""Columns returned by :func:`lifecycle_stages`, in order."""


def customer_activity(
    lines: ibis.Table,
    *,
    as_of: date | datetime | str,
    rules: LifecycleRules | None = None,
    validate: bool = True,
) -> ibis.Table:
    """RFM metrics and lifecycle stage of every customer, from one per-customer aggregate.

    The metrics are those of :func:`omnicrm.analytics.rfm.rfm_metrics` and the stage and its
    inputs those of :func:`lifecycle_stages` (same definitions, same values): both are
    aggregated in one pass over the customer's orders (one row per order from
    :func:`omnicrm.analytics.rfm.customer_orders`, its day the order's first purchase day),
    ordered by purchase day for the gaps (one ``LAG`` window), instead of one aggregate for each
    joined on the customer. That gives every purchase day of a customer whose orders each fall
    on one day (all customers in practice: an order's lines share its time). The few customers
    with an order whose purchase lines fall on several days are counted by that pass too, and
    their purchase days (last day, count, gaps) are then taken again from their purchase lines
    and replace the pass's; the per-order table is read once, so the warehouse does not have to
    hold it for a second reader. :func:`omnicrm.analytics.scores.customer_scores` starts from
    this table.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` contract columns.
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used.
    rules : LifecycleRules, optional
        Thresholds; default :meth:`LifecycleRules.default`.
    validate : bool
        Check the input first (one small query, see :func:`omnicrm.analytics.rfm.check_history`).

    Returns
    -------
    ibis.Table
        One row per customer with a purchase before ``as_of``: the columns of
        :data:`omnicrm.analytics.rfm.METRIC_COLUMNS`, then those of :data:`LIFECYCLE_COLUMNS`
        after ``customer_id`` and ``recency_days`` (which are the same).

    Examples
    --------
    >>> import ibis
    >>> from datetime import datetime, timezone
    >>> days = [(1, 1), (1, 11), (2, 1), (2, 20), (2, 25)]   # (customer, day of 2024-07)
    >>> lines = ibis.memtable({
    ...     "order_id": [f"o{i}" for i in range(5)], "customer_id": [str(c) for c, _ in days],
    ...     "order_ts": [datetime(2024, 7, d, tzinfo=timezone.utc) for _, d in days],
    ...     "quantity": [1] * 5, "amount": [10] * 5, "is_return": [False] * 5})
    >>> rules = LifecycleRules(new_days=5, lapsed_days=60)
    >>> out = customer_activity(lines, as_of="2024-08-01", rules=rules).order_by("customer_id")
    >>> out.select("frequency", "recency_days", "typical_gap_days", "lifecycle_stage").execute()
       frequency  recency_days  typical_gap_days lifecycle_stage
    0          2            21              10.0         at_risk
    1          3             7              12.0          active
    """
    rules = rules or LifecycleRules.default()
    as_of = as_of_timestamp(as_of)
    if validate:
        check_history(lines, as_of)
    else:
        require_columns(lines, SALES_COLUMNS, "the sales lines table")
    today = ibis.date(as_of.date())

    # One row per order, its day the order's first purchase day (null without a purchase line):
    # the purchase days of every customer whose orders each fall on one day (all of them in
    # practice: an order's lines share its time).
    orders = customer_orders(lines, as_of)
    rows = orders.select(
        "customer_id",
        "first_purchase_ts",
        "last_purchase_ts",
        "amount",
        day=orders.first_purchase_day,
        last_day=orders.last_purchase_day,
    )
    rows, days = _day_aggregates(rows, as_of, rules)
    per_customer = rows.group_by("customer_id").aggregate(
        first_purchase_ts=rows.first_purchase_ts.min(),
        last_purchase_ts=rows.last_purchase_ts.max(),
        frequency=rows.first_purchase_ts.count(),  # purchase orders: those with a first one
        monetary=rows.amount.sum().cast(MONEY),
        spread_orders=rows.count(where=rows.day != rows.last_day),
        **days,
    )
    buyers = per_customer.filter(per_customer.frequency > 0)
    # A customer with an order whose purchase lines fall on several days: the purchase days
    # (and all that depends on them but the first) from the purchase lines themselves.
    spread = buyers.filter(buyers.spread_orders > 0)
    hist = customer_history(lines, as_of)
    buys = hist.filter(hist.purchase).semi_join(spread.select("customer_id"), "customer_id")
    day_rows, exact = _day_aggregates(
        buys.select("customer_id", day=order_date(buys)), as_of, rules
    )
    exact.pop("first_purchase_day")  # the first purchase day of every order counts: exact
    fixed = spread.drop(*exact).join(
        day_rows.group_by("customer_id").aggregate(**exact), "customer_id"
    )
    columns = [c for c in buyers.columns if c != "spread_orders"]
    buyers = ibis.union(
        buyers.filter(buyers.spread_orders == 0).select(*columns),
        fixed.select(*columns),
        distinct=False,
    )
    population = buyers.aggregate(population_gap_days=buyers.typical_gap_days.median())
    joined = buyers.cross_join(population)

    recency = today.delta(joined.last_purchase_day, unit="day")
    since_first = today.delta(joined.first_purchase_day, unit="day")
    typical = ibis.coalesce(
        joined.typical_gap_days,
        joined.population_gap_days,
        ibis.literal(float(rules.fallback_gap_days)),
    )
    stage = ibis.cases(
        (since_first <= rules.new_days, "new"),
        (recency > rules.lapsed_days, "lapsed"),
        (joined.comeback > 0, "reactivated"),
        (recency.cast("float64") > typical * float(rules.at_risk_factor), "at_risk"),
        else_="active",
    )
    return joined.select(
        "customer_id",
        "first_purchase_ts",
        "last_purchase_ts",
        recency_days=recency.cast("int64"),
        frequency=joined.frequency.cast("int64"),
        monetary=joined.monetary,
        avg_order_value=money_ratio(joined.monetary, joined.frequency),
        first_purchase_day="first_purchase_day",
        last_purchase_day="last_purchase_day",
        purchase_days=joined.purchase_days.cast("int64"),
        typical_gap_days=joined.typical_gap_days,
        lifecycle_stage=stage,
    )


def lifecycle_stages(
    lines: ibis.Table,
    *,
    as_of: date | datetime | str,
    rules: LifecycleRules | None = None,
    validate: bool = True,
) -> ibis.Table:
    """Lifecycle stage of every customer with a purchase before ``as_of``.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` contract columns.
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used.
    rules : LifecycleRules, optional
        Thresholds; default :meth:`LifecycleRules.default`.
    validate : bool
        Check the input first (one small query, see :func:`omnicrm.analytics.rfm.check_history`).

    Returns
    -------
    ibis.Table
        One row per customer, columns :data:`LIFECYCLE_COLUMNS`: ``customer_id``,
        ``first_purchase_day``, ``last_purchase_day``, ``purchase_days`` (count),
        ``recency_days``, ``typical_gap_days`` (the customer's median gap, null with a single
        purchase day), ``lifecycle_stage``. The stage columns of :func:`customer_activity`.
    """
    activity = customer_activity(lines, as_of=as_of, rules=rules, validate=validate)
    return activity.select(*LIFECYCLE_COLUMNS)
