"""``omnicrm analyze``: resolve identities, score customers, compute KPIs, cohorts and migration.

Reads the contract tables and writes (replacing) these warehouse tables:

==================  ===========================================================================
table               grain
==================  ===========================================================================
customer_keys       one row per source customer record -> unified customer id (with evidence)
customer_scores     one row per unified customer with a purchase before ``as_of`` (RFM, segment,
                    tier, lifecycle, cluster, p_alive, clv_12m, churn_prob, churn_reasons …)
kpi_daily           one row per day x dimension (all / channel / store) x metric
kpi_monthly         one row per month x dimension (all / channel / segment) x metric
kpi_gaps            one row per KPI target: latest value vs target
cohorts             one row per first-purchase month x months since
segment_migration   one row per (segment at start, segment at as_of)
cluster_profiles    one row per behavioural cluster: size, share, mean and z-score per feature
clv_holdout         one row per calibration frequency (0 … 7+): actual vs BG/NBD holdout purchases
clv_tracking        one row per week: repeat purchases actual vs BG/NBD, calibration then holdout
==================  ===========================================================================

Examples
--------
>>> from omnicrm.jobs.analyze import AnalyzeSettings
>>> AnalyzeSettings().migration_days
90
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
from ibis.backends import BaseBackend

from omnicrm.analytics.benchmarks import kpi_gaps, load_targets
from omnicrm.analytics.clusters import CustomerClusters, cluster_features
from omnicrm.analytics.cohorts import cohort_retention
from omnicrm.analytics.identity import Scratch, build_customer_keys, unify
from omnicrm.analytics.kpis import kpi_daily, kpi_lines, kpi_table
from omnicrm.analytics.migration import segment_migration
from omnicrm.analytics.rfm import with_order_date
from omnicrm.analytics.scores import (
    ScoringConfig,
    add_rfm_scores,
    add_rfm_segment,
    attach_clusters,
    customer_scores,
)
from omnicrm.errors import InputError
from omnicrm.jobs.value import churn_and_clv, clv_diagnostics
from omnicrm.warehouse.sales import NO_LINES, sold_lines

Step = Callable[[str], None]


@dataclass(frozen=True)
class AnalyzeSettings:
    """Settings of an analyze run.

    Parameters
    ----------
    migration_days : int
        Segment migration compares segments ``migration_days`` before ``as_of`` with ``as_of``.
    cluster_sample : int
        Customers sampled to fit the clusters (all customers are then assigned).
    k_range : tuple of int
        Numbers of clusters tried; the best silhouette wins.
    churn : bool
        Fit the CLV and churn models and add their columns (``p_alive``, ``clv_12m``,
        ``churn_prob``, ``churn_reasons`` …) to ``customer_scores``.
    seed : int
        Seed of the cluster sample and of k-means.
    scoring : ScoringConfig, optional
        RFM bins, segment table, value tiers, lifecycle rules (default: shipped files).
    """

    migration_days: int = 90
    churn: bool = True
    cluster_sample: int = 50_000
    k_range: tuple[int, int] = (2, 8)
    seed: int = 0
    scoring: ScoringConfig | None = None


@dataclass
class AnalyzeResult:
    """What an analyze run wrote: table name -> rows, and seconds per step."""

    as_of: dt.datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    clusters: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Steps skipped or degraded, with the reason (e.g. history too short for churn)."""


STEPS: tuple[str, ...] = (
    "identities",
    "customer scores",
    "clusters",
    "churn and CLV",
    "CLV diagnostics",
    "daily KPIs",
    "monthly KPIs",
    "cohorts",
    "segment migration",
)
"""Step names reported to the progress callback, in order."""


def default_as_of(con: BaseBackend) -> dt.datetime:
    """Midnight UTC after the last order day: every loaded sale is then "before as_of"."""
    if "order_lines" not in con.list_tables():
        raise InputError(NO_LINES)
    last = con.table("order_lines").order_ts.max().execute()
    if last is None:
        raise InputError("order_lines is empty: load sales with 'omnicrm ingest' first")
    day = last.date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _to_utc(as_of: dt.date | dt.datetime | str) -> dt.datetime:
    if isinstance(as_of, str):
        try:
            as_of = dt.datetime.fromisoformat(as_of)
        except ValueError:
            raise InputError(
                f"--as-of {as_of!r} is not a date: use YYYY-MM-DD, e.g. 2026-06-30"
            ) from None
    if not isinstance(as_of, dt.datetime):
        as_of = dt.datetime(as_of.year, as_of.month, as_of.day)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)


def run_analyze(
    con: BaseBackend,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    settings: AnalyzeSettings | None = None,
    on_step: Step | None = None,
    demo: bool | None = None,
) -> AnalyzeResult:
    """Run every analysis and write the score tables.

    Parameters
    ----------
    con : ibis backend
        The warehouse, with at least ``order_lines`` (and ideally ``customers``,
        ``identities``, ``products``) loaded.
    as_of : date, datetime or str, optional
        Only data before it is used; default: midnight after the last order day.
    settings : AnalyzeSettings, optional
    on_step : callable, optional
        Called with each step's name (from :data:`STEPS`) as it starts.
    demo : bool, optional
        Allow the built-in PII key (demo data only); default: ``$OMNICRM_DEMO``.

    Returns
    -------
    AnalyzeResult
    """
    settings = settings or AnalyzeSettings()
    as_of_utc = _to_utc(as_of) if as_of is not None else default_as_of(con)
    result = AnalyzeResult(as_of=as_of_utc)
    tables = set(con.list_tables())
    if "order_lines" not in tables:
        raise InputError(NO_LINES)
    clock = _Clock(result, on_step)
    scratch = Scratch(con)
    try:
        _run_steps(con, tables, as_of_utc, settings, demo, result, clock, scratch)
    finally:
        scratch.release()
    return result


def _run_steps(
    con: BaseBackend,
    tables: set[str],
    as_of_utc: dt.datetime,
    settings: AnalyzeSettings,
    demo: bool | None,
    result: AnalyzeResult,
    clock: _Clock,
    scratch: Scratch,
) -> None:
    clock.start("identities")
    unifier = _identity
    keys = None
    if tables & {"customers", "identities"}:
        keys = build_customer_keys(con, demo=demo).keys
        unifier = functools.partial(unify, keys=keys)
        result.rows["customer_keys"] = int(keys.count().execute())
    lines = scratch.materialize(analysis_lines(sold_lines(con), keys))
    scoring = settings.scoring or ScoringConfig.default()

    clock.start("customer scores")
    scores = scratch.materialize(customer_scores(lines, as_of=as_of_utc, config=scoring))

    clock.start("clusters")
    products = con.table("products") if "products" in tables else None
    # in customer order: the seeded sample must not depend on the order the warehouse returns
    features = (
        cluster_features(lines, as_of=as_of_utc, products=products, validate=False)
        .order_by("customer_id")
        .to_pandas()
    )
    sample = features.sample(
        n=min(len(features), settings.cluster_sample), random_state=settings.seed
    )
    model = CustomerClusters(k_range=settings.k_range, random_state=settings.seed).fit(sample)
    result.clusters = dict(model.names_)
    _write(con, "cluster_profiles", ibis.memtable(model.profiles_), result)
    scores = attach_clusters(scores, model, features)

    clock.start("churn and CLV")
    if settings.churn:
        scores = churn_and_clv(
            con, lines, scores, as_of=as_of_utc, unify=unifier, notes=result.notes
        )
    _write(con, "customer_scores", scores, result)
    scored = con.table("customer_scores")

    clock.start("CLV diagnostics")
    if settings.churn:
        holdout, tracking = clv_diagnostics(lines, as_of=as_of_utc)
        _write(con, "clv_holdout", ibis.memtable(holdout), result)
        _write(con, "clv_tracking", ibis.memtable(tracking), result)

    members = con.table("customers") if "customers" in tables else None
    if members is not None:
        members = unifier(members.select("customer_id", "is_member"))

    clock.start("daily KPIs")
    # the lines summed per order, day, channel, store and kind: the KPIs and cohorts below are
    # the same from it as from the lines, over about a third of the rows
    sales = scratch.materialize(kpi_lines(lines, as_of=as_of_utc))
    _write(con, "kpi_daily", kpi_daily(sales, as_of=as_of_utc, members=members), result)

    clock.start("monthly KPIs")
    monthly = ibis.union(
        kpi_table(sales, as_of=as_of_utc, grain="month", members=members),
        kpi_table(sales, as_of=as_of_utc, grain="month", by="channel", members=members),
        kpi_table(
            sales,
            as_of=as_of_utc,
            grain="month",
            by="segment",
            members=members,
            segments=scored.select("customer_id", "rfm_segment"),
        ),
    )
    _write(con, "kpi_monthly", monthly, result)
    gaps = kpi_gaps(ibis.union(con.table("kpi_monthly"), con.table("kpi_daily")), load_targets())
    _write(con, "kpi_gaps", gaps, result)

    clock.start("cohorts")
    _write(con, "cohorts", cohort_retention(sales, as_of=as_of_utc), result)

    clock.start("segment migration")
    start = as_of_utc - dt.timedelta(days=settings.migration_days)
    first = lines.order_ts.min().execute()
    if first is not None and start > first:
        # The segments at as_of are those just written; at the start only the RFM segment is
        # needed (it depends on the R, F and M scores alone, not on tiers or stages).
        before = scratch.materialize(
            customer_scores(
                lines, as_of=start, config=scoring, steps=(add_rfm_scores, add_rfm_segment)
            ).select("customer_id", "rfm_segment")
        )
        migration = segment_migration(
            before, scored.select("customer_id", "rfm_segment"), segment_column="rfm_segment"
        )
        migration = migration.mutate(
            start=ibis.literal(start, type="timestamp('UTC')"),
            end=ibis.literal(as_of_utc, type="timestamp('UTC')"),
        )
        _write(con, "segment_migration", migration, result)
    clock.stop()


LINE_COLUMNS: frozenset[str] = frozenset(
    {
        "order_id",
        "line_number",
        "order_ts",
        "customer_id",
        "store_id",
        "channel",
        "product_id",
        "quantity",
        "unit_price",
        "discount_amount",
        "amount",
        "promotion_id",
        "is_return",
    }
)
"""Columns of ``order_lines`` that the analyses read."""


def analysis_lines(lines: ibis.Table, keys: ibis.Table | None = None) -> ibis.Table:
    """The sales lines every analysis step reads, as analyze writes them once to a scratch table.

    Only the columns the analyses read (:data:`LINE_COLUMNS`), ``customer_id`` resolved to the
    unified customer (when ``keys`` is given, see :func:`omnicrm.analytics.identity.unify`),
    and the UTC date of each line (:func:`omnicrm.analytics.rfm.with_order_date`). Every later
    step scans these lines, several times: resolving the customers and taking the date of a
    time-zone-aware timestamp (costly, per line) are done once here instead of in every scan.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.table({"order_id": "string", "order_ts": "timestamp('UTC')",
    ...                 "customer_id": "string", "note": "string"}, name="order_lines")
    >>> analysis_lines(t).columns
    ('order_id', 'order_ts', 'customer_id', 'order_date_utc')
    """
    needed = [c for c in lines.columns if c in LINE_COLUMNS]
    lines = lines.select(*needed)
    if keys is not None:
        lines = unify(lines, keys)
    return with_order_date(lines)


def _identity(table: ibis.Table) -> ibis.Table:
    return table


class _Clock:
    """Times the steps and reports them to the progress callback."""

    def __init__(self, result: AnalyzeResult, on_step: Step | None) -> None:
        self.result, self.on_step = result, on_step
        self.current: str | None = None
        self.started = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self.current, self.started = name, time.perf_counter()
        if self.on_step is not None:
            self.on_step(name)

    def stop(self) -> None:
        if self.current is not None:
            self.result.seconds[self.current] = round(time.perf_counter() - self.started, 3)
        self.current = None


def _write(con: BaseBackend, name: str, expr: ibis.Table, result: AnalyzeResult) -> None:
    table = con.create_table(name, expr, overwrite=True)
    result.rows[name] = int(table.count().execute())
