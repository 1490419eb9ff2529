"""Segment migration: how customers moved between segments from one date to another.

Definitions (same text in ``docs/metrics.md``)
-----------------------------------------------
- Input: the segment of each customer at date A (``before``) and at date B (``after``), one row
  per customer in each.
- ``segment_from`` is the segment at A, or ``"new"`` for a customer absent at A (not yet a
  customer). ``segment_to`` is the segment at B, or ``"gone"`` for a customer present at A and
  absent at B (e.g. dropped out of the scoring window).
- ``customers``: customers moving from ``segment_from`` to ``segment_to``.
- ``share`` = customers / all customers with that ``segment_from`` (row share; each row of the
  matrix sums to 1). NULL when the row is empty (e.g. no new customers).
- Every (from, to) pair of the segments seen is present, zero cells included, except the
  impossible ``new -> gone``.

Examples
--------
>>> import ibis
>>> a = ibis.memtable({"customer_id": ["x", "y"], "segment": ["loyal", "loyal"]})
>>> b = ibis.memtable({"customer_id": ["x", "z"], "segment": ["at_risk", "loyal"]})
>>> m = segment_migration(a, b).execute()
>>> m[m.customers > 0][["segment_from", "segment_to", "customers", "share"]].values.tolist()
[['loyal', 'at_risk', 1, 0.5], ['loyal', 'gone', 1, 0.5], ['new', 'loyal', 1, 1.0]]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis

from omnicrm.analytics.kpis import SEGMENT_COLUMNS, require_columns, to_utc
from omnicrm.errors import InputError

MIGRATION_COLUMNS: tuple[str, ...] = ("segment_from", "segment_to", "customers", "share")

SegmentAssigner = Callable[..., ibis.Table]
"""``assign(lines, *, as_of) -> table with customer_id and a segment column``."""


def segment_migration(
    before: ibis.Table,
    after: ibis.Table,
    *,
    segment_column: str | None = None,
    new_label: str = "new",
    gone_label: str = "gone",
) -> ibis.Table:
    """Migration matrix between two segment assignments, in long format.

    Parameters
    ----------
    before, after : ibis.Table
        One row per customer: ``customer_id`` and the segment column, at date A and date B.
    segment_column : str, optional
        Name of the segment column; by default the first of ``segment``, ``rfm_segment``
        present in both tables.
    new_label, gone_label : str
        Labels of the "not a customer at A" row and the "no longer segmented at B" column.

    Returns
    -------
    ibis.Table
        ``segment_from``, ``segment_to``, ``customers`` (int64), ``share`` (float64), sorted by
        ``segment_from`` then ``segment_to`` (``new`` and ``gone`` last).

    Raises
    ------
    InputError
        Missing columns, several rows for one customer, a null segment, or a segment named like
        ``new_label`` / ``gone_label``.
    """
    if new_label == gone_label:
        raise InputError(
            f"new_label and gone_label are both {new_label!r}: give them different names"
        )
    column = _segment_column(before, after, segment_column)
    for name, table in (("before", before), ("after", after)):
        _check_assignment(table, column, name, labels=(new_label, gone_label))

    a = before.select(a_id=before.customer_id, segment_from=before[column].cast("string"))
    b = after.select(b_id=after.customer_id, segment_to=after[column].cast("string"))
    moves = a.outer_join(b, a.a_id == b.b_id)
    moves = moves.select(
        segment_from=moves.segment_from.fill_null(new_label),
        segment_to=moves.segment_to.fill_null(gone_label),
    )
    counts = moves.group_by(["segment_from", "segment_to"]).aggregate(customers=moves.count())

    new_row = ibis.memtable({"segment_from": [new_label]}, schema={"segment_from": "string"})
    gone_col = ibis.memtable({"segment_to": [gone_label]}, schema={"segment_to": "string"})
    froms = ibis.union(a.select("segment_from").distinct(), new_row)
    tos = ibis.union(b.select("segment_to").distinct(), gone_col)
    grid = froms.cross_join(tos)
    grid = grid.filter(~((grid.segment_from == new_label) & (grid.segment_to == gone_label)))

    keys = ["segment_from", "segment_to"]
    cells = grid.left_join(counts, keys).drop("segment_from_right", "segment_to_right")
    customers = cells.customers.fill_null(0).cast("int64")
    cells = cells.mutate(customers=customers)
    row_total = cells.customers.sum().over(group_by=cells.segment_from)
    out = cells.mutate(
        share=cells.customers.cast("float64") / row_total.cast("float64").nullif(0.0),
        _from_last=(cells.segment_from == new_label).cast("int8"),
        _to_last=(cells.segment_to == gone_label).cast("int8"),
    )
    return out.order_by(["_from_last", "segment_from", "_to_last", "segment_to"]).select(
        *MIGRATION_COLUMNS
    )


def segment_migration_between(
    lines: ibis.Table,
    assign: SegmentAssigner,
    *,
    start: dt.date | dt.datetime | str,
    end: dt.date | dt.datetime | str,
    segment_column: str | None = None,
    new_label: str = "new",
    gone_label: str = "gone",
) -> ibis.Table:
    """Migration matrix of the segments ``assign`` gives as of ``start`` and as of ``end``.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines, passed unchanged to ``assign``.
    assign : callable
        ``assign(lines, as_of=...)`` returning one row per customer with ``customer_id`` and a
        segment column, e.g. :func:`omnicrm.analytics.scores.customer_scores` (column
        ``rfm_segment``) or a ``functools.partial`` of it with its settings.
    start, end : date, datetime or str
        Dates A and B (``start < end``); each is passed as ``as_of`` to ``assign``.
    segment_column, new_label, gone_label
        As in :func:`segment_migration`.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> lines = ibis.memtable({"customer_id": ["x", "x", "y"],
    ...                        "order_ts": [dt.datetime(2024, 1, d, tzinfo=dt.UTC)
    ...                                     for d in (2, 20, 21)]})
    >>> def by_orders(lines, *, as_of):
    ...     past = lines.filter(lines.order_ts < as_of)
    ...     n = past.group_by("customer_id").aggregate(n=past.count())
    ...     return n.select("customer_id", segment=ibis.ifelse(n.n > 1, "repeat", "single"))
    >>> m = segment_migration_between(lines, by_orders, start="2024-01-10", end="2024-02-01")
    >>> m = m.execute()
    >>> m[m.customers > 0][["segment_from", "segment_to", "customers"]].values.tolist()
    [['single', 'repeat', 1], ['new', 'single', 1]]
    """
    start_utc, end_utc = to_utc(start, name="start"), to_utc(end, name="end")
    if start_utc >= end_utc:
        raise InputError(
            f"start {start_utc.isoformat()} is not before end {end_utc.isoformat()}: "
            "give the earlier date as start"
        )
    before = assign(lines, as_of=start_utc)
    after = assign(lines, as_of=end_utc)
    return segment_migration(
        before,
        after,
        segment_column=segment_column,
        new_label=new_label,
        gone_label=gone_label,
    )


def _segment_column(before: ibis.Table, after: ibis.Table, column: str | None) -> str:
    if column is not None:
        for name, table in (("before", before), ("after", after)):
            require_columns(table, [column], what=f"segments table {name!r}")
        return column
    for candidate in SEGMENT_COLUMNS:
        if candidate in before.columns and candidate in after.columns:
            return candidate
    raise InputError(
        f"no segment column found in both tables (looked for {', '.join(SEGMENT_COLUMNS)}; "
        f"before has {', '.join(before.columns)}, after has {', '.join(after.columns)}): "
        "pass segment_column=<name>"
    )


def _check_assignment(table: ibis.Table, column: str, name: str, labels: tuple[str, str]) -> None:
    require_columns(table, ["customer_id"], what=f"segments table {name!r}")
    segment = table[column].cast("string")
    stats = table.aggregate(
        rows=table.count(),
        ids=table.customer_id.nunique(),
        null_ids=table.count(where=table.customer_id.isnull()),
        null_segments=table.count(where=segment.isnull()),
        clashes=table.count(where=segment.isin(list(labels))),
    ).execute()
    rows, ids, null_ids, null_segments, clashes = (int(v) for v in stats.iloc[0])
    if null_ids:
        raise InputError(
            f"segments table {name!r} has {null_ids} row(s) with an empty customer_id: "
            "drop anonymous rows before computing migration"
        )
    if rows != ids:
        raise InputError(
            f"segments table {name!r} has {rows} rows for {ids} customer_id values: give "
            "exactly one segment per customer"
        )
    if null_segments:
        raise InputError(
            f"segments table {name!r} has {null_segments} customer(s) with an empty "
            f"{column!r}: assign every customer a segment (or drop them)"
        )
    if clashes:
        raise InputError(
            f"segments table {name!r} uses the reserved label {labels[0]!r} or {labels[1]!r} "
            f"as a {column!r} value: pass other new_label=/gone_label= values"
        )
