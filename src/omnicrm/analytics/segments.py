"""Named RFM segments (Champions, Loyal, … Lost) from an editable table of score ranges.

The segment map is data: a CSV with one row per segment and the columns

``segment, label_zh, r_min, r_max, f_min, f_max, description, action``

Each row claims the rectangle of score cells ``r_min <= r_score <= r_max`` and
``f_min <= f_score <= f_max``. Instead of ``f_min, f_max`` a table may use ``fm_min, fm_max``:
the second axis is then the combined frequency–monetary score
``fm_score = floor((f_score + m_score + 1) / 2)`` (their mean, halves rounded up), as in the
R × FM grids popularised by Putler. The grid is ``1..bins`` on both axes, where ``bins`` is the
largest bound in the table; every cell must be covered by exactly one row, otherwise
:class:`~omnicrm.errors.InputError` names the uncovered or doubly-covered cells and the rows
involved. The shipped table (``config/rfm_segments.csv``) is an R × F map of eleven segments
with Chinese labels for the zh report; copy and edit it to change the segments.

Examples
--------
>>> import ibis
>>> from omnicrm.analytics.segments import SegmentTable, rfm_segments
>>> table = SegmentTable.default()
>>> table.bins, table.axis, len(table.rules)
(5, 'f', 11)
>>> table.segment_of(5, 5), table.labels("zh")["Champions"]
('Champions', '重要价值客户')
>>> scores = ibis.memtable({"r_score": [5, 1], "f_score": [5, 1], "m_score": [3, 2]})
>>> rfm_segments(scores, table).rfm_segment.execute().tolist()
['Champions', 'Lost']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import ibis

from omnicrm.analytics.rfm import require_columns
from omnicrm.errors import InputError

TEXT_COLUMNS: tuple[str, ...] = ("segment", "label_zh", "description", "action")
"""Text columns of a segment table (``segment`` and ``label_zh`` must not be empty)."""

AXES: dict[str, str] = {"f": "f_score", "fm": "fm_score"}
"""Second axis of the grid: its column prefix in the CSV and the score it reads."""

_MAX_LISTED = 12


@dataclass(frozen=True)
class SegmentRule:
    """One row of a segment table: a named rectangle of (recency, second-axis) score cells."""

    segment: str
    label_zh: str
    r_min: int
    r_max: int
    y_min: int
    y_max: int
    description: str = ""
    action: str = ""
    line: int = 0
    """Line of the row in its file (header = line 1), for error messages."""

    def covers(self, r: int, y: int) -> bool:
        """Whether the cell ``(r, y)`` lies in this rule's rectangle."""
        return self.r_min <= r <= self.r_max and self.y_min <= y <= self.y_max

    def cells(self) -> Iterable[tuple[int, int]]:
        """Every ``(r, y)`` cell of the rectangle."""
        for r in range(self.r_min, self.r_max + 1):
            for y in range(self.y_min, self.y_max + 1):
                yield r, y


@dataclass(frozen=True)
class SegmentTable:
    """A validated segment map: rules partition the ``bins`` x ``bins`` score grid.

    Build it with :meth:`default`, :meth:`from_csv` or :meth:`from_records`; the constructor
    validates (ranges, duplicates, gaps, overlaps) and raises :class:`InputError`.
    """

    rules: tuple[SegmentRule, ...]
    axis: str = "f"
    source: str = "segment table"

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def bins(self) -> int:
        """Number of score groups the table is written for (its largest bound)."""
        return max(max(rule.r_max, rule.y_max) for rule in self.rules)

    @property
    def axis_score(self) -> str:
        """Name of the score on the second axis (``f_score`` or ``fm_score``)."""
        return AXES[self.axis]

    @classmethod
    def default(cls) -> SegmentTable:
        """The shipped eleven-segment R × F map (``config/rfm_segments.csv``)."""
        ref = resources.files("omnicrm.analytics").joinpath("config/rfm_segments.csv")
        return cls.from_text(ref.read_text(encoding="utf-8"), source="rfm_segments.csv")

    @classmethod
    def from_csv(cls, path: str | Path) -> SegmentTable:
        """Read and validate a segment table from a CSV file (UTF-8, Excel BOM accepted)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(
                f"segment table {str(path)!r} does not exist: give the path of a CSV like "
                "omnicrm/analytics/config/rfm_segments.csv"
            ) from None
        except UnicodeDecodeError:
            raise InputError(
                f"segment table {str(path)!r} is not UTF-8 text: save it as CSV UTF-8"
            ) from None
        return cls.from_text(text, source=path.name)

    @classmethod
    def from_text(cls, text: str, *, source: str = "segment table") -> SegmentTable:
        """Parse and validate CSV text."""
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        records = []
        for row in reader:
            records.append({k: v for k, v in row.items() if k is not None})
        return cls.from_records(records, source=source, header=header)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        *,
        source: str = "segment table",
        header: Iterable[str] | None = None,
    ) -> SegmentTable:
        """Build from dicts with the CSV's columns; record ``i`` is reported as line ``i + 2``."""
        records = list(records)
        columns = list(header) if header is not None else list(records[0]) if records else []
        axis = _axis_of(columns, source)
        lo, hi = f"{axis}_min", f"{axis}_max"
        needed = [*TEXT_COLUMNS[:2], "r_min", "r_max", lo, hi]
        missing = [c for c in needed if c not in columns]
        if missing:
            raise InputError(
                f"{source}: missing column(s) {', '.join(missing)}; a segment table has the "
                f"columns {', '.join([*TEXT_COLUMNS[:2], 'r_min', 'r_max', lo, hi])}"
                ", description, action"
            )
        if not records:
            raise InputError(f"{source}: the table has no rows; add one row per segment")
        rules = []
        for i, rec in enumerate(records):
            line = i + 2
            bounds = {c: _int_cell(rec.get(c), c, line, source) for c in ("r_min", "r_max", lo, hi)}
            text = {c: str(rec.get(c) or "").strip() for c in TEXT_COLUMNS}
            for c in TEXT_COLUMNS[:2]:
                if not text[c]:
                    raise InputError(f"{source} line {line}: column {c} is empty; fill it in")
            rules.append(
                SegmentRule(
                    segment=text["segment"],
                    label_zh=text["label_zh"],
                    r_min=bounds["r_min"],
                    r_max=bounds["r_max"],
                    y_min=bounds[lo],
                    y_max=bounds[hi],
                    description=text["description"],
                    action=text["action"],
                    line=line,
                )
            )
        return cls(tuple(rules), axis=axis, source=source)

    def segment_of(self, r_score: int, y_score: int) -> str:
        """The segment of one cell (``y_score`` is the F or FM score, per :attr:`axis`)."""
        for rule in self.rules:
            if rule.covers(r_score, y_score):
                return rule.segment
        raise InputError(
            f"score cell (r={r_score}, {self.axis}={y_score}) is outside the {self.bins} x "
            f"{self.bins} grid of {self.source}; scores run from 1 to {self.bins}"
        )

    def labels(self, lang: str = "en") -> dict[str, str]:
        """Display label of each segment: the name (``en``) or the Chinese label (``zh``)."""
        if lang == "en":
            return {rule.segment: rule.segment for rule in self.rules}
        if lang == "zh":
            return {rule.segment: rule.label_zh for rule in self.rules}
        raise InputError(f"language {lang!r} has no segment labels; use 'en' or 'zh'")

    def actions(self) -> dict[str, str]:
        """Suggested action per segment."""
        return {rule.segment: rule.action for rule in self.rules}


def _axis_of(columns: list[str], source: str) -> str:
    found = [axis for axis in AXES if f"{axis}_min" in columns or f"{axis}_max" in columns]
    if len(found) != 1:
        pairs = ("both f_min/f_max and" if found else "neither f_min/f_max nor") + " fm_min/fm_max"
        raise InputError(
            f"{source}: the header has {pairs}; give exactly one pair: f_min, f_max "
            "(R x F grid) or fm_min, fm_max (R x FM grid)"
        )
    return found[0]


def _int_cell(value: object, column: str, line: int, source: str) -> int:
    text = str(value if value is not None else "").strip()
    try:
        number = int(text)
    except ValueError:
        raise InputError(
            f"{source} line {line}: {column} {text!r} is not a whole number; scores are "
            "integers such as 1 or 5"
        ) from None
    return number


def _validate(table: SegmentTable) -> None:
    source, rules = table.source, table.rules
    if table.axis not in AXES:
        raise InputError(f"{source}: axis {table.axis!r} is not one of {', '.join(AXES)}")
    if not rules:
        raise InputError(f"{source}: the table has no rows; add one row per segment")
    y = table.axis
    for rule in rules:
        for name, lo, hi in (("r", rule.r_min, rule.r_max), (y, rule.y_min, rule.y_max)):
            if lo < 1 or hi < lo:
                raise InputError(
                    f"{source} line {rule.line} ({rule.segment}): {name}_min {lo} and "
                    f"{name}_max {hi} are not a range; need 1 <= {name}_min <= {name}_max"
                )
    seen: dict[str, int] = {}
    for rule in rules:
        if rule.segment in seen:
            raise InputError(
                f"{source}: segment {rule.segment!r} appears on lines {seen[rule.segment]} "
                f"and {rule.line}; give each segment one row (one rectangle of scores)"
            )
        seen[rule.segment] = rule.line
    bins = table.bins
    owners: dict[tuple[int, int], list[SegmentRule]] = {
        (r, f): [] for r in range(1, bins + 1) for f in range(1, bins + 1)
    }
    for rule in rules:
        for cell in rule.cells():
            owners[cell].append(rule)
    gaps = [cell for cell, who in owners.items() if not who]
    overlaps = {cell: who for cell, who in owners.items() if len(who) > 1}
    problems = []
    if gaps:
        listed = ", ".join(f"(r={r}, {y}={f})" for r, f in gaps[:_MAX_LISTED])
        more = f" and {len(gaps) - _MAX_LISTED} more" if len(gaps) > _MAX_LISTED else ""
        problems.append(
            f"{len(gaps)} score cell(s) covered by no row: {listed}{more} "
            "(add a row for them or widen a neighbouring range)"
        )
    if overlaps:
        items = list(overlaps.items())
        listed = "; ".join(
            f"(r={r}, {y}={f}) by " + " and ".join(f"line {w.line} ({w.segment})" for w in who)
            for (r, f), who in items[:_MAX_LISTED]
        )
        more = f"; and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
        problems.append(
            f"{len(items)} score cell(s) covered by more than one row: {listed}{more} "
            "(narrow the ranges so that each cell has one segment)"
        )
    if problems:
        raise InputError(
            f"{source}: the segments must cover the {bins} x {bins} grid of r and {y} scores "
            f"exactly once; " + "; ".join(problems)
        )


def fm_score(f_score: ibis.Value, m_score: ibis.Value) -> ibis.Value:
    """Combined frequency–monetary score: the mean of F and M, halves rounded up."""
    return ((f_score + m_score + 1) // 2).cast("int64")


def rfm_segments(scores: ibis.Table, table: SegmentTable | None = None) -> ibis.Table:
    """Add the column ``rfm_segment`` (the segment name) to a table of RFM scores.

    Parameters
    ----------
    scores : ibis.Table
        A table with ``r_score`` and ``f_score`` (and ``m_score`` for an FM table), such as
        the output of :func:`omnicrm.analytics.rfm.rfm_scores` with ``bins=table.bins``.
    table : SegmentTable, optional
        The segment map; default :meth:`SegmentTable.default`.

    Returns
    -------
    ibis.Table
        ``scores`` plus ``rfm_segment`` (null where a score is null).
    """
    table = table or SegmentTable.default()
    needed = ("r_score", "f_score", "m_score") if table.axis == "fm" else ("r_score", "f_score")
    require_columns(scores, needed, "the RFM scores table")
    r = scores.r_score
    y = fm_score(scores.f_score, scores.m_score) if table.axis == "fm" else scores.f_score
    branches = [
        (r.between(rule.r_min, rule.r_max) & y.between(rule.y_min, rule.y_max), rule.segment)
        for rule in table.rules
    ]
    return scores.mutate(rfm_segment=ibis.cases(*branches, else_=ibis.null("string")))


def segment_summary(scores: ibis.Table, by: str = "rfm_segment") -> ibis.Table:
    """Customers, spend and average RFM per group of ``by``, largest group first.

    Parameters
    ----------
    scores : ibis.Table
        One row per customer with ``by``, ``recency_days``, ``frequency`` and ``monetary``
        (e.g. :func:`omnicrm.analytics.scores.customer_scores`).
    by : str
        Grouping column: ``rfm_segment``, ``value_tier``, ``lifecycle_stage``, ``cluster`` …

    Returns
    -------
    ibis.Table
        ``by``, ``customers``, ``customer_share``, ``monetary`` (sum, DECIMAL),
        ``monetary_share``, ``avg_recency_days``, ``avg_frequency``; shares are fractions of
        all customers and of all net spend (0 when the total is 0).

    Examples
    --------
    >>> import ibis
    >>> scores = ibis.memtable({"rfm_segment": ["Lost", "Champions", "Lost"],
    ...                         "recency_days": [300, 2, 200], "frequency": [1, 9, 2],
    ...                         "monetary": [10.0, 70.0, 20.0]})
    >>> segment_summary(scores).execute()[["rfm_segment", "customers", "monetary_share"]]
      rfm_segment  customers  monetary_share
    0        Lost          2             0.3
    1   Champions          1             0.7
    """
    require_columns(scores, (by, "recency_days", "frequency", "monetary"), "the scores table")
    groups = scores.group_by(by).aggregate(
        customers=scores.count(),
        monetary=scores.monetary.sum(),
        avg_recency_days=scores.recency_days.cast("float64").mean(),
        avg_frequency=scores.frequency.cast("float64").mean(),
    )
    everyone = ibis.window()
    total_customers = groups.customers.sum().over(everyone)
    total_money = groups.monetary.cast("float64").sum().over(everyone)
    money_share = ibis.ifelse(total_money == 0, 0.0, groups.monetary.cast("float64") / total_money)
    shares = groups.mutate(
        customer_share=groups.customers.cast("float64") / total_customers,
        monetary_share=money_share,
    )
    columns = [by, "customers", "customer_share", "monetary", "monetary_share"]
    return shares.select(*columns, "avg_recency_days", "avg_frequency").order_by(
        [ibis.desc("customers"), by]
    )
