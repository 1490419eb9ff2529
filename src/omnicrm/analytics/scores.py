"""``customer_scores``: one row per customer with RFM, segment, value tier and lifecycle stage.

The table is built by a pipeline of small **steps**, each a function
``step(scores, context) -> scores`` that adds columns to the per-customer table started by
:func:`omnicrm.analytics.rfm.rfm_metrics`. Later analyses (CLV, churn risk) extend the table by
appending their own step to :data:`DEFAULT_STEPS`; the cluster of each customer, which needs a
fitted model, is joined afterwards with :func:`attach_clusters`.

Columns (grain: one row per customer with a purchase before ``as_of``):

========================  ============================================================
``customer_id``           customer key (after identity resolution)
``as_of``                 the scoring time (UTC); only earlier sales are used
``first_purchase_ts``     first purchase (returns excluded)
``last_purchase_ts``      last purchase
``recency_days``          calendar days from the last purchase to ``as_of``
``frequency``             distinct purchase orders
``monetary``              net spend, returns deducted, DECIMAL(18, 2)
``avg_order_value``       ``monetary / frequency`` to the cent, DECIMAL(18, 2)
``r_score`` …             1 to ``bins`` quantile scores (recent / frequent / big = high)
``rfm_segment``           segment name from the segment table (e.g. ``Champions``)
``value_tier``            tier name (``top_1``, ``top_10``, ``rest`` by default)
``lifecycle_stage``       ``new``, ``active``, ``at_risk``, ``lapsed`` or ``reactivated``
========================  ============================================================

Examples
--------
>>> import ibis
>>> from datetime import datetime, timezone
>>> from omnicrm.analytics.scores import customer_scores
>>> lines = ibis.memtable({
...     "order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"],
...     "order_ts": [datetime(2024, 7, d, tzinfo=timezone.utc) for d in (1, 20, 25)],
...     "quantity": [1, 2, 1], "amount": [10.0, 5.5, 3.0], "is_return": [False] * 3})
>>> scores = customer_scores(lines, as_of="2024-08-01").order_by("customer_id").execute()
>>> scores[["customer_id", "frequency", "rfm_segment", "lifecycle_stage"]]
  customer_id  frequency     rfm_segment lifecycle_stage
0           a          2         At Risk          active
1           b          1  About to Sleep             new
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from omnicrm.analytics.lifecycle import LifecycleRules, customer_activity, lifecycle_stages
from omnicrm.analytics.rfm import (
    METRIC_COLUMNS,
    as_of_timestamp,
    check_history,
    rfm_metrics,
    rfm_scores,
    validate_bins,
)
from omnicrm.analytics.segments import SegmentTable, rfm_segments
from omnicrm.analytics.tiers import ValueTiers, value_tiers
from omnicrm.errors import InputError, NotFittedError

SCORES_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "as_of",
    *METRIC_COLUMNS[1:],
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "value_tier",
    "lifecycle_stage",
)
"""Columns of :func:`customer_scores` with the default steps, in order."""


@dataclass(frozen=True)
class ScoringConfig:
    """Everything :func:`customer_scores` can be told: score bins, segment map, tiers, stages.

    ``bins`` must match the segment table's grid (5 for the shipped table).
    """

    bins: int = 5
    segments: SegmentTable = field(default_factory=SegmentTable.default)
    tiers: ValueTiers = field(default_factory=ValueTiers.default)
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules.default)

    def __post_init__(self) -> None:
        validate_bins(self.bins)
        if self.segments.bins != self.bins:
            raise InputError(
                f"bins is {self.bins} but {self.segments.source} is written for scores 1 to "
                f"{self.segments.bins}; set bins={self.segments.bins} or edit the segment "
                f"table to cover 1 to {self.bins}"
            )

    @classmethod
    def default(cls) -> ScoringConfig:
        """The shipped configuration (files under ``omnicrm/analytics/config``)."""
        return cls()

    @classmethod
    def from_files(
        cls,
        *,
        segments: str | Path | None = None,
        tiers: str | Path | None = None,
        lifecycle: str | Path | None = None,
        bins: int | None = None,
    ) -> ScoringConfig:
        """Load user-edited files; each one left out keeps the shipped default.

        Parameters
        ----------
        segments : path, optional
            Segment table CSV (see :mod:`omnicrm.analytics.segments`).
        tiers : path, optional
            Value tiers TOML (see :mod:`omnicrm.analytics.tiers`).
        lifecycle : path, optional
            Lifecycle thresholds TOML (see :mod:`omnicrm.analytics.lifecycle`).
        bins : int, optional
            Score groups; default: the segment table's grid size.
        """
        table = SegmentTable.from_csv(segments) if segments else SegmentTable.default()
        return cls(
            bins=table.bins if bins is None else bins,
            segments=table,
            tiers=ValueTiers.from_toml(tiers) if tiers else ValueTiers.default(),
            lifecycle=(
                LifecycleRules.from_toml(lifecycle) if lifecycle else LifecycleRules.default()
            ),
        )


@dataclass(frozen=True)
class ScoreContext:
    """What a step may use besides the table it extends."""

    lines: ibis.Table
    as_of: datetime
    config: ScoringConfig
    metrics: ibis.Table | None = None
    """The per-customer table the steps start from (steps add columns, so it holds the same
    customers and metrics): rank within it rather than within the table a step receives, whose
    query repeats every join of the steps before it."""


ScoreStep = Callable[[ibis.Table, ScoreContext], ibis.Table]
"""A step adds columns to the per-customer table (one row per customer, never more)."""


def add_rfm_scores(scores: ibis.Table, context: ScoreContext) -> ibis.Table:
    """Step: ``r_score``, ``f_score``, ``m_score``."""
    return rfm_scores(scores, bins=context.config.bins)


def add_rfm_segment(scores: ibis.Table, context: ScoreContext) -> ibis.Table:
    """Step: ``rfm_segment`` from the configured segment table."""
    return rfm_segments(scores, context.config.segments)


def add_value_tier(scores: ibis.Table, context: ScoreContext) -> ibis.Table:
    """Step: ``value_tier`` by net spend.

    Customers are ranked within ``context.metrics`` (the same customers and spend as
    ``scores``), so the query counts the spend values once for ``m_score`` and the tiers instead
    of again on ``scores`` with the joins of the score steps.
    """
    metrics = context.metrics
    ranked = metrics if metrics is not None and "monetary" in metrics.columns else None
    return value_tiers(scores, context.config.tiers, ranked=ranked)


def add_lifecycle_stage(scores: ibis.Table, context: ScoreContext) -> ibis.Table:
    """Step: ``lifecycle_stage``.

    :func:`customer_scores` computes the stage together with the RFM metrics when this step is
    among its steps (one per-customer aggregate, :func:`~omnicrm.analytics.lifecycle.
    customer_activity`), so on its table the step has nothing left to add. On a table without
    the column it joins :func:`~omnicrm.analytics.lifecycle.lifecycle_stages` (both tables hold
    the same customers).
    """
    if "lifecycle_stage" in scores.columns:
        return scores
    stages = lifecycle_stages(
        context.lines, as_of=context.as_of, rules=context.config.lifecycle, validate=False
    ).select("customer_id", "lifecycle_stage")
    return scores.left_join(stages, "customer_id").drop("customer_id_right")


DEFAULT_STEPS: tuple[ScoreStep, ...] = (
    add_rfm_scores,
    add_rfm_segment,
    add_value_tier,
    add_lifecycle_stage,
)
"""The steps :func:`customer_scores` runs by default, in order."""


def customer_scores(
    lines: ibis.Table,
    *,
    as_of: date | datetime | str,
    config: ScoringConfig | None = None,
    steps: Sequence[ScoreStep] = DEFAULT_STEPS,
) -> ibis.Table:
    """Build the ``customer_scores`` table as a lazy Ibis expression.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with the ``order_lines`` contract columns, ``customer_id`` being the
        resolved customer key.
    as_of : date, datetime or str
        Scoring time; only lines with ``order_ts < as_of`` are used.
    config : ScoringConfig, optional
        Bins, segment table, tiers and lifecycle thresholds; default
        :meth:`ScoringConfig.default`.
    steps : sequence of ScoreStep
        Column builders run in order on the metrics table; default :data:`DEFAULT_STEPS`.
        With :func:`add_lifecycle_stage` among them, the metrics table is
        :func:`~omnicrm.analytics.lifecycle.customer_activity`'s and holds ``lifecycle_stage``
        from the start (computed in the same per-customer aggregate as the metrics).

    Returns
    -------
    ibis.Table
        One row per customer with :data:`SCORES_COLUMNS` (then any columns added by extra
        steps).

    Raises
    ------
    InputError
        Empty table, ``as_of`` on or before the first order, no identified customers.
    """
    config = config or ScoringConfig.default()
    as_of = as_of_timestamp(as_of)
    check_history(lines, as_of)
    if add_lifecycle_stage in steps:  # metrics and stage from one per-customer aggregate
        activity = customer_activity(lines, as_of=as_of, rules=config.lifecycle, validate=False)
        scores = activity.select(*METRIC_COLUMNS, "lifecycle_stage")
    else:
        scores = rfm_metrics(lines, as_of=as_of, validate=False)
    context = ScoreContext(lines=lines, as_of=as_of, config=config, metrics=scores)
    for step in steps:
        scores = step(scores, context)
    scores = scores.mutate(as_of=ibis.literal(as_of, type="timestamp('UTC')"))
    first = [c for c in SCORES_COLUMNS if c in scores.columns]
    return scores.select(*first, *[c for c in scores.columns if c not in first])


def attach_clusters(
    scores: ibis.Table, model: object, features: pd.DataFrame, *, id_column: str = "customer_id"
) -> ibis.Table:
    """Join a fitted cluster model's ``cluster`` and ``cluster_name`` onto ``scores``.

    Parameters
    ----------
    scores : ibis.Table
        The output of :func:`customer_scores`.
    model : CustomerClusters
        A fitted :class:`omnicrm.analytics.clusters.CustomerClusters`.
    features : pandas.DataFrame
        The customers' features (as from
        :func:`omnicrm.analytics.clusters.cluster_features`), with ``id_column``.

    Returns
    -------
    ibis.Table
        ``scores`` plus ``cluster`` (int64) and ``cluster_name``; null for customers missing
        from ``features``.
    """
    names = getattr(model, "names_", None)
    if names is None:
        raise NotFittedError(
            f"{type(model).__name__} is not fitted: call fit(features) before attach_clusters"
        )
    if id_column not in features.columns:
        raise InputError(
            f"features lack the id column {id_column!r}; pass the frame returned by "
            "cluster_features(...).to_pandas()"
        )
    labels = model.predict(features).astype("int64")  # type: ignore[attr-defined]
    by_label = np.array([names[k] for k in range(int(labels.max(initial=-1)) + 1)], dtype=object)
    assigned = pd.DataFrame(
        {
            "customer_id": features[id_column].astype(str).to_numpy(),
            "cluster": labels,
            "cluster_name": by_label[labels],
        }
    )
    clusters = ibis.memtable(assigned)
    return scores.left_join(clusters, "customer_id").drop("customer_id_right")
