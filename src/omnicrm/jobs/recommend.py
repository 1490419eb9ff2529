"""``recommendations`` and ``basket_rules``: the recommender outputs, written to the warehouse.

==================  ===========================================================================
table               grain and columns
==================  ===========================================================================
recommendations     one row per customer x rank (1..k): ``customer_id`` (unified id when
                    ``customer_keys`` exists), ``rank``, ``item_id``, ``item_name``,
                    ``category``, ``score`` (hybrid score; null for popularity fallbacks),
                    ``reason`` (a sentence: "you buy this every ~14 days", "often bought
                    with Greek yogurt", "popular in your segment (Loyal)"), ``cold_start``
                    (true for customers with no purchase before ``as_of``), ``model``,
                    ``as_of``. Customers: everyone who bought before ``as_of`` plus every
                    member of ``customers`` (cold start).
basket_rules        one row per association rule and level (``product``, ``category``):
                    ``level``, ``antecedent`` and ``consequent`` (item ids joined by
                    `` + ``), their display names, ``antecedent_size``, ``support``,
                    ``confidence``, ``lift``, ``leverage``, ``conviction`` (null when
                    infinite), ``antecedent_support``, ``consequent_support``, ``as_of``.
==================  ===========================================================================

Sales lines without a product in ``products`` are kept (the recommenders learn from them); their
``item_name`` is the product id and their ``category`` is null.

Examples
--------
>>> RecommendSettings().product_min_baskets
10
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.analytics.identity import unify
from omnicrm.errors import InputError
from omnicrm.models.basket import basket_rules_by_level, baskets_from_order_lines
from omnicrm.models.recommend import HybridRecommender, check_k, interactions_from_order_lines
from omnicrm.warehouse.sales import sold_lines

STEPS: tuple[str, ...] = ("interactions", "recommenders", "recommendations", "basket rules")
"""Step names reported to the progress callback, in order."""


@dataclass(frozen=True)
class RecommendSettings:
    """Settings of a recommend run.

    Parameters
    ----------
    product_min_baskets : int
        A product rule needs its items together in at least this many baskets (support =
        this count over the number of baskets, at least ``0.0005``).
    category_min_support : float
        Minimum support of category-level rules.
    min_confidence, min_lift : float
        Rule filters (both levels).
    max_len : int
        Largest itemset of a rule.
    seed : int
        Seed of the hybrid's validation sample and ALS.
    """

    product_min_baskets: int = 10
    category_min_support: float = 0.01
    min_confidence: float = 0.1
    min_lift: float = 1.0
    max_len: int = 3
    seed: int = 0


@dataclass
class RecommendResult:
    """What a run wrote: table name -> rows, seconds per step, the hybrid's weights."""

    as_of: dt.datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    validation: dict[str, object] = field(default_factory=dict)


def default_as_of(con: BaseBackend) -> dt.datetime:
    """Midnight UTC after the last order day."""
    from omnicrm.jobs.analyze import default_as_of as analyze_default

    return analyze_default(con)


def _to_utc(as_of: dt.date | dt.datetime | str) -> dt.datetime:
    from omnicrm.jobs.analyze import _to_utc as convert

    return convert(as_of)


def sales_lines(con: BaseBackend) -> ibis.Table:
    """``order_lines`` without cancelled orders (:func:`omnicrm.warehouse.sales.sold_lines`),
    with unified customer ids when ``customer_keys`` exists."""
    lines = sold_lines(con)
    tables = set(con.list_tables())
    if "customer_keys" in tables:
        lines = unify(lines, con.table("customer_keys"))
    return lines


def _catalogue(con: BaseBackend) -> pd.DataFrame:
    if "products" not in con.list_tables():
        return pd.DataFrame({"product_id": [], "name": [], "category": []}, dtype=object)
    p = con.table("products")
    cols = [c for c in ("product_id", "name", "category") if c in p.columns]
    return p.select(*cols).to_pandas().drop_duplicates("product_id")


def _segments(con: BaseBackend) -> pd.DataFrame | None:
    if "customer_scores" not in con.list_tables():
        return None
    s = con.table("customer_scores")
    if "rfm_segment" not in s.columns:
        return None
    return s.select("customer_id", segment="rfm_segment").to_pandas()


def _members(con: BaseBackend) -> np.ndarray:
    tables = set(con.list_tables())
    if "customers" not in tables:
        return np.array([], dtype=object)
    members = con.table("customers").select("customer_id")
    if "customer_keys" in tables:
        members = unify(members, con.table("customer_keys"))
    return members.customer_id.to_pandas().dropna().astype(str).unique()


def run_recommend(
    con: BaseBackend,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    k: int = 10,
    settings: RecommendSettings | None = None,
    on_step: Callable[[str], None] | None = None,
    rules: bool = True,
) -> RecommendResult:
    """Fit the hybrid recommender and write ``recommendations`` (and ``basket_rules``).

    Parameters
    ----------
    con : ibis backend
        The warehouse, with ``order_lines`` (``products``, ``customer_scores``,
        ``customer_keys`` and ``customers`` are used when present).
    as_of : date, datetime or str, optional
        Only sales before it are used; default: midnight after the last order day.
    k : int
        Recommendations per customer.
    settings : RecommendSettings, optional
    on_step : callable, optional
        Called with each step's name (from :data:`STEPS`) as it starts.
    rules : bool
        Also write ``basket_rules``.

    Returns
    -------
    RecommendResult
    """
    k = check_k(k)
    settings = settings or RecommendSettings()
    lines = sales_lines(con)
    as_of_utc = _to_utc(as_of) if as_of is not None else default_as_of(con)
    result = RecommendResult(as_of=as_of_utc)
    clock = _Clock(result, on_step)

    clock.start("interactions")
    interactions = interactions_from_order_lines(lines, as_of=as_of_utc)
    if interactions.empty:
        raise InputError(
            f"no identified purchase before as_of {as_of_utc:%Y-%m-%d}: "
            "choose a later --as-of or load sales with customer ids"
        )
    catalogue = _catalogue(con)
    names = catalogue.set_index("product_id")["name"] if "name" in catalogue else None
    segments = _segments(con)

    clock.start("recommenders")
    model = HybridRecommender(k=k, random_state=settings.seed)
    model.fit(interactions, segments=segments, item_names=names)
    result.weights = dict(model.weights_)
    result.validation = dict(model.validation_)

    clock.start("recommendations")
    buyers = model.customer_index_.to_numpy(dtype=object)
    members = _members(con)
    customers = np.concatenate([buyers, np.setdiff1d(members, buyers)])
    recs = model.recommend(customers, k)
    recs = recommendation_rows(recs, catalogue, model="hybrid", as_of=as_of_utc)
    _write(con, "recommendations", recs, result)

    if rules:
        clock.start("basket rules")
        table = basket_rules_table(con, lines, catalogue, as_of=as_of_utc, settings=settings)
        _write(con, "basket_rules", table, result)
    clock.stop()
    return result


def run_basket_rules(
    con: BaseBackend,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    settings: RecommendSettings | None = None,
) -> RecommendResult:
    """Write only ``basket_rules`` (product and category level); see :func:`run_recommend`."""
    settings = settings or RecommendSettings()
    lines = sales_lines(con)
    as_of_utc = _to_utc(as_of) if as_of is not None else default_as_of(con)
    result = RecommendResult(as_of=as_of_utc)
    clock = _Clock(result, None)
    clock.start("basket rules")
    table = basket_rules_table(con, lines, _catalogue(con), as_of=as_of_utc, settings=settings)
    _write(con, "basket_rules", table, result)
    clock.stop()
    return result


def recommendation_rows(
    recs: pd.DataFrame, catalogue: pd.DataFrame, *, model: str, as_of: dt.datetime
) -> pd.DataFrame:
    """The ``recommendations`` table rows from a ``recommend`` frame."""
    info = catalogue.set_index("product_id").reindex(recs["item_id"])
    name = info["name"] if "name" in info else pd.Series(np.nan, index=info.index)
    out = pd.DataFrame(
        {
            "customer_id": recs["customer_id"].astype(str).to_numpy(),
            "rank": recs["rank"].to_numpy(np.int64),
            "item_id": recs["item_id"].astype(str).to_numpy(),
            "item_name": name.fillna(pd.Series(recs["item_id"].to_numpy(), index=info.index))
            .astype(str)
            .to_numpy(),
            "category": (
                info["category"] if "category" in info else pd.Series(None, index=info.index)
            ).to_numpy(dtype=object),
            "score": recs["score"].to_numpy(np.float64),
            "reason": recs["reason"].astype(str).to_numpy(),
            "cold_start": recs["cold_start"].to_numpy(bool),
            "model": model,
            "as_of": pd.Timestamp(as_of),
        }
    )
    return out


def basket_rules_table(
    con: BaseBackend,
    lines: ibis.Table,
    catalogue: pd.DataFrame,
    *,
    as_of: dt.datetime,
    settings: RecommendSettings,
) -> pd.DataFrame:
    """Product- and category-level association rules as flat table rows."""
    baskets = baskets_from_order_lines(lines, as_of=as_of)
    n_baskets = int(baskets.basket_id.nunique().execute())
    if n_baskets == 0:
        raise InputError(f"no basket before as_of {as_of:%Y-%m-%d}; choose a later as_of")
    products = con.table("products") if "products" in con.list_tables() else None
    parts = []
    levels = [("product", max(settings.product_min_baskets / n_baskets, 0.0005))]
    if products is not None and not catalogue.empty:
        levels.append(("category", settings.category_min_support))
    for level, support in levels:
        rules = basket_rules_by_level(
            lines,
            products,
            level=level,
            min_support=min(support, 1.0),
            min_confidence=settings.min_confidence,
            min_lift=settings.min_lift,
            max_len=settings.max_len,
            as_of=as_of,
        )
        parts.append(rules)
    rules = pd.concat(parts, ignore_index=True)
    names = (
        catalogue.set_index("product_id")["name"].astype(str).to_dict()
        if "name" in catalogue
        else {}
    )

    def label(items: tuple, level: str, named: bool) -> str:
        return " + ".join(
            names.get(i, str(i)) if named and level == "product" else str(i) for i in items
        )

    conviction = rules["conviction"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "level": rules["level"].astype(str),
            "antecedent": [
                label(a, lv, False)
                for a, lv in zip(rules["antecedent"], rules["level"], strict=True)
            ],
            "consequent": [
                label(c, lv, False)
                for c, lv in zip(rules["consequent"], rules["level"], strict=True)
            ],
            "antecedent_names": [
                label(a, lv, True)
                for a, lv in zip(rules["antecedent"], rules["level"], strict=True)
            ],
            "consequent_names": [
                label(c, lv, True)
                for c, lv in zip(rules["consequent"], rules["level"], strict=True)
            ],
            "antecedent_size": rules["antecedent"].map(len).astype(np.int64),
            "support": rules["support"].astype(float),
            "confidence": rules["confidence"].astype(float),
            "lift": rules["lift"].astype(float),
            "leverage": rules["leverage"].astype(float),
            "conviction": np.where(np.isfinite(conviction), conviction, np.nan),
            "antecedent_support": rules["antecedent_support"].astype(float),
            "consequent_support": rules["consequent_support"].astype(float),
            "as_of": pd.Timestamp(as_of),
        }
    )


def _write(con: BaseBackend, name: str, frame: pd.DataFrame, result: RecommendResult) -> None:
    con.create_table(name, ibis.memtable(frame), overwrite=True)
    result.rows[name] = len(frame)


class _Clock:
    def __init__(self, result: RecommendResult, on_step: Callable[[str], None] | None):
        self.result, self.on_step = result, on_step
        self.name: str | None = None
        self.t0 = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self.name, self.t0 = name, time.perf_counter()
        if self.on_step is not None:
            self.on_step(name)

    def stop(self) -> None:
        if self.name is not None:
            self.result.seconds[self.name] = time.perf_counter() - self.t0
            self.name = None
