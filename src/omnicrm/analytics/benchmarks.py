"""Gaps between KPIs and the benchmark targets set in configuration.

Targets are data: a TOML file of ``[[targets]]`` entries (the shipped defaults are in
``omnicrm/analytics/config/kpi_targets.toml``). Each names a metric of
:data:`omnicrm.analytics.kpis.METRICS`, a target figure, whether higher or lower is better, a
grain and optionally a dimension (and value).

Gap definition (same text in ``docs/metrics.md``)
-------------------------------------------------
- ``gap`` = actual - target when higher is better, target - actual when lower is better: a
  positive gap is always "better than target", a negative one the shortfall.
- ``gap_pct`` = gap / abs(target) (NULL for a zero target).
- ``status`` = ``"on track"`` when gap >= 0, ``"below target"`` when gap < 0, ``"no data"``
  when the metric is undefined in the period (a rate with a zero denominator).

Examples
--------
>>> import datetime as dt, ibis
>>> kpis = ibis.memtable({
...     "period_start": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)], "grain": ["month"] * 2,
...     "dimension": ["all"] * 2, "dimension_value": ["all"] * 2,
...     "metric": ["return_rate"] * 2, "value": [0.08, 0.04]})
>>> targets = parse_targets({"targets": [
...     {"metric": "return_rate", "target": 0.05, "direction": "lower"}]})
>>> g = kpi_gaps(kpis, targets).execute()
>>> g[["actual", "target", "status"]].values.tolist()
[[0.04, 0.05, 'on track']]
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import ibis

from omnicrm.analytics.kpis import (
    DIMENSIONS,
    METRICS,
    OUTPUT_COLUMNS,
    OVERALL,
    RATE_METRICS,
)
from omnicrm.analytics.periods import GRAINS
from omnicrm.errors import InputError

DIRECTIONS: tuple[str, ...] = ("higher", "lower")
ON_TRACK, BELOW_TARGET, NO_DATA = "on track", "below target", "no data"

GAP_COLUMNS: tuple[str, ...] = (
    "period_start", "grain", "dimension", "dimension_value", "metric",
    "actual", "target", "direction", "gap", "gap_pct", "status",
)  # fmt: skip

_KEYS = frozenset({"metric", "target", "direction", "grain", "dimension", "dimension_value"})


@dataclass(frozen=True)
class Target:
    """One benchmark target.

    Parameters
    ----------
    metric : str
        A KPI name of :data:`omnicrm.analytics.kpis.METRICS`.
    target : float
        The figure to reach (rates as shares, 0.4 = 40 %).
    direction : {"higher", "lower"}
        Which side of the target is good.
    grain : {"day", "week", "month"}
        Period length the target is set for.
    dimension : {"all", "channel", "store_id", "segment"}
        Breakdown the target applies to (``"all"``: the overall figure).
    dimension_value : str, optional
        One value of the dimension; ``None`` applies the target to every value.
    """

    metric: str
    target: float
    direction: str
    grain: str = "month"
    dimension: str = OVERALL
    dimension_value: str | None = None


def default_targets_path() -> Path:
    """Path of the shipped ``kpi_targets.toml``."""
    return Path(str(resources.files("omnicrm.analytics") / "config" / "kpi_targets.toml"))


def load_targets(path: str | Path | None = None) -> tuple[Target, ...]:
    """Read and validate a targets TOML file (default: the shipped one).

    Raises
    ------
    InputError
        Unreadable file, invalid TOML, or an invalid entry (the message names the entry).

    Examples
    --------
    >>> sorted({t.metric for t in load_targets()})[:2]
    ['members_revenue_share', 'repurchase_rate']
    """
    file = Path(path) if path is not None else default_targets_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read KPI targets file {str(file)!r}: {exc.strerror or exc}"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"KPI targets file {str(file)!r} is not valid TOML: {exc}") from None
    return parse_targets(data, source=str(file))


def parse_targets(data: Mapping[str, object], *, source: str = "targets") -> tuple[Target, ...]:
    """Validate targets given as a mapping ``{"targets": [{...}, ...]}`` (parsed TOML).

    Examples
    --------
    >>> parse_targets({"targets": [{"metric": "churn_rate", "target": 0.5,
    ...                             "direction": "lower", "grain": "week"}]})[0].grain
    'week'
    """
    extra = set(data) - {"targets"}
    if extra:
        raise InputError(
            f"{source}: unknown top-level key(s) {', '.join(sorted(extra))}; "
            "write each target as a [[targets]] table"
        )
    entries = data.get("targets")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{source}: no targets; add at least one [[targets]] table")
    targets = tuple(
        _parse_entry(entry, f"{source}: target #{i}") for i, entry in enumerate(entries, start=1)
    )
    seen: dict[tuple, int] = {}
    for i, t in enumerate(targets, start=1):
        key = (t.metric, t.grain, t.dimension, t.dimension_value)
        if key in seen:
            raise InputError(
                f"{source}: target #{i} repeats target #{seen[key]} (metric {t.metric!r}, "
                f"grain {t.grain!r}, dimension {t.dimension!r}, value {t.dimension_value!r}); "
                "keep one"
            )
        seen[key] = i
    return targets


def _parse_entry(entry: object, where: str) -> Target:
    if not isinstance(entry, Mapping):
        raise InputError(f"{where} is not a table; write it as [[targets]] with key = value lines")
    unknown = set(entry) - _KEYS
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(_KEYS))}"
        )
    for key in ("metric", "target", "direction"):
        if key not in entry:
            raise InputError(f"{where}: missing {key!r}")
    metric = entry["metric"]
    if metric not in METRICS:
        raise InputError(
            f"{where}: metric {metric!r} is not a KPI; use one of {', '.join(METRICS)}"
        )
    value = entry["target"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: target {value!r} for {metric!r} must be a finite number")
    if metric in RATE_METRICS and not 0 <= value <= 1:
        raise InputError(
            f"{where}: target {value!r} for {metric!r} is a share and must be between 0 and 1 "
            "(write 40 % as 0.40)"
        )
    direction = entry["direction"]
    if direction not in DIRECTIONS:
        raise InputError(
            f"{where}: direction {direction!r} for {metric!r} must be 'higher' or 'lower'"
        )
    grain = entry.get("grain", "month")
    if grain not in GRAINS:
        raise InputError(f"{where}: grain {grain!r} must be one of {', '.join(GRAINS)}")
    dimension = entry.get("dimension", OVERALL)
    if dimension not in (OVERALL, *DIMENSIONS):
        raise InputError(
            f"{where}: dimension {dimension!r} must be one of {OVERALL}, {', '.join(DIMENSIONS)}"
        )
    dimension_value = entry.get("dimension_value")
    if dimension_value is not None and (
        dimension == OVERALL or not isinstance(dimension_value, str)
    ):
        raise InputError(
            f"{where}: dimension_value {dimension_value!r} needs a dimension (channel, store_id "
            "or segment) and must be a string"
        )
    return Target(metric, float(value), direction, grain, dimension, dimension_value)


def targets_table(targets: Iterable[Target]) -> ibis.Table:
    """The targets as an Ibis in-memory table (one row per target)."""
    rows = list(targets)
    return ibis.memtable(
        {
            "t_metric": [t.metric for t in rows],
            "t_grain": [t.grain for t in rows],
            "t_dimension": [t.dimension for t in rows],
            "t_dimension_value": [t.dimension_value for t in rows],
            "target": [t.target for t in rows],
            "direction": [t.direction for t in rows],
        },
        schema={
            "t_metric": "string", "t_grain": "string", "t_dimension": "string",
            "t_dimension_value": "string", "target": "float64", "direction": "string",
        },
    )  # fmt: skip


def kpi_gaps(
    kpis: ibis.Table,
    targets: Iterable[Target] | None = None,
    *,
    latest: bool = True,
) -> ibis.Table:
    """Compare KPI rows with their targets.

    Parameters
    ----------
    kpis : ibis.Table
        Long-format KPIs as made by :func:`omnicrm.analytics.kpis.kpi_table` or
        :func:`~omnicrm.analytics.kpis.kpi_daily` (several can be stacked with ``ibis.union``).
    targets : iterable of Target, optional
        Default: :func:`load_targets` of the shipped file.
    latest : bool
        Keep only the latest period of each (grain, dimension value, metric); ``False`` gives
        the gap for every period. Build ``kpis`` with ``include_partial=False`` to compare
        complete periods only.

    Returns
    -------
    ibis.Table
        ``period_start, grain, dimension, dimension_value, metric, actual, target, direction,
        gap, gap_pct, status`` for every KPI row matched by a target. When a target for one
        dimension value and one for the whole dimension both match, the specific one is used.
    """
    missing = [c for c in OUTPUT_COLUMNS if c not in kpis.columns]
    if missing:
        raise InputError(
            f"KPI table lacks column(s) {', '.join(missing)}: pass the output of kpi_table or "
            "kpi_daily"
        )
    targets = tuple(load_targets() if targets is None else targets)
    if not targets:
        raise InputError("no targets given: pass at least one Target or load_targets(path)")
    t = targets_table(targets)
    kpis = kpis.view()  # a relation of its own, whatever expression built it
    matched = kpis.join(
        t,
        [
            kpis.metric == t.t_metric,
            kpis.grain == t.t_grain,
            kpis.dimension == t.t_dimension,
            t.t_dimension_value.isnull() | (kpis.dimension_value == t.t_dimension_value),
        ],
    )
    key = ["period_start", "grain", "dimension", "dimension_value", "metric"]
    specific = matched.t_dimension_value.notnull().cast("int8")
    rank = ibis.row_number().over(group_by=[matched[k] for k in key], order_by=ibis.desc(specific))
    matched = matched.mutate(_rank=rank).filter(ibis._._rank == 0)
    if latest:
        last = matched.period_start.max().over(
            group_by=[matched.grain, matched.dimension, matched.dimension_value, matched.metric]
        )
        matched = matched.mutate(_last=last).filter(ibis._.period_start == ibis._._last)
    actual = matched.value.cast("float64")
    gap = ibis.ifelse(
        matched.direction == "higher", actual - matched.target, matched.target - actual
    )
    status = ibis.cases((gap.isnull(), NO_DATA), (gap >= 0.0, ON_TRACK), else_=BELOW_TARGET)
    return matched.select(
        *key,
        actual=actual,
        target=matched.target,
        direction=matched.direction,
        gap=gap,
        gap_pct=gap / matched.target.abs().nullif(0.0),
        status=status,
    ).order_by(["grain", "dimension", "dimension_value", "metric", "period_start"])
