"""Monthly cohort retention — golden values computed by hand.

    order  time (UTC)   customer  amount   note
    x1     2023-11-05   A          20.00
    x2     2023-11-20   B          10.00
    x3     2023-12-03   A          15.00
    x4     2023-12-10   C          40.00
    x5     2024-01-08   B         -10.00   return (B is not active in January)
    x6     2024-01-09   C          25.00
    x7     2024-01-15   -          99.00   anonymous: no cohort
    x8     2024-02-01   E          -5.00   return only: E never bought, so has no cohort
    x9     2024-02-11   A          30.00
    x10    2024-03-02   B          12.00
    x11    2024-03-20   A          50.00   after as_of

as_of = 2024-03-15, so March 2024 is a partial month.
Cohorts: November 2023 = {A, B}; December 2023 = {C}.

    cohort   k  month     active        revenue
    2023-11  0  2023-11   A B   2/2     20 + 10 = 30
    2023-11  1  2023-12   A     1/2     15
    2023-11  2  2024-01   -     0/2     -10 (B's return)
    2023-11  3  2024-02   A     1/2     30
    2023-11  4  2024-03   B     1/2     12
    2023-12  0  2023-12   C     1/1     40
    2023-12  1  2024-01   C     1/1     25
    2023-12  2  2024-02   -     0/1      0
    2023-12  3  2024-03   -     0/1      0
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.analytics.cohorts import COHORT_COLUMNS, cohort_retention
from omnicrm.errors import InputError
from omnicrm.schema import TABLES
from omnicrm.warehouse import ensure_table

AS_OF = "2024-03-15"

SALES = [
    ("x1", "2023-11-05 10:00", "A", "20.00"),
    ("x2", "2023-11-20 10:00", "B", "10.00"),
    ("x3", "2023-12-03 10:00", "A", "15.00"),
    ("x4", "2023-12-10 10:00", "C", "40.00"),
    ("x5", "2024-01-08 10:00", "B", "-10.00"),
    ("x6", "2024-01-09 10:00", "C", "25.00"),
    ("x7", "2024-01-15 10:00", None, "99.00"),
    ("x8", "2024-02-01 10:00", "E", "-5.00"),
    ("x9", "2024-02-11 10:00", "A", "30.00"),
    ("x10", "2024-03-02 10:00", "B", "12.00"),
    ("x11", "2024-03-20 10:00", "A", "50.00"),
]

EXPECTED = [
    # cohort_month, months_since, customers, active, retention, revenue
    ("2023-11-01", 0, 2, 2, 1.0, "30.00"),
    ("2023-11-01", 1, 2, 1, 0.5, "15.00"),
    ("2023-11-01", 2, 2, 0, 0.0, "-10.00"),
    ("2023-11-01", 3, 2, 1, 0.5, "30.00"),
    ("2023-11-01", 4, 2, 1, 0.5, "12.00"),
    ("2023-12-01", 0, 1, 1, 1.0, "40.00"),
    ("2023-12-01", 1, 1, 1, 1.0, "25.00"),
    ("2023-12-01", 2, 1, 0, 0.0, "0.00"),
    ("2023-12-01", 3, 1, 0, 0.0, "0.00"),
]


@pytest.fixture
def lines(warehouse):
    table = ensure_table(warehouse, TABLES["order_lines"])
    amount = [Decimal(a) for *_, a in SALES]
    df = pd.DataFrame(
        {
            "order_id": [o for o, *_ in SALES],
            "line_number": 1,
            "order_ts": pd.to_datetime([t for _, t, *_ in SALES], utc=True),
            "customer_id": [c for _, _, c, _ in SALES],
            "store_id": "s1",
            "channel": "store",
            "product_id": "p1",
            "quantity": [Decimal(1) if a > 0 else Decimal(-1) for a in amount],
            "unit_price": [abs(a) for a in amount],
            "discount_amount": Decimal("0.00"),
            "amount": amount,
            "promotion_id": None,
            "is_return": [a < 0 for a in amount],
        }
    )
    warehouse.insert("order_lines", df[list(table.columns)])
    return warehouse.table("order_lines")


def rows(expr) -> list[tuple]:
    df = expr.execute()
    assert list(df.columns) == list(COHORT_COLUMNS)
    return [
        (
            pd.Timestamp(r.cohort_month).date().isoformat(),
            int(r.months_since),
            int(r.customers),
            int(r.active),
            float(r.retention),
            str(r.revenue),
        )
        for r in df.itertuples()
    ]


def test_cohort_matrix_matches_hand_computation(lines):
    assert rows(cohort_retention(lines, as_of=AS_OF)) == EXPECTED


def test_revenue_stays_exact_decimal(lines):
    df = cohort_retention(lines, as_of=AS_OF).execute()
    assert all(isinstance(v, Decimal) for v in df.revenue)
    assert sum(df.revenue) == Decimal("142.00")  # every identified sale except E's return


def test_partial_month_can_be_left_out(lines):
    got = rows(cohort_retention(lines, as_of=AS_OF, include_partial=False))
    assert got == [
        r for r in EXPECTED if (r[0], r[1]) not in {("2023-11-01", 4), ("2023-12-01", 3)}
    ]


def test_as_of_in_the_middle_of_history_ignores_later_sales(lines):
    # as_of 2024-01-01: only November and December exist.
    got = rows(cohort_retention(lines, as_of="2024-01-01"))
    assert got == [
        ("2023-11-01", 0, 2, 2, 1.0, "30.00"),
        ("2023-11-01", 1, 2, 1, 0.5, "15.00"),
        ("2023-12-01", 0, 1, 1, 1.0, "40.00"),
    ]


def test_as_of_before_first_order_is_refused(lines):
    with pytest.raises(InputError, match="is not after the first order"):
        cohort_retention(lines, as_of=dt.date(2023, 11, 1))


def test_empty_table_is_refused(warehouse):
    empty = ensure_table(warehouse, TABLES["order_lines"])
    with pytest.raises(InputError, match="sales lines table is empty"):
        cohort_retention(empty, as_of=AS_OF)


@pytest.mark.postgres
def test_same_matrix_on_postgresql(postgres_url, lines):
    import uuid

    import ibis

    from omnicrm.warehouse import connect, ibis_schema

    con = connect(postgres_url)
    name = f"test_cohorts_lines_{uuid.uuid4().hex[:8]}"
    schema = ibis_schema(TABLES["order_lines"])
    try:
        pg = con.create_table(name, ibis.memtable(lines.execute(), schema=schema))
        assert rows(cohort_retention(pg, as_of=AS_OF)) == EXPECTED
    finally:
        con.drop_table(name, force=True)
        con.disconnect()
