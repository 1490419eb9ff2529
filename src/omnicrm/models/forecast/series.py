"""Demand series from the warehouse: units sold per day or week per product x store, category,
region or in total.

The aggregation runs in the warehouse (one Ibis ``group_by`` and one execute); only the
aggregated series come back to pandas, where the days without sales — which have no row in
``order_lines`` — are filled with 0. Demand is net units (``quantity`` summed, returns
negative); :func:`~omnicrm.models.forecast.data.prepare_series` later clips negative totals to
0 and reports them.

Series ids: ``"<product_id>@<store_id>"`` for ``product-store``, ``"category=<name>"``,
``"region=<name>"`` and ``"total"``. A line without a store, or a product or store missing from
its table, is attributed to ``"unknown"``.

Examples
--------
>>> import datetime as dt, ibis
>>> from decimal import Decimal
>>> lines = ibis.memtable({
...     "order_ts": [dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
...                  dt.datetime(2024, 1, 3, 9, tzinfo=dt.UTC)],
...     "product_id": ["p1", "p1"], "store_id": ["s1", "s1"],
...     "quantity": [Decimal("2.000"), Decimal("1.000")]})
>>> demand_series(lines, as_of="2024-01-04")[["unique_id", "y"]].values.tolist()
[['p1@s1', 2.0], ['p1@s1', 0.0], ['p1@s1', 1.0]]
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.forecast.data import check_freq

LEVELS: tuple[str, ...] = ("product-store", "category", "region", "total")
UNKNOWN = "unknown"


def parse_as_of(as_of: dt.date | dt.datetime | str | None) -> dt.datetime | None:
    if as_of is None:
        return None
    if isinstance(as_of, str):
        try:
            as_of = dt.datetime.fromisoformat(as_of)
        except ValueError:
            raise InputError(f"as_of={as_of!r} is not a date; use YYYY-MM-DD") from None
    if not isinstance(as_of, dt.datetime):
        as_of = dt.datetime(as_of.year, as_of.month, as_of.day)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    return as_of.astimezone(dt.UTC)


def hierarchy_expr(
    lines: ibis.Table, products: ibis.Table | None = None, stores: ibis.Table | None = None
) -> ibis.Table:
    """Sales lines with ``product_id, store_id, category, region`` filled (``unknown`` if none)."""
    need = {"order_ts", "product_id", "quantity"}
    missing = sorted(need - set(lines.columns))
    if missing:
        raise InputError(f"order lines lack columns {missing}; see docs/data-model.md")
    t = lines
    if "store_id" not in t.columns:
        t = t.mutate(store_id=ibis.literal(None, type="string"))
    t = t.mutate(store_id=t.store_id.fill_null(UNKNOWN))
    if products is not None:
        p = products.select("product_id", category=products.category)
        t = t.left_join(p, "product_id").drop("product_id_right")
    else:
        t = t.mutate(category=ibis.literal(None, type="string"))
    if stores is not None:
        s = stores.select(store_id_s=stores.store_id, region=stores.region)
        t = t.left_join(s, t.store_id == s.store_id_s).drop("store_id_s")
    else:
        t = t.mutate(region=ibis.literal(None, type="string"))
    return t.mutate(category=t.category.fill_null(UNKNOWN), region=t.region.fill_null(UNKNOWN))


def demand_series(
    lines: ibis.Table,
    *,
    products: ibis.Table | None = None,
    stores: ibis.Table | None = None,
    level: str = "product-store",
    freq: str = "D",
    as_of: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Units per period per series, zero-filled, ready for :class:`DemandForecaster`.

    Parameters
    ----------
    lines : ibis.Table
        ``order_lines`` (``order_ts, product_id, store_id, quantity``).
    products, stores : ibis.Table, optional
        Needed for the ``category`` and ``region`` levels and for the hierarchy columns.
    level : {"product-store", "category", "region", "total"}
        Aggregation level.
    freq : {"D", "W"}
        Days (UTC) or weeks starting on Monday.
    as_of : date or str, optional
        Use only lines with ``order_ts < as_of``; series run to the last full period before it
        (default: the last sale).

    Returns
    -------
    DataFrame
        ``unique_id, ds, y`` and, for ``product-store``, ``product_id, store_id, category,
        region`` (the hierarchy tags); one row per series and period from its first sale.
    """
    if level not in LEVELS:
        raise InputError(f"level={level!r} is not known: choose one of {', '.join(LEVELS)}")
    check_freq(freq)
    if level == "category" and products is None:
        raise InputError("level='category' needs the products table (its category column)")
    if level == "region" and stores is None:
        raise InputError("level='region' needs the stores table (its region column)")
    cutoff = parse_as_of(as_of)
    t = hierarchy_expr(lines, products, stores)
    if cutoff is not None:
        t = t.filter(t.order_ts < cutoff)
    day = t.order_ts.date()
    if freq == "W":
        day = day.truncate("W")
    keys = {
        "product-store": ["product_id", "store_id", "category", "region"],
        "category": ["category"],
        "region": ["region"],
        "total": [],
    }[level]
    agg = t.mutate(ds=day).group_by([*keys, "ds"]).aggregate(y=t.quantity.sum().cast("float64"))
    raw = agg.execute()
    if raw.empty:
        raise InputError("no sales lines before as_of: nothing to forecast")
    raw["ds"] = pd.to_datetime(raw["ds"])
    if level == "product-store":
        raw["unique_id"] = raw["product_id"].astype(str) + "@" + raw["store_id"].astype(str)
    elif level == "total":
        raw["unique_id"] = "total"
    else:
        raw["unique_id"] = level + "=" + raw[keys[0]].astype(str)

    step = 7 if freq == "W" else 1
    if cutoff is not None:
        last = pd.Timestamp(cutoff.date()) - pd.Timedelta(days=1)
        if freq == "W":  # last complete week before as_of
            last = last - pd.Timedelta(days=(last.dayofweek + 1) % 7) - pd.Timedelta(days=6)
    else:
        last = raw["ds"].max()
    raw = raw[raw["ds"] <= last]
    if raw.empty:
        raise InputError("no complete period of sales before as_of: move as_of later")
    first = raw.groupby("unique_id", sort=True)["ds"].min()
    n = ((last - first).dt.days // step + 1).to_numpy()
    ids = np.repeat(first.index.to_numpy(), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    grid = pd.DataFrame(
        {
            "unique_id": ids,
            "ds": np.repeat(first.to_numpy(), n) + pd.to_timedelta(offs * step, unit="D"),
        }
    )
    out = grid.merge(raw[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="left")
    out["y"] = out["y"].fillna(0.0)
    if level == "product-store":
        tags = raw.drop_duplicates("unique_id")[["unique_id", *keys]]
        out = out.merge(tags, on="unique_id", how="left")
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
