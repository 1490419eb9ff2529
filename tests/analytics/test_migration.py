"""Segment migration matrix — golden values computed by hand.

customer  segment at A   segment at B
A         champion       champion
F         champion       champion
E         champion       loyal
C         loyal          at_risk
B         at_risk        -            -> gone
D         -              promising    -> new

from \\ to   at_risk  champion  loyal  promising  gone   row total
at_risk         0        0        0        0        1       1
champion        0        2        1        0        0       3
loyal           1        0        0        0        0       1
new             0        0        0        1        -       1
"""

from __future__ import annotations

import datetime as dt
import functools

import ibis
import pandas as pd
import pytest

from omnicrm.analytics.migration import (
    MIGRATION_COLUMNS,
    segment_migration,
    segment_migration_between,
)
from omnicrm.errors import InputError

BEFORE = {"A": "champion", "F": "champion", "E": "champion", "C": "loyal", "B": "at_risk"}
AFTER = {"A": "champion", "F": "champion", "E": "loyal", "C": "at_risk", "D": "promising"}


def segments(mapping: dict[str, str], column: str = "segment") -> ibis.Table:
    return ibis.memtable({"customer_id": list(mapping), column: list(mapping.values())})


def matrix(expr) -> dict[tuple[str, str], tuple[int, float | None]]:
    df = expr.execute()
    assert list(df.columns) == list(MIGRATION_COLUMNS)
    return {
        (r.segment_from, r.segment_to): (int(r.customers), None if pd.isna(r.share) else r.share)
        for r in df.itertuples()
    }


def test_migration_matrix_matches_hand_computation():
    m = matrix(segment_migration(segments(BEFORE), segments(AFTER)))
    froms = ["at_risk", "champion", "loyal", "new"]
    tos = ["at_risk", "champion", "loyal", "promising", "gone"]
    assert set(m) == {(f, t) for f in froms for t in tos} - {("new", "gone")}
    nonzero = {k: v for k, v in m.items() if v[0]}
    assert nonzero == {
        ("at_risk", "gone"): (1, 1.0),
        ("champion", "champion"): (2, pytest.approx(2 / 3)),
        ("champion", "loyal"): (1, pytest.approx(1 / 3)),
        ("loyal", "at_risk"): (1, 1.0),
        ("new", "promising"): (1, 1.0),
    }
    assert m[("champion", "at_risk")] == (0, 0.0)


def test_rows_sum_to_one_and_counts_to_the_customers_seen():
    df = segment_migration(segments(BEFORE), segments(AFTER)).execute()
    assert df.groupby("segment_from").share.sum().tolist() == pytest.approx([1.0] * 4)
    assert df.customers.sum() == len(BEFORE.keys() | AFTER.keys())


def test_rows_are_sorted_with_new_and_gone_last():
    df = segment_migration(segments(BEFORE), segments(AFTER)).execute()
    assert df.segment_from.iloc[-1] == "new"
    champion = df[df.segment_from == "champion"].segment_to.tolist()
    assert champion == ["at_risk", "champion", "loyal", "promising", "gone"]


def test_empty_new_row_has_undefined_share():
    same = segments({"A": "x"})
    m = matrix(segment_migration(same, same))
    assert m == {("x", "x"): (1, 1.0), ("x", "gone"): (0, 0.0), ("new", "x"): (0, None)}


def test_rfm_segment_column_is_found_and_labels_can_be_changed():
    m = matrix(
        segment_migration(
            segments(BEFORE, "rfm_segment"),
            segments(AFTER, "rfm_segment"),
            new_label="(acquired)",
            gone_label="(lost)",
        )
    )
    assert m[("(acquired)", "promising")] == (1, 1.0)
    assert m[("at_risk", "(lost)")] == (1, 1.0)


def by_purchase_orders(lines: ibis.Table, *, as_of: dt.datetime) -> ibis.Table:
    """Stand-in segmenting function: 'repeat' with 2+ orders before as_of, else 'single'."""
    past = lines.filter(lines.order_ts < as_of)
    n = past.group_by("customer_id").aggregate(orders=past.order_id.nunique())
    return n.select("customer_id", segment=ibis.ifelse(n.orders >= 2, "repeat", "single"))


def test_migration_between_two_dates_with_a_segmenting_function():
    # as of 1 Feb: P 2 orders (repeat), Q 1 (single), R 1 (single).
    # as of 1 Mar: P 2 (repeat), Q 2 (repeat), R 1 (single), S 1 (single, new).
    lines = ibis.memtable(
        {
            "order_id": ["1", "2", "3", "4", "5", "6"],
            "customer_id": ["P", "P", "Q", "R", "Q", "S"],
            "order_ts": pd.to_datetime(
                ["2024-01-02", "2024-01-05", "2024-01-07", "2024-01-20", "2024-02-03",
                 "2024-02-10"], utc=True,
            ),
        }
    )  # fmt: skip
    m = matrix(segment_migration_between(
        lines, by_purchase_orders, start="2024-02-01", end=dt.date(2024, 3, 1)
    ))  # fmt: skip
    assert {k: v for k, v in m.items() if v[0]} == {
        ("repeat", "repeat"): (1, 1.0),
        ("single", "repeat"): (1, 0.5),
        ("single", "single"): (1, 0.5),
        ("new", "single"): (1, 1.0),
    }


def test_segmenting_function_settings_can_be_bound_with_partial():
    calls = []

    def assign(lines, *, as_of, threshold):
        calls.append((as_of, threshold))
        return segments(BEFORE if len(calls) == 1 else AFTER)

    segment_migration_between(
        ibis.memtable({"customer_id": ["A"]}),
        functools.partial(assign, threshold=3),
        start="2024-01-01",
        end="2024-02-01",
    ).execute()
    assert calls == [
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 3),
        (dt.datetime(2024, 2, 1, tzinfo=dt.UTC), 3),
    ]


# ------------------------------------------------------------------------------ bad input
def test_start_must_be_before_end():
    with pytest.raises(InputError, match=r"start 2024-02-01.* is not before end 2024-01-01"):
        segment_migration_between(
            ibis.memtable({"customer_id": ["A"]}), by_purchase_orders,
            start="2024-02-01", end="2024-01-01",
        )  # fmt: skip


def test_duplicate_customers_are_refused():
    twice = ibis.memtable({"customer_id": ["A", "A"], "segment": ["x", "y"]})
    with pytest.raises(InputError, match="'before' has 2 rows for 1 customer_id values"):
        segment_migration(twice, segments(AFTER))


def test_reserved_labels_are_refused():
    clash = segments({"A": "new"})
    with pytest.raises(InputError, match="uses the reserved label 'new' or 'gone'"):
        segment_migration(segments(BEFORE), clash)
    with pytest.raises(InputError, match="new_label and gone_label are both 'x'"):
        segment_migration(segments(BEFORE), segments(AFTER), new_label="x", gone_label="x")


def test_null_segments_and_ids_are_refused():
    no_segment = ibis.memtable(
        {"customer_id": ["A"], "segment": [None]},
        schema={"customer_id": "string", "segment": "string"},
    )
    with pytest.raises(InputError, match="1 customer\\(s\\) with an empty 'segment'"):
        segment_migration(no_segment, segments(AFTER))
    no_id = ibis.memtable(
        {"customer_id": [None], "segment": ["x"]},
        schema={"customer_id": "string", "segment": "string"},
    )
    with pytest.raises(InputError, match="row\\(s\\) with an empty customer_id"):
        segment_migration(segments(BEFORE), no_id)


def test_missing_segment_column_is_named():
    with pytest.raises(InputError, match="no segment column found in both tables"):
        segment_migration(segments(BEFORE), segments(AFTER, "tier"))
    with pytest.raises(InputError, match="segments table 'after' lacks column\\(s\\) 'tier'"):
        segment_migration(segments(BEFORE, "tier"), segments(AFTER), segment_column="tier")
