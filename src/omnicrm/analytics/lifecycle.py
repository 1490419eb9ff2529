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
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import ibis

from omnicrm.analytics.rfm import (
    SALES_COLUMNS,
    as_of_timestamp,
    check_history,
    customer_history,
    customer_orders,
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
    return _purchase_day_rows(lines, as_of).distinct()


def _purchase_day_rows(lines: ibis.Table, as_of: datetime) -> ibis.Table:
    """``(customer_id, day)`` of every purchase order, repeated when a day has several.

    Taken from the per-order table (:func:`omnicrm.analytics.rfm.customer_orders`, shared with
    the RFM metrics) for orders whose purchase lines all fall on one day (all of them in
    practice: an order's lines share its time), and from the lines themselves for any order
    spread over several days. Not made distinct: :func:`lifecycle_stages` drops the repeats in
    the window that orders the days anyway, which is cheaper than a distinct of millions of
    pairs.
    """
    orders = customer_orders(lines, as_of)
    bought = orders.filter(orders.bought)
    one_day = bought.filter(bought.first_purchase_day == bought.last_purchase_day)
    spread = bought.filter(bought.first_purchase_day != bought.last_purchase_day)
    hist = customer_history(lines, as_of)
    spread_lines = hist.filter(hist.purchase).semi_join(spread, ["customer_id", "order_id"])
    return ibis.union(
        one_day.select("customer_id", day=one_day.first_purchase_day),
        spread_lines.select("customer_id", day=order_date(spread_lines)),
        distinct=False,
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
        One row per customer: ``customer_id``, ``first_purchase_day``, ``last_purchase_day``,
        ``purchase_days`` (count), ``recency_days``, ``typical_gap_days`` (the customer's
        median gap, null with a single purchase day), ``lifecycle_stage``.
    """
    rules = rules or LifecycleRules.default()
    as_of = as_of_timestamp(as_of)
    if validate:
        check_history(lines, as_of)
    else:
        require_columns(lines, SALES_COLUMNS, "the sales lines table")
    today = ibis.date(as_of.date())

    days = _purchase_day_rows(lines, as_of)
    prev = days.day.lag().over(ibis.window(group_by="customer_id", order_by="day"))
    gaps = days.mutate(gap=days.day.delta(prev, unit="day"))
    # a repeat of the day before it in the order has gap 0: keeping the others leaves each
    # purchase day once, with its gap to the previous purchase day (null for the first)
    gaps = gaps.filter(gaps.gap.isnull() | (gaps.gap > 0))
    comeback = (gaps.gap > rules.lapsed_days) & (
        today.delta(gaps.day, unit="day") <= rules.reactivated_days
    )
    gaps = gaps.mutate(comeback=ibis.ifelse(comeback.fill_null(False), 1, 0))
    per_customer = gaps.group_by("customer_id").aggregate(
        first_purchase_day=gaps.day.min(),
        last_purchase_day=gaps.day.max(),
        purchase_days=gaps.count(),
        comeback=gaps.comeback.max(),
        typical_gap_days=gaps.gap.cast("float64").median(),
    )
    population = per_customer.aggregate(population_gap_days=per_customer.typical_gap_days.median())
    joined = per_customer.cross_join(population)

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
        "first_purchase_day",
        "last_purchase_day",
        purchase_days=joined.purchase_days.cast("int64"),
        recency_days=recency.cast("int64"),
        typical_gap_days=joined.typical_gap_days,
        lifecycle_stage=stage,
    )
