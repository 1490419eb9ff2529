"""Churn features per customer, from data strictly before ``as_of``, as one Ibis expression.

Every feature is computed from rows dated before midnight (UTC) of the ``as_of`` day, so a
change to anything on or after that day cannot move it (the leakage test alters the future
and checks the features are identical). Days are whole calendar days
(``ibis.date(as_of).delta(col.date(), unit="day")``, the same on DuckDB, PostgreSQL and Spark);
a purchase on the day before ``as_of`` is 1 day ago. "Last W days" means 1 to W days ago and
"the previous W days" W+1 to 2W days ago.

Feature groups (grain: one row per customer with a purchase before ``as_of``):

- **RFM**: ``recency_days``, ``tenure_days`` (since the first purchase), ``frequency``
  (purchase orders), ``monetary`` (net spend, returns deducted), ``avg_order_value``.
- **Trends**, for W in 30, 90, 180: ``orders_{W}d``, ``spend_{W}d`` (purchase lines), the same
  over the previous W days (``orders_prev_{W}d``, ``spend_prev_{W}d``) and the ratios
  ``orders_trend_{W}d``, ``spend_trend_{W}d`` (recent / previous; null when the previous
  window is empty).
- **Inter-purchase gaps** between distinct purchase days: ``gap_mean_days``,
  ``gap_median_days``, ``gap_std_days``, and ``gap_now_ratio`` = recency / median gap (how
  overdue the next purchase is; null with fewer than two purchase days).
- **Channel mix**: ``share_<channel>`` (share of purchase orders per contract channel) and
  ``channels_used``.
- **Assortment**: ``categories_bought``, ``categories_90d`` (needs ``products``).
- **Returns**: ``return_line_rate`` (returned lines per purchase line) and
  ``return_amount_share`` (returned amount / purchase spend).
- **Discount reliance**: ``discount_share`` (discounts / gross value of purchase lines) and
  ``promo_spend_share`` (share of purchase spend on lines with a promotion or discount).
- **Feedback** (needs ``feedback``): ``last_nps``, ``last_csat``, ``nps_mean``,
  ``is_detractor`` (last NPS 0-6), ``days_since_feedback``; ``last_nps_date`` and
  ``last_csat_date`` are kept for the reason texts (not model inputs).
- **Events** (needs ``events``), for W in 30, 90: ``visits_{W}d`` (days with a store visit),
  ``signins_{W}d``, ``views_{W}d``, and ``days_since_event``.

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> t = lambda d: datetime(2024, 1, d, tzinfo=timezone.utc)
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2", "o3"], "order_ts": [t(1), t(11), t(25)],
...     "customer_id": ["a", "a", "a"], "quantity": [1.0, 1.0, 1.0],
...     "amount": [10.0, 20.0, 99.0], "is_return": [False] * 3, "channel": ["store"] * 3,
...     "product_id": ["p"] * 3, "unit_price": [10.0, 20.0, 99.0],
...     "discount_amount": [0.0] * 3, "promotion_id": [None] * 3})
>>> f = churn_features(ChurnTables(lines=lines), as_of="2024-01-21").execute()
>>> f[["frequency", "recency_days", "gap_median_days", "spend_30d"]].values.tolist()
[[2.0, 10.0, 10.0, 30.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import ibis
import pandas as pd

from omnicrm.analytics.rfm import as_of_timestamp
from omnicrm.errors import InputError
from omnicrm.models.churn.data import ChurnTables, as_of_day
from omnicrm.schema import CHANNELS
from omnicrm.schema.types import MONEY_SCALE, QUANTITY_SCALE

TREND_WINDOWS: tuple[int, ...] = (30, 90, 180)
"""Windows (days) of the spend and order trends."""

EVENT_WINDOWS: tuple[int, ...] = (30, 90)
"""Windows (days) of the behaviour-event counts."""

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "frequency",
    "monetary",
    "avg_order_value",
    *[
        f"{kind}_{w}d"
        for w in TREND_WINDOWS
        for kind in ("orders", "spend", "orders_prev", "spend_prev", "orders_trend", "spend_trend")
    ],
    "gap_mean_days",
    "gap_median_days",
    "gap_std_days",
    "gap_now_ratio",
    *[f"share_{c}" for c in CHANNELS],
    "channels_used",
    "categories_bought",
    "categories_90d",
    "return_line_rate",
    "return_amount_share",
    "discount_share",
    "promo_spend_share",
    "last_nps",
    "last_csat",
    "nps_mean",
    "is_detractor",
    "days_since_feedback",
    *[f"{kind}_{w}d" for w in EVENT_WINDOWS for kind in ("visits", "signins", "views")],
    "days_since_event",
)
"""Model inputs built by :func:`churn_features` (all float64; null = missing)."""

DISPLAY_COLUMNS: tuple[str, ...] = ("last_nps_date", "last_csat_date")
"""Columns kept for the reason texts, not used by the model."""


CENT = 10**MONEY_SCALE
"""Cents per 1 of money (the contract's DECIMAL(18,2)): amounts are summed in whole cents."""

GROSS_UNIT = 10 ** (MONEY_SCALE + QUANTITY_SCALE)
"""Units per 1 of ``quantity x unit_price`` (five decimals), the unit its sums are kept in."""


def _whole(value: ibis.Value, unit: int) -> ibis.Value:
    """``value`` as a whole number of ``1 / unit`` (cents for money), in float64.

    Whole numbers below 2**53 (90 trillion in cents) are exact in float64 and so are their
    sums, in any order. A sum of fractional float64 amounts depends on the order in which the
    warehouse adds the rows, which a parallel aggregate (DuckDB with more than one thread)
    changes from run to run, and the last bits of the features, the model's split thresholds
    and its probabilities changed with it. Float64 sums of whole numbers cost less than
    DECIMAL sums (about 10 % more CPU time in the training query); the rounding of every line
    costs about 0.6 s of the 8 s scoring query at 10M lines. A contract amount
    (DECIMAL(18,2)) becomes its exact number of cents.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"amount": [0.1, 0.2, 19.99]})
    >>> t.aggregate(cents=_whole(t.amount, CENT).sum()).execute().cents.tolist()
    [2029.0]
    """
    return (value.cast("float64") * unit).round(0).cast("float64")


def _ratio(num: ibis.Value, den: ibis.Value) -> ibis.Value:
    """``num / den`` as float64, null when ``den`` is 0 or null."""
    den = den.cast("float64")
    return ibis.ifelse(den > 0, num.cast("float64") / den, ibis.null("float64"))


def origins_table(
    origins: Sequence[date | datetime | str], *, horizon_days: int | None = None
) -> ibis.Table:
    """The origins as a small table: one row per ``as_of`` day, joined to the data.

    Columns ``o_day`` (the day), ``o_start`` (its midnight UTC), ``o_end`` (``o_start`` +
    ``horizon_days``; ``o_start`` without a horizon) and, for W in the trend windows and 90,
    ``o_back_{W}`` / ``o_back2_{W}`` = ``o_start`` - W / 2W days: "1 to W days ago" is
    ``o_back_{W} <= ts < o_start`` (whole UTC days, as :func:`days_before`).
    """
    days = sorted({as_of_day(o) for o in origins})
    starts = pd.Series(
        [pd.Timestamp(as_of_timestamp(d)) for d in days], dtype="datetime64[us, UTC]"
    )
    data: dict[str, object] = {
        "o_day": days,
        "o_start": starts,
        "o_end": starts + pd.Timedelta(days=horizon_days or 0),
    }
    schema: dict[str, str] = {
        "o_day": "date",
        "o_start": "timestamp('UTC')",
        "o_end": "timestamp('UTC')",
    }
    for w in sorted({*TREND_WINDOWS, *EVENT_WINDOWS, 90}):
        data[f"o_back_{w}"] = starts - pd.Timedelta(days=w)
        data[f"o_back2_{w}"] = starts - pd.Timedelta(days=2 * w)
        schema[f"o_back_{w}"] = schema[f"o_back2_{w}"] = "timestamp('UTC')"
    return ibis.memtable(pd.DataFrame(data), schema=schema)


def _orders(lines: ibis.Table, end: ibis.Value) -> ibis.Table:
    """Identified lines before ``end`` summed per ``(customer_id, order_id)``.

    The contract repeats the order's time and channel on each of its lines, so every window
    and channel condition holds for a whole order: per-order sums make the distinct counts
    of orders plain counts, over about a third as many rows as lines. Money is summed in whole
    cents (``gross`` in :data:`GROSS_UNIT`), float64 whole numbers whose sums here and in the
    callers are exact and independent of the order of the rows (:func:`_whole`).
    """
    known = lines.filter(lines.customer_id.notnull(), lines.order_ts < end)
    bought = ~known.is_return.fill_null(False) & (known.quantity > 0)
    amount = _whole(known.amount, CENT)
    discount = _whole(known.discount_amount.fill_null(0), CENT)
    gross = _whole(known.quantity, 10**QUANTITY_SCALE) * _whole(known.unit_price, CENT)
    promo = bought & (known.promotion_id.notnull() | (discount > 0))
    return known.group_by(["customer_id", "order_id"]).aggregate(
        order_ts=known.order_ts.min(),
        channel=known.channel.min(),
        bought=bought.any(),
        amount=amount.sum(),
        purchase_spend=amount.sum(where=bought),
        purchase_lines=known.count(where=bought),
        return_lines=known.count(where=~bought),
        return_amount=(-amount).sum(where=~bought),
        gross=gross.sum(where=bought),
        discount=discount.sum(where=bought),
        promo_spend=amount.sum(where=promo),
    )


def _line_features(orders: ibis.Table, origins: ibis.Table) -> ibis.Table:
    """Order-based features and the label count per ``(o_day, customer_id)``."""
    j = orders.join(origins, orders.order_ts < origins.o_end)
    before = j.order_ts < j.o_start
    bought = j.bought & before
    aggs: dict[str, ibis.Value] = {
        "first_ts": j.order_ts.min(where=bought),
        "last_ts": j.order_ts.max(where=bought),
        "frequency": j.count(where=bought),
        "monetary": j.amount.sum(where=before),
        "purchase_spend": j.purchase_spend.sum(where=before),
        "purchase_lines": j.purchase_lines.sum(where=before),
        "return_lines": j.return_lines.sum(where=before),
        "return_amount": j.return_amount.sum(where=before),
        "gross": j.gross.sum(where=before),
        "discount": j.discount.sum(where=before),
        "promo_spend": j.promo_spend.sum(where=before),
        "channels_used": j.channel.nunique(where=bought),
        "purchases_in_window": j.count(where=j.bought & ~before),
    }
    for c in CHANNELS:
        aggs[f"orders_{c}"] = j.count(where=bought & (j.channel == c))
    for w in TREND_WINDOWS:
        recent = bought & (j.order_ts >= j[f"o_back_{w}"])
        previous = bought & (j.order_ts < j[f"o_back_{w}"]) & (j.order_ts >= j[f"o_back2_{w}"])
        aggs[f"orders_{w}d"] = j.count(where=recent)
        aggs[f"spend_{w}d"] = j.purchase_spend.sum(where=recent)
        aggs[f"orders_prev_{w}d"] = j.count(where=previous)
        aggs[f"spend_prev_{w}d"] = j.purchase_spend.sum(where=previous)
    per = j.group_by(["o_day", "customer_id"]).aggregate(**aggs)
    per = per.filter(per.frequency > 0)
    freq = per.frequency.cast("float64")
    cols: dict[str, ibis.Value] = {
        "o_day": per.o_day,
        "customer_id": per.customer_id,
        "recency_days": per.o_day.delta(per.last_ts.date(), unit="day").cast("float64"),
        "tenure_days": per.o_day.delta(per.first_ts.date(), unit="day").cast("float64"),
        "frequency": freq,
        "monetary": per.monetary / CENT,
        "avg_order_value": per.monetary / CENT / freq,
    }
    for w in TREND_WINDOWS:
        orders_w, spend = per[f"orders_{w}d"], (per[f"spend_{w}d"] / CENT).fill_null(0.0)
        orders_prev = per[f"orders_prev_{w}d"]
        spend_prev = (per[f"spend_prev_{w}d"] / CENT).fill_null(0.0)
        cols[f"orders_{w}d"] = orders_w.cast("float64")
        cols[f"spend_{w}d"] = spend
        cols[f"orders_prev_{w}d"] = orders_prev.cast("float64")
        cols[f"spend_prev_{w}d"] = spend_prev
        cols[f"orders_trend_{w}d"] = _ratio(orders_w, orders_prev)
        cols[f"spend_trend_{w}d"] = _ratio(spend, spend_prev)
    for c in CHANNELS:
        cols[f"share_{c}"] = per[f"orders_{c}"].cast("float64") / freq
    cols["channels_used"] = per.channels_used.cast("float64")
    cols["return_line_rate"] = _ratio(per.return_lines, per.purchase_lines)
    cols["return_amount_share"] = _ratio(per.return_amount.fill_null(0.0), per.purchase_spend)
    cols["discount_share"] = _ratio(per.discount / CENT, per.gross / GROSS_UNIT)
    cols["promo_spend_share"] = _ratio(per.promo_spend.fill_null(0.0), per.purchase_spend)
    cols["purchases_in_window"] = per.purchases_in_window.cast("int64")
    return per.select(**cols)


def _day_features(orders: ibis.Table, origins: ibis.Table) -> ibis.Table:
    """Inter-purchase gaps and the CLV summary per ``(o_day, customer_id)``.

    Each distinct purchase day carries the gap to the customer's previous purchase day; the
    gaps before an origin are those of the days before it (the first day has none), so one
    window over the whole history serves every origin. The standard deviation comes from
    exact sums of the gaps and their squares (whole numbers in float64; a float aggregate
    such as ``stddev`` depends on the order of the rows, which a parallel plan changes from
    run to run).
    """
    purchases = orders.filter(orders.bought)
    purchases = purchases.mutate(day=purchases.order_ts.date())
    days = purchases.group_by(["customer_id", "day"]).aggregate(
        spend=purchases.purchase_spend.sum()
    )
    previous = days.day.lag().over(group_by=days.customer_id, order_by=days.day)
    days = days.mutate(gap=days.day.delta(previous, unit="day").cast("float64"))
    j = days.join(origins, days.day < origins.o_day)
    per = j.group_by([j.o_day.name("d_o_day"), j.customer_id.name("d_customer_id")]).aggregate(
        gap_mean_days=j.gap.mean(),
        gap_median_days=j.gap.median(),
        gap_n=j.gap.count(),
        gap_sum=j.gap.sum(),
        gap_sum_sq=(j.gap * j.gap).sum(),
        clv_first=j.day.min(),
        clv_last=j.day.max(),
        clv_days=j.count(),
        clv_repeat_spend=j.spend.sum(where=j.gap.notnull()),
    )
    return per.mutate(gap_std_days=_sample_std(per.gap_n, per.gap_sum, per.gap_sum_sq)).drop(
        "gap_n", "gap_sum", "gap_sum_sq"
    )


def _sample_std(n: ibis.Value, total: ibis.Value, squares: ibis.Value) -> ibis.Value:
    """Sample standard deviation from exact sums of whole numbers (null below two values).

    ``n * squares - total**2`` is exact in float64 while it stays below 2**53 (gaps in days
    are far from it) and is divided once, so the result does not depend on the row order.
    """
    n = n.cast("int64")
    spread = n.cast("float64") * squares - total * total
    variance = spread / (n * (n - 1)).cast("float64")
    return ibis.ifelse(n > 1, variance.sqrt(), ibis.null("float64"))


def _category_features(
    lines: ibis.Table, products: ibis.Table, origins: ibis.Table, end: ibis.Value
) -> ibis.Table:
    """``categories_bought`` and ``categories_90d`` per ``(o_day, customer_id)``.

    A category counts as bought before an origin when the customer's first purchase of it is
    before the origin (one ``(customer, category)`` aggregate serves every origin), and in
    the last 90 days when a purchase of it falls in ``[o_back_90, o_start)`` (only the lines
    of those windows are joined to the origins). No sort or window over the lines.
    """
    bought = lines.filter(
        lines.customer_id.notnull(),
        lines.order_ts < end,
        ~lines.is_return.fill_null(False),
        lines.quantity > 0,
    )
    cats = products.select(cat_product_id=products.product_id, category=products.category)
    pc = bought.join(cats, bought.product_id == cats.cat_product_id)
    pc = pc.filter(pc.category.notnull()).select("customer_id", "category", "order_ts")
    firsts = pc.group_by(["customer_id", "category"]).aggregate(first_ts=pc.order_ts.min())
    ever = firsts.join(origins, firsts.first_ts < origins.o_start)
    ever = ever.group_by(
        [ever.o_day.name("c_o_day"), ever.customer_id.name("c_customer_id")]
    ).aggregate(categories_bought=ever.count().cast("float64"))
    recent = pc.join(origins, [pc.order_ts >= origins.o_back_90, pc.order_ts < origins.o_start])
    recent = recent.group_by(
        [recent.o_day.name("r_o_day"), recent.customer_id.name("r_customer_id"), recent.category]
    ).aggregate()
    recent = recent.group_by(["r_o_day", "r_customer_id"]).aggregate(
        categories_90d=recent.count().cast("float64")
    )
    joined = ever.left_join(
        recent, [ever.c_o_day == recent.r_o_day, ever.c_customer_id == recent.r_customer_id]
    )
    return joined.select(
        "c_o_day",
        "c_customer_id",
        "categories_bought",
        categories_90d=joined.categories_90d.fill_null(0.0),
    )


def _latest(table: ibis.Table, value: str, ts: str) -> ibis.Table:
    """Each (origin, customer)'s most recent non-null ``value`` and its time."""
    rows = table.filter(table[value].notnull())
    order = ibis.row_number().over(
        group_by=[rows.o_day, rows.customer_id], order_by=ibis.desc(rows[ts])
    )
    rows = rows.mutate(_rank=order)
    return rows.filter(rows._rank == 0).select("o_day", "customer_id", value, ts)


def _feedback_features(feedback: ibis.Table, origins: ibis.Table) -> ibis.Table:
    fb = feedback.filter(feedback.customer_id.notnull())
    fb = fb.join(origins, fb.response_ts < origins.o_start).select(
        "o_day", "customer_id", "response_ts", "nps", "csat"
    )
    stats = fb.group_by(["o_day", "customer_id"]).aggregate(
        nps_mean=fb.nps.cast("float64").mean(),
        last_response=fb.response_ts.max(),
    )
    nps = _latest(fb, "nps", "response_ts").rename(
        nps_o_day="o_day", nps_customer_id="customer_id", nps_ts="response_ts"
    )
    csat = _latest(fb, "csat", "response_ts").rename(
        csat_o_day="o_day", csat_customer_id="customer_id", csat_ts="response_ts"
    )
    joined = stats.left_join(
        nps, [stats.o_day == nps.nps_o_day, stats.customer_id == nps.nps_customer_id]
    )
    joined = joined.left_join(
        csat, [joined.o_day == csat.csat_o_day, joined.customer_id == csat.csat_customer_id]
    )
    return joined.select(
        fb_o_day=joined.o_day,
        fb_customer_id=joined.customer_id,
        last_nps=joined.nps.cast("float64"),
        last_csat=joined.csat.cast("float64"),
        nps_mean=joined.nps_mean,
        is_detractor=ibis.ifelse(
            joined.nps.isnull(), ibis.null("float64"), ibis.ifelse(joined.nps <= 6, 1.0, 0.0)
        ),
        days_since_feedback=joined.o_day.delta(joined.last_response.date(), unit="day").cast(
            "float64"
        ),
        last_nps_date=joined.nps_ts.date(),
        last_csat_date=joined.csat_ts.date(),
    )


def _event_features(events: ibis.Table, origins: ibis.Table) -> ibis.Table:
    ev = events.filter(events.customer_id.notnull())
    ev = ev.join(origins, ev.event_ts < origins.o_start)
    aggs: dict[str, ibis.Value] = {}
    for w in EVENT_WINDOWS:
        inside = ev.event_ts >= ev[f"o_back_{w}"]
        aggs[f"visits_{w}d"] = (
            ev.event_ts.date()
            .nunique(where=inside & (ev.event_type == "store_visit"))
            .cast("float64")
        )
        aggs[f"signins_{w}d"] = ev.count(where=inside & (ev.event_type == "sign_in")).cast(
            "float64"
        )
        aggs[f"views_{w}d"] = ev.count(where=inside & (ev.event_type == "view")).cast("float64")
    aggs["last_event"] = ev.event_ts.max()
    per = ev.group_by(ev_o_day=ev.o_day, ev_customer_id=ev.customer_id).aggregate(**aggs)
    return per.mutate(
        days_since_event=per.ev_o_day.delta(per.last_event.date(), unit="day").cast("float64")
    ).drop("last_event")


def origin_features(
    tables: ChurnTables,
    origins: Sequence[date | datetime | str],
    *,
    horizon_days: int | None = None,
    customers: ibis.Table | None = None,
) -> ibis.Table:
    """Churn features of every customer at each of several origins, in one query.

    Parameters
    ----------
    tables : ChurnTables
        ``order_lines`` and the optional ``products``, ``events``, ``feedback``.
    origins : sequence of date, datetime or str
        ``as_of`` days; at each, only rows dated before its midnight (UTC) are used.
    horizon_days : int, optional
        Also count each customer's purchase orders in the ``horizon_days`` from the origin
        (``purchases_in_window``, the label of :func:`omnicrm.models.churn.labels.churn_labels`);
        without it the column is 0 and nothing on or after the latest origin is read.
    customers : ibis.Table, optional
        Restrict to these customers (a table with a ``customer_id`` column), e.g. a sample.

    Returns
    -------
    ibis.Table
        Lazy table: ``as_of`` (date), ``customer_id``, :data:`FEATURE_COLUMNS`,
        :data:`DISPLAY_COLUMNS`, ``purchases_in_window`` and the BG/NBD summary of the
        purchases before the origin (``frequency_days`` = repeat purchase days,
        ``recency_weeks``, ``T_weeks``, ``monetary_value``), ordered by ``as_of`` and
        ``customer_id``. One row per origin and customer with a purchase before it.
    """
    tables.validate()
    if not origins:
        raise InputError("origin_features needs at least one origin")
    table = origins_table(origins, horizon_days=horizon_days)
    end = ibis.literal(
        max(as_of_timestamp(as_of_day(o)) for o in origins) + timedelta(days=horizon_days or 0),
        type="timestamp('UTC')",
    )
    lines = tables.lines
    if customers is not None:
        keep = customers.select(sample_customer_id=customers.customer_id)
        lines = lines.semi_join(keep, lines.customer_id == keep.sample_customer_id)
    orders = _orders(lines, end)
    base = _line_features(orders, table)
    days = _day_features(orders, table)
    out = base.left_join(days, [base.o_day == days.d_o_day, base.customer_id == days.d_customer_id])
    out = out.mutate(gap_now_ratio=_ratio(out.recency_days, out.gap_median_days))
    if tables.products is not None:
        cats = _category_features(lines, tables.products, table, end)
        out = out.left_join(
            cats, [out.o_day == cats.c_o_day, out.customer_id == cats.c_customer_id]
        )
        out = out.mutate(
            categories_bought=out.categories_bought.fill_null(0.0),
            categories_90d=out.categories_90d.fill_null(0.0),
        )
    else:
        out = out.mutate(
            categories_bought=ibis.null("float64"), categories_90d=ibis.null("float64")
        )
    if tables.feedback is not None:
        fb = _feedback_features(tables.feedback, table)
        out = out.left_join(fb, [out.o_day == fb.fb_o_day, out.customer_id == fb.fb_customer_id])
    else:
        out = out.mutate(
            **{
                c: ibis.null("float64")
                for c in (
                    "last_nps",
                    "last_csat",
                    "nps_mean",
                    "is_detractor",
                    "days_since_feedback",
                )
            },
            **{c: ibis.null("date") for c in DISPLAY_COLUMNS},
        )
    event_cols = [c for c in FEATURE_COLUMNS if c.startswith(("visits_", "signins_", "views_"))]
    if tables.events is not None:
        ev = _event_features(tables.events, table)
        out = out.left_join(ev, [out.o_day == ev.ev_o_day, out.customer_id == ev.ev_customer_id])
        out = out.mutate(**{c: out[c].fill_null(0.0) for c in event_cols})
    else:
        out = out.mutate(**{c: ibis.null("float64") for c in (*event_cols, "days_since_event")})
    repeat = (out.clv_days - 1).cast("int64")
    last_observed = out.o_day.delta(out.clv_first, unit="day") - 1
    summary = {
        "frequency_days": repeat,
        "recency_weeks": out.clv_last.delta(out.clv_first, unit="day").cast("float64") / 7,
        "T_weeks": last_observed.cast("float64") / 7,
        "monetary_value": ibis.cases(
            (repeat > 0, (out.clv_repeat_spend / CENT).fill_null(0.0) / repeat.cast("float64")),
            else_=0.0,
        ),
    }
    if horizon_days is None:
        out = out.mutate(purchases_in_window=ibis.literal(0, type="int64"))
    return out.select(
        as_of=out.o_day,
        customer_id=out.customer_id,
        **{c: out[c] for c in (*FEATURE_COLUMNS, *DISPLAY_COLUMNS)},
        purchases_in_window=out.purchases_in_window,
        **summary,
    ).order_by(["as_of", "customer_id"])


def churn_features(tables: ChurnTables, *, as_of: date | datetime | str) -> ibis.Table:
    """Build the churn features of every customer with a purchase before ``as_of``.

    Parameters
    ----------
    tables : ChurnTables
        ``order_lines`` and the optional ``products``, ``events``, ``feedback``.
    as_of : date, datetime or str
        Only rows dated before midnight (UTC) of this day are used.

    Returns
    -------
    ibis.Table
        Lazy table: ``customer_id``, :data:`FEATURE_COLUMNS`, :data:`DISPLAY_COLUMNS`.
        Events counts are 0 for customers without events when ``events`` exists; columns of
        absent tables are null. (:func:`origin_features` with one origin.)
    """
    out = origin_features(tables, [as_of])
    return out.select("customer_id", *FEATURE_COLUMNS, *DISPLAY_COLUMNS)
