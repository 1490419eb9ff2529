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

from datetime import date, datetime

import ibis

from omnicrm.analytics.rfm import as_of_timestamp, days_before
from omnicrm.models.churn.data import ChurnTables, as_of_day
from omnicrm.schema import CHANNELS

TREND_WINDOWS: tuple[int, ...] = (30, 90, 180)
"""Windows (days) of the spend and order trends."""

EVENT_WINDOWS: tuple[int, ...] = (30, 90)
"""Windows (days) of the behaviour-event counts."""

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days", "tenure_days", "frequency", "monetary", "avg_order_value",
    *[f"{kind}_{w}d" for w in TREND_WINDOWS for kind in ("orders", "spend", "orders_prev",
                                                          "spend_prev", "orders_trend",
                                                          "spend_trend")],
    "gap_mean_days", "gap_median_days", "gap_std_days", "gap_now_ratio",
    *[f"share_{c}" for c in CHANNELS], "channels_used",
    "categories_bought", "categories_90d",
    "return_line_rate", "return_amount_share",
    "discount_share", "promo_spend_share",
    "last_nps", "last_csat", "nps_mean", "is_detractor", "days_since_feedback",
    *[f"{kind}_{w}d" for w in EVENT_WINDOWS for kind in ("visits", "signins", "views")],
    "days_since_event",
)
"""Model inputs built by :func:`churn_features` (all float64; null = missing)."""

DISPLAY_COLUMNS: tuple[str, ...] = ("last_nps_date", "last_csat_date")
"""Columns kept for the reason texts, not used by the model."""


def _ratio(num: ibis.Value, den: ibis.Value) -> ibis.Value:
    """``num / den`` as float64, null when ``den`` is 0 or null."""
    den = den.cast("float64")
    return ibis.ifelse(den > 0, num.cast("float64") / den, ibis.null("float64"))


def _line_features(tables: ChurnTables, as_of: datetime) -> ibis.Table:
    lines = tables.lines
    hist = lines.filter(lines.order_ts < as_of, lines.customer_id.notnull())
    if tables.products is not None:
        cats = tables.products.select(
            cat_product_id=tables.products.product_id, category=tables.products.category)
        hist = hist.left_join(cats, hist.product_id == cats.cat_product_id).drop("cat_product_id")
    else:
        hist = hist.mutate(category=ibis.null("string"))
    hist = hist.mutate(
        purchase=~hist.is_return.fill_null(False) & (hist.quantity > 0),
        ago=days_before(as_of, hist.order_ts),
        amount_f=hist.amount.cast("float64"),
        gross_f=(hist.quantity * hist.unit_price).cast("float64"),
        discount_f=hist.discount_amount.fill_null(0).cast("float64"),
    )
    bought = hist.purchase
    aggs = {
        "first_ts": hist.order_ts.min(where=bought),
        "last_ts": hist.order_ts.max(where=bought),
        "frequency": hist.order_id.nunique(where=bought),
        "monetary": hist.amount_f.sum(),
        "purchase_spend": hist.amount_f.sum(where=bought),
        "purchase_lines": hist.count(where=bought),
        "return_lines": hist.count(where=~bought),
        "return_amount": (-hist.amount_f).sum(where=~bought),
        "gross": hist.gross_f.sum(where=bought),
        "discount": hist.discount_f.sum(where=bought),
        "promo_spend": hist.amount_f.sum(
            where=bought & (hist.promotion_id.notnull() | (hist.discount_f > 0))),
        "channels_used": hist.channel.nunique(where=bought),
        "categories_bought": hist.category.nunique(where=bought),
        "categories_90d": hist.category.nunique(where=bought & (hist.ago <= 90)),
    }
    for c in CHANNELS:
        aggs[f"orders_{c}"] = hist.order_id.nunique(where=bought & (hist.channel == c))
    for w in TREND_WINDOWS:
        recent = bought & (hist.ago <= w)
        previous = bought & (hist.ago > w) & (hist.ago <= 2 * w)
        aggs[f"orders_{w}d"] = hist.order_id.nunique(where=recent)
        aggs[f"spend_{w}d"] = hist.amount_f.sum(where=recent)
        aggs[f"orders_prev_{w}d"] = hist.order_id.nunique(where=previous)
        aggs[f"spend_prev_{w}d"] = hist.amount_f.sum(where=previous)
    per = hist.group_by("customer_id").aggregate(**aggs)
    per = per.filter(per.frequency > 0)
    freq = per.frequency.cast("float64")
    cols: dict[str, ibis.Value] = {
        "customer_id": per.customer_id,
        "recency_days": days_before(as_of, per.last_ts).cast("float64"),
        "tenure_days": days_before(as_of, per.first_ts).cast("float64"),
        "frequency": freq,
        "monetary": per.monetary,
        "avg_order_value": per.monetary / freq,
    }
    for w in TREND_WINDOWS:
        orders, spend = per[f"orders_{w}d"], per[f"spend_{w}d"].fill_null(0.0)
        orders_prev, spend_prev = per[f"orders_prev_{w}d"], per[f"spend_prev_{w}d"].fill_null(0.0)
        cols[f"orders_{w}d"] = orders.cast("float64")
        cols[f"spend_{w}d"] = spend
        cols[f"orders_prev_{w}d"] = orders_prev.cast("float64")
        cols[f"spend_prev_{w}d"] = spend_prev
        cols[f"orders_trend_{w}d"] = _ratio(orders, orders_prev)
        cols[f"spend_trend_{w}d"] = _ratio(spend, spend_prev)
    for c in CHANNELS:
        cols[f"share_{c}"] = per[f"orders_{c}"].cast("float64") / freq
    cols["channels_used"] = per.channels_used.cast("float64")
    has_products = tables.products is not None
    for name in ("categories_bought", "categories_90d"):
        cols[name] = per[name].cast("float64") if has_products else ibis.null("float64")
    cols["return_line_rate"] = _ratio(per.return_lines, per.purchase_lines)
    cols["return_amount_share"] = _ratio(per.return_amount.fill_null(0.0), per.purchase_spend)
    cols["discount_share"] = _ratio(per.discount, per.gross)
    cols["promo_spend_share"] = _ratio(per.promo_spend.fill_null(0.0), per.purchase_spend)
    return per.select(**cols)


def _gap_features(tables: ChurnTables, as_of: datetime) -> ibis.Table:
    lines = tables.lines
    bought = lines.filter(lines.order_ts < as_of, lines.customer_id.notnull(),
                          ~lines.is_return.fill_null(False), lines.quantity > 0)
    days = bought.select(bought.customer_id, day=bought.order_ts.date()).distinct()
    previous = days.day.lag().over(group_by=days.customer_id, order_by=days.day)
    days = days.mutate(gap=days.day.delta(previous, unit="day").cast("float64"))
    return days.group_by("customer_id").aggregate(
        gap_mean_days=days.gap.mean(),
        gap_median_days=days.gap.median(),
        gap_std_days=days.gap.std(how="sample"),
    ).rename(gap_customer_id="customer_id")


def _latest(table: ibis.Table, value: str, ts: str) -> ibis.Table:
    """Each customer's most recent non-null ``value`` and its time (portable row_number)."""
    rows = table.filter(table[value].notnull())
    order = ibis.row_number().over(group_by=rows.customer_id, order_by=ibis.desc(rows[ts]))
    rows = rows.mutate(_rank=order)
    return rows.filter(rows._rank == 0).select("customer_id", value, ts)


def _feedback_features(feedback: ibis.Table, as_of: datetime) -> ibis.Table:
    fb = feedback.filter(feedback.response_ts < as_of, feedback.customer_id.notnull())
    stats = fb.group_by("customer_id").aggregate(
        nps_mean=fb.nps.cast("float64").mean(),
        last_response=fb.response_ts.max(),
    )
    nps = _latest(fb, "nps", "response_ts").rename(nps_customer_id="customer_id",
                                                      nps_ts="response_ts")
    csat = _latest(fb, "csat", "response_ts").rename(csat_customer_id="customer_id",
                                                        csat_ts="response_ts")
    joined = stats.left_join(nps, stats.customer_id == nps.nps_customer_id)
    joined = joined.left_join(csat, joined.customer_id == csat.csat_customer_id)
    return joined.select(
        fb_customer_id=joined.customer_id,
        last_nps=joined.nps.cast("float64"),
        last_csat=joined.csat.cast("float64"),
        nps_mean=joined.nps_mean,
        is_detractor=ibis.ifelse(joined.nps.isnull(), ibis.null("float64"),
                                 ibis.ifelse(joined.nps <= 6, 1.0, 0.0)),
        days_since_feedback=days_before(as_of, joined.last_response).cast("float64"),
        last_nps_date=joined.nps_ts.date(),
        last_csat_date=joined.csat_ts.date(),
    )


def _event_features(events: ibis.Table, as_of: datetime) -> ibis.Table:
    ev = events.filter(events.event_ts < as_of, events.customer_id.notnull())
    ev = ev.mutate(ago=days_before(as_of, ev.event_ts))
    aggs: dict[str, ibis.Value] = {}
    for w in EVENT_WINDOWS:
        inside = ev.ago <= w
        aggs[f"visits_{w}d"] = ev.event_ts.date().nunique(
            where=inside & (ev.event_type == "store_visit")).cast("float64")
        aggs[f"signins_{w}d"] = ev.count(where=inside & (ev.event_type == "sign_in")).cast(
            "float64")
        aggs[f"views_{w}d"] = ev.count(where=inside & (ev.event_type == "view")).cast("float64")
    aggs["days_since_event"] = ev.ago.min().cast("float64")
    return ev.group_by(ev_customer_id=ev.customer_id).aggregate(**aggs)


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
        absent tables are null.
    """
    tables.validate()
    cutoff = as_of_timestamp(as_of_day(as_of))
    base = _line_features(tables, cutoff)
    gaps = _gap_features(tables, cutoff)
    out = base.left_join(gaps, base.customer_id == gaps.gap_customer_id)
    out = out.mutate(gap_now_ratio=_ratio(out.recency_days, out.gap_median_days))
    if tables.feedback is not None:
        fb = _feedback_features(tables.feedback, cutoff)
        out = out.left_join(fb, out.customer_id == fb.fb_customer_id)
    else:
        out = out.mutate(
            **{c: ibis.null("float64") for c in ("last_nps", "last_csat", "nps_mean",
                                                  "is_detractor", "days_since_feedback")},
            **{c: ibis.null("date") for c in DISPLAY_COLUMNS},
        )
    event_cols = [c for c in FEATURE_COLUMNS if c.startswith(("visits_", "signins_", "views_"))]
    if tables.events is not None:
        ev = _event_features(tables.events, cutoff)
        out = out.left_join(ev, out.customer_id == ev.ev_customer_id)
        out = out.mutate(**{c: out[c].fill_null(0.0) for c in event_cols})
    else:
        out = out.mutate(**{c: ibis.null("float64") for c in (*event_cols, "days_since_event")})
    return out.select("customer_id", *FEATURE_COLUMNS, *DISPLAY_COLUMNS)
