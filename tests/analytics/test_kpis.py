"""KPIs per day, week and month, overall and by channel, store and segment — golden values.

The dataset below is small enough to check every figure by hand. 2024-01-01 is a Monday.
Customers A and C are loyalty members; B is not; D has no member flag.

    order line  time (UTC)         cust  store channel qty  price  disc  amount  return
    o1    1     2024-01-01 10:00   A     s1    store     2  10.00  0.00   20.00
    o1    2     2024-01-01 10:00   A     s1    store     1   5.00  1.00    4.00
    o2    1     2024-01-01 15:00   B     web   online    1  30.00  0.00   30.00
    o3    1     2024-01-02 09:00   A     web   online    1  16.00  0.00   16.00
    o4    1     2024-01-02 12:00   -     s1    store     1   8.00  0.00    8.00   (anonymous)
    o5    1     2024-01-03 11:00   B     s1    store    -1  30.00  0.00  -30.00   yes (o2, in store)
    o6    1     2024-01-09 10:00   A     s1    store     1  12.00  0.00   12.00
    o7    1     2024-01-10 10:00   C     s2    store     3  10.00  0.00   30.00
    o8    1     2024-01-10 18:00   C     s2    store     1  10.00  0.00   10.00
    o8    2     2024-01-10 18:00   C     s2    store    -1  10.00  0.00  -10.00   yes (exchange)
    o9    1     2024-02-05 10:00   A     s1    store     1  50.00  5.00   45.00
    o10   1     2024-02-06 10:00   D     web   online    2  20.00  0.00   40.00
    o11   1     2024-02-07 10:00   -     s2    store     1   6.00  0.00    6.00   (anonymous)
    o12   1     2024-02-20 10:00   D     web   online    1  25.00  0.00   25.00
    o13   1     2024-03-01 10:00   B     s1    store     1  15.00  0.00   15.00
    o14   1     2024-03-02 09:00   A     s1    store     1 100.00  0.00  100.00   (after as_of)

as_of = 2024-03-02 (midnight UTC): o14 is never used; March is a partial month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.analytics.kpis import METRICS, kpi_daily, kpi_lines, kpi_table
from omnicrm.errors import InputError
from omnicrm.schema import TABLES
from omnicrm.warehouse import ensure_table

AS_OF = dt.date(2024, 3, 2)

ROWS = [
    ("o1", 1, "2024-01-01 10:00", "A", "s1", "store", "2", "10.00", "0.00", "20.00", False),
    ("o1", 2, "2024-01-01 10:00", "A", "s1", "store", "1", "5.00", "1.00", "4.00", False),
    ("o2", 1, "2024-01-01 15:00", "B", "web", "online", "1", "30.00", "0.00", "30.00", False),
    ("o3", 1, "2024-01-02 09:00", "A", "web", "online", "1", "16.00", "0.00", "16.00", False),
    ("o4", 1, "2024-01-02 12:00", None, "s1", "store", "1", "8.00", "0.00", "8.00", False),
    ("o5", 1, "2024-01-03 11:00", "B", "s1", "store", "-1", "30.00", "0.00", "-30.00", True),
    ("o6", 1, "2024-01-09 10:00", "A", "s1", "store", "1", "12.00", "0.00", "12.00", False),
    ("o7", 1, "2024-01-10 10:00", "C", "s2", "store", "3", "10.00", "0.00", "30.00", False),
    ("o8", 1, "2024-01-10 18:00", "C", "s2", "store", "1", "10.00", "0.00", "10.00", False),
    ("o8", 2, "2024-01-10 18:00", "C", "s2", "store", "-1", "10.00", "0.00", "-10.00", True),
    ("o9", 1, "2024-02-05 10:00", "A", "s1", "store", "1", "50.00", "5.00", "45.00", False),
    ("o10", 1, "2024-02-06 10:00", "D", "web", "online", "2", "20.00", "0.00", "40.00", False),
    ("o11", 1, "2024-02-07 10:00", None, "s2", "store", "1", "6.00", "0.00", "6.00", False),
    ("o12", 1, "2024-02-20 10:00", "D", "web", "online", "1", "25.00", "0.00", "25.00", False),
    ("o13", 1, "2024-03-01 10:00", "B", "s1", "store", "1", "15.00", "0.00", "15.00", False),
    ("o14", 1, "2024-03-02 09:00", "A", "s1", "store", "1", "100.00", "0.00", "100.00", False),
]
COLUMNS = [
    "order_id", "line_number", "order_ts", "customer_id", "store_id", "channel",
    "quantity", "unit_price", "discount_amount", "amount", "is_return",
]  # fmt: skip


def lines_frame(rows=ROWS) -> pd.DataFrame:
    """The rows above as an ``order_lines``-shaped DataFrame (exact decimals, UTC times)."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["order_ts"] = pd.to_datetime(df["order_ts"], utc=True)
    for col in ("quantity", "unit_price", "discount_amount", "amount"):
        df[col] = df[col].map(Decimal)
    df["product_id"] = "p1"
    df["promotion_id"] = None
    return df


def load_lines(con, rows=ROWS):
    """Create the contract ``order_lines`` table in ``con`` and insert ``rows``."""
    table = ensure_table(con, TABLES["order_lines"])
    df = lines_frame(rows)
    con.insert("order_lines", df[list(table.columns)])
    return con.table("order_lines")


@pytest.fixture
def lines(warehouse):
    return load_lines(warehouse)


@pytest.fixture
def customers(warehouse):
    ensure_table(warehouse, TABLES["customers"])
    df = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "is_member": [True, False, True, None]})
    warehouse.insert("customers", df)
    return warehouse.table("customers")


def as_dict(expr) -> dict[tuple, float | None]:
    """{(period_start, dimension_value, metric): value} with NaN read as None."""
    df = expr.execute()
    return {
        (pd.Timestamp(r.period_start).date(), r.dimension_value, r.metric): (
            None if pd.isna(r.value) else float(r.value)
        )
        for r in df.itertuples()
    }


def check(result: dict, period: dt.date, value: str, expected: dict[str, float | None]) -> None:
    for metric, want in expected.items():
        got = result[(period, value, metric)]
        if want is None:
            assert got is None, f"{period} {value} {metric}: expected NULL, got {got}"
        else:
            assert got == pytest.approx(want, abs=1e-12), f"{period} {value} {metric}"


JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


# ---------------------------------------------------------------------------------- month
def test_monthly_overall_matches_hand_computation(lines, customers):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", members=customers))
    assert {key[0] for key in k} == {JAN, FEB, MAR}
    # January: sales 24+30+16+8+12+30+10 = 130; returns 30 (o5) + 10 (o8/2) = 40; revenue 90.
    # Purchase orders o1 o2 o3 o4 o6 o7 o8 = 7 (o5 is a pure return receipt).
    # Active A B C; all new. Orders per customer A 3, B 1, C 2 -> repeaters A, C.
    # Members A (24+16+12 = 52) and C (30+10-10 = 30): 82 / 90.
    check(k, JAN, "all", {
        "active_customers": 3, "new_customers": 3,
        "retention_rate": None, "churn_rate": None,  # nobody was active in December
        "repurchase_rate": 2 / 3, "purchase_frequency": 6 / 3,
        "orders": 7, "sales_amount": 130, "returned_amount": 40, "revenue": 90,
        "average_order_value": 130 / 7, "return_rate": 40 / 130,
        "members_revenue_share": 82 / 90,
    })  # fmt: skip
    # February: o9 A 45, o10 D 40, o11 anon 6, o12 D 25 -> 116, 4 orders. Active A D, new D.
    # Retained from January {A,B,C}: A -> 1/3. Repeaters: D (2 orders). Members: A 45.
    check(k, FEB, "all", {
        "active_customers": 2, "new_customers": 1,
        "retention_rate": 1 / 3, "churn_rate": 2 / 3,
        "repurchase_rate": 1 / 2, "purchase_frequency": 3 / 2,
        "orders": 4, "sales_amount": 116, "returned_amount": 0, "revenue": 116,
        "average_order_value": 29, "return_rate": 0,
        "members_revenue_share": 45 / 116,
    })  # fmt: skip
    # March (1 March only; o14 is on 2 March = as_of, excluded): o13 B 15.
    # B is not new (first purchase in January). February {A, D} -> March {B}: retention 0.
    check(k, MAR, "all", {
        "active_customers": 1, "new_customers": 0,
        "retention_rate": 0, "churn_rate": 1,
        "repurchase_rate": 0, "purchase_frequency": 1,
        "orders": 1, "sales_amount": 15, "returned_amount": 0, "revenue": 15,
        "average_order_value": 15, "return_rate": 0, "members_revenue_share": 0,
    })  # fmt: skip


def test_output_is_long_format_with_one_row_per_period_value_and_metric(lines, customers):
    df = kpi_table(lines, as_of=AS_OF, grain="month", members=customers).execute()
    assert list(df.columns) == [
        "period_start", "grain", "dimension", "dimension_value", "metric", "value"
    ]  # fmt: skip
    assert set(df.metric) == set(METRICS)
    assert len(df) == 3 * len(METRICS)
    assert set(df.grain) == {"month"}
    assert set(df.dimension) == {"all"}


def test_members_share_is_only_reported_when_members_are_given(lines):
    df = kpi_table(lines, as_of=AS_OF, grain="month").execute()
    assert "members_revenue_share" not in set(df.metric)
    assert len(df) == 3 * (len(METRICS) - 1)


def test_members_table_may_be_a_plain_list_of_member_ids(lines, warehouse):
    members = warehouse.create_table("members", pd.DataFrame({"customer_id": ["C"]}))
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", members=members))
    check(k, JAN, "all", {"members_revenue_share": 30 / 90})  # C: 30 + 10 - 10


def test_monthly_by_channel(lines):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", by="channel"))
    # store, January: o1 A 24, o4 anon 8, o5 B -30 (return of an online order), o6 A 12,
    # o7 C 30, o8 C 10-10. Sales 84, returns 40, revenue 44, orders o1 o4 o6 o7 o8 = 5.
    # B only returned in store in January: not an active store customer.
    check(k, JAN, "store", {
        "active_customers": 2, "new_customers": 2, "repurchase_rate": 1,
        "purchase_frequency": 2, "orders": 5, "sales_amount": 84, "returned_amount": 40,
        "revenue": 44, "average_order_value": 84 / 5, "return_rate": 40 / 84,
        "retention_rate": None,
    })  # fmt: skip
    # online, January: o2 B 30, o3 A 16.
    check(k, JAN, "online", {
        "active_customers": 2, "new_customers": 2, "repurchase_rate": 0,
        "orders": 2, "revenue": 46, "average_order_value": 23, "return_rate": 0,
    })  # fmt: skip
    # store, February: o9 A 45, o11 anon 6. Store-active January {A, C} -> February {A}.
    check(k, FEB, "store", {
        "active_customers": 1, "new_customers": 0, "retention_rate": 1 / 2,
        "churn_rate": 1 / 2, "orders": 2, "revenue": 51, "average_order_value": 25.5,
    })  # fmt: skip
    # online, February: D 40 + 25. Online January {A, B} -> February {D}: retention 0.
    check(k, FEB, "online", {
        "active_customers": 1, "new_customers": 1, "retention_rate": 0,
        "repurchase_rate": 1, "purchase_frequency": 2, "revenue": 65,
    })  # fmt: skip
    # store, March: B buys in a store for the first time -> new to the store channel.
    check(k, MAR, "store", {"active_customers": 1, "new_customers": 1, "retention_rate": 0})
    # online, March: no sale at all, still reported: zero counts, undefined ratios.
    check(k, MAR, "online", {
        "active_customers": 0, "orders": 0, "revenue": 0, "retention_rate": 0,
        "churn_rate": 1, "average_order_value": None, "repurchase_rate": None,
        "purchase_frequency": None, "return_rate": None,
    })  # fmt: skip


def test_channel_revenue_adds_up_to_the_total(lines):
    total = as_dict(kpi_table(lines, as_of=AS_OF, grain="month"))
    split = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", by="channel"))
    for month in (JAN, FEB, MAR):
        for metric in ("revenue", "orders", "sales_amount", "returned_amount"):
            parts = sum(v for (p, _, m), v in split.items() if p == month and m == metric)
            assert parts == pytest.approx(total[(month, "all", metric)])


def test_monthly_by_store_starts_at_each_stores_first_sale(lines):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", by="store_id"))
    assert {(p, v) for p, v, _ in k} == {
        (JAN, "s1"), (FEB, "s1"), (MAR, "s1"),
        (JAN, "s2"), (FEB, "s2"), (MAR, "s2"),
        (JAN, "web"), (FEB, "web"), (MAR, "web"),
    }  # fmt: skip
    # s2: January o7 + o8 (C): sales 40, returns 10; February only anonymous o11 (6.00).
    check(k, JAN, "s2", {"active_customers": 1, "orders": 2, "revenue": 30, "return_rate": 0.25})
    check(k, FEB, "s2", {"active_customers": 0, "orders": 1, "revenue": 6, "retention_rate": 0})
    # March: nothing in s2, and nobody was s2-active in February: retention undefined.
    check(k, MAR, "s2", {"revenue": 0, "retention_rate": None})


def test_monthly_by_segment(lines, warehouse):
    segments = warehouse.create_table(
        "scores",
        pd.DataFrame({"customer_id": ["A", "B", "C"],
                      "rfm_segment": ["champions", "at_risk", "champions"]}),
    )  # fmt: skip
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="month", by="segment", segments=segments))
    # champions = A + C. January revenue 52 + 30, orders 3 + 2, both repeat buyers.
    check(k, JAN, "champions", {
        "active_customers": 2, "orders": 5, "revenue": 82, "repurchase_rate": 1,
    })  # fmt: skip
    # at_risk = B. January: bought 30 online and returned it in store.
    check(k, JAN, "at_risk", {"active_customers": 1, "revenue": 0, "return_rate": 1})
    # Anonymous sales keep their revenue under "anonymous" (o4 8.00); no customer metrics.
    check(k, JAN, "anonymous", {
        "revenue": 8, "orders": 1, "active_customers": 0, "repurchase_rate": None,
    })  # fmt: skip
    # D has no segment: "unsegmented", reported from its first sale (February) on.
    check(k, FEB, "unsegmented", {"active_customers": 1, "new_customers": 1, "revenue": 65})
    assert (JAN, "unsegmented", "revenue") not in k


# ----------------------------------------------------------------------------------- week
def test_weekly_overall_weeks_start_on_monday(lines):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="week"))
    weeks = sorted({key[0] for key in k})
    assert weeks[0] == dt.date(2024, 1, 1)
    assert weeks[-1] == dt.date(2024, 2, 26)  # Monday of the week holding 1 March
    assert len(weeks) == 9
    assert all(w.weekday() == 0 for w in weeks)
    # Week of 1 Jan: o1 A 24, o2 B 30, o3 A 16, o4 anon 8, o5 B -30. Orders o1-o4.
    check(k, dt.date(2024, 1, 1), "all", {
        "active_customers": 2, "new_customers": 2, "revenue": 48, "sales_amount": 78,
        "returned_amount": 30, "orders": 4, "average_order_value": 19.5,
        "return_rate": 30 / 78, "repurchase_rate": 1 / 2, "purchase_frequency": 3 / 2,
    })  # fmt: skip
    # Week of 8 Jan: o6 A, o7 C, o8 C. {A, B} -> {A, C}: retention 1/2; C is new.
    check(k, dt.date(2024, 1, 8), "all", {
        "active_customers": 2, "new_customers": 1, "retention_rate": 1 / 2,
        "revenue": 42, "sales_amount": 52, "orders": 3, "average_order_value": 52 / 3,
    })  # fmt: skip
    # Week of 15 Jan: no sales; everyone of the week before is lost.
    check(k, dt.date(2024, 1, 15), "all", {
        "active_customers": 0, "revenue": 0, "retention_rate": 0, "churn_rate": 1,
    })  # fmt: skip
    # Week of 22 Jan: nobody was active the week before: retention undefined.
    check(k, dt.date(2024, 1, 22), "all", {"retention_rate": None})
    # Week of 5 Feb: o9 A 45, o10 D 40, o11 anon 6.
    check(k, dt.date(2024, 2, 5), "all", {
        "active_customers": 2, "new_customers": 1, "revenue": 91, "orders": 3,
    })  # fmt: skip
    # Week of 26 Feb (partial: ends after as_of): o13 B; {D} the week before -> 0.
    check(k, dt.date(2024, 2, 26), "all", {"active_customers": 1, "retention_rate": 0})


def test_partial_last_period_can_be_left_out(lines):
    weeks = kpi_table(lines, as_of=AS_OF, grain="week", include_partial=False).execute()
    assert pd.Timestamp(weeks.period_start.max()).date() == dt.date(2024, 2, 19)
    months = kpi_table(lines, as_of=AS_OF, grain="month", include_partial=False).execute()
    assert {pd.Timestamp(p).date() for p in months.period_start} == {JAN, FEB}


# ------------------------------------------------------------------------------------ day
def test_daily_overall(lines):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="day"))
    days = sorted({key[0] for key in k})
    assert (days[0], days[-1]) == (JAN, MAR)
    assert len(days) == 61  # 31 + 29 + 1 days
    check(k, dt.date(2024, 1, 1), "all", {
        "active_customers": 2, "new_customers": 2, "revenue": 54, "orders": 2,
        "average_order_value": 27, "retention_rate": None,
    })  # fmt: skip
    # 2 Jan: o3 A, o4 anonymous. {A, B} -> {A}.
    check(k, dt.date(2024, 1, 2), "all", {
        "active_customers": 1, "new_customers": 0, "revenue": 24, "orders": 2,
        "average_order_value": 12, "retention_rate": 1 / 2, "purchase_frequency": 1,
    })  # fmt: skip
    # 3 Jan: only B's return receipt: no purchase, no order, negative revenue.
    check(k, dt.date(2024, 1, 3), "all", {
        "active_customers": 0, "orders": 0, "revenue": -30, "sales_amount": 0,
        "returned_amount": 30, "average_order_value": None, "return_rate": None,
        "retention_rate": 0, "repurchase_rate": None, "purchase_frequency": None,
    })  # fmt: skip
    # 4 Jan: nothing happened; the day is still there with zeros.
    check(k, dt.date(2024, 1, 4), "all", {"revenue": 0, "orders": 0, "retention_rate": None})
    # 10 Jan: C twice (o7 30; o8 10 bought and 10 returned).
    check(k, dt.date(2024, 1, 10), "all", {
        "active_customers": 1, "new_customers": 1, "orders": 2, "repurchase_rate": 1,
        "sales_amount": 40, "returned_amount": 10, "revenue": 30, "return_rate": 0.25,
        "average_order_value": 20, "purchase_frequency": 2, "retention_rate": 0,
    })  # fmt: skip


def test_daily_members_share_is_undefined_when_revenue_is_not_positive(lines, customers):
    k = as_dict(kpi_table(lines, as_of=AS_OF, grain="day", members=customers))
    check(k, dt.date(2024, 1, 1), "all", {"members_revenue_share": 24 / 54})
    check(k, dt.date(2024, 1, 3), "all", {"members_revenue_share": None})  # revenue -30
    check(k, dt.date(2024, 1, 4), "all", {"members_revenue_share": None})  # revenue 0


def test_kpi_daily_stacks_overall_channel_and_store(lines, customers):
    df = kpi_daily(lines, as_of=AS_OF, members=customers).execute()
    assert set(df.grain) == {"day"}
    assert set(zip(df.dimension, df.dimension_value, strict=True)) == {
        ("all", "all"), ("channel", "store"), ("channel", "online"),
        ("store_id", "s1"), ("store_id", "s2"), ("store_id", "web"),
    }  # fmt: skip
    k = {
        (pd.Timestamp(r.period_start).date(), r.dimension, r.dimension_value, r.metric): r.value
        for r in df.itertuples()
    }
    assert k[(dt.date(2024, 1, 10), "store_id", "s2", "revenue")] == 30
    assert k[(dt.date(2024, 1, 1), "channel", "online", "revenue")] == 30
    assert k[(dt.date(2024, 2, 20), "all", "all", "revenue")] == 25


def test_as_of_is_exclusive_and_accepts_a_timestamp(lines):
    # 2 March 09:00 excluded, 09:00:01 included (o14 at 09:00 is the first sale of the day).
    before = as_dict(kpi_table(lines, as_of="2024-03-02T09:00:00+00:00", grain="month"))
    after = as_dict(kpi_table(lines, as_of="2024-03-02T09:00:01+00:00", grain="month"))
    assert before[(MAR, "all", "revenue")] == 15
    assert after[(MAR, "all", "revenue")] == 115
    # A time in another zone is converted to UTC: 10:00:01+01:00 is 09:00:01 UTC.
    shifted = as_dict(kpi_table(lines, as_of="2024-03-02T10:00:01+01:00", grain="month"))
    assert shifted[(MAR, "all", "revenue")] == 115


def test_identical_on_an_in_memory_table(lines):
    import ibis

    mem = ibis.memtable(lines_frame())
    assert as_dict(kpi_table(mem, as_of=AS_OF, grain="week", by="channel")) == as_dict(
        kpi_table(lines, as_of=AS_OF, grain="week", by="channel")
    )


def daily_dict(expr) -> dict[tuple, float | None]:
    """{(period_start, dimension, dimension_value, metric): value} with NaN read as None."""
    return {
        (pd.Timestamp(r.period_start).date(), r.dimension, r.dimension_value, r.metric): (
            None if pd.isna(r.value) else float(r.value)
        )
        for r in expr.execute().itertuples()
    }


def test_kpi_lines_give_the_figures_of_the_lines_with_members_and_segments(
    lines, customers, warehouse
):
    # What analyze does: the six breakdowns from the lines summed per order, day and kind.
    summed = kpi_lines(lines, as_of=AS_OF)
    # 13 orders before as_of (o14 is not), o1 with two purchase lines in one row, o8 in two
    assert summed.count().execute() == 14
    assert daily_dict(kpi_daily(summed, as_of=AS_OF, members=customers)) == daily_dict(
        kpi_daily(lines, as_of=AS_OF, members=customers)
    )
    segments = warehouse.create_table(
        "scores", pd.DataFrame({"customer_id": ["A", "B"], "rfm_segment": ["x", "y"]})
    )
    for by, extra in ((None, {}), ("channel", {}), ("segment", {"segments": segments})):
        want = kpi_table(lines, as_of=AS_OF, grain="month", by=by, members=customers, **extra)
        got = kpi_table(summed, as_of=AS_OF, grain="month", by=by, members=customers, **extra)
        assert daily_dict(got) == daily_dict(want), by


# ------------------------------------------------------------------------------ bad input
def test_as_of_before_the_first_order_is_refused(lines):
    with pytest.raises(InputError, match=r"as_of 2023-12-31.* is not after the first order"):
        kpi_table(lines, as_of="2023-12-31")
    with pytest.raises(InputError, match="not after the first order"):
        kpi_table(lines, as_of="2024-01-01T10:00:00+00:00")  # exclusive: o1 is at 10:00


def test_empty_lines_table_is_refused(warehouse):
    lines = ensure_table(warehouse, TABLES["order_lines"])
    with pytest.raises(InputError, match="sales lines table is empty"):
        kpi_table(lines, as_of=AS_OF)


@pytest.mark.parametrize("grain", ["year", "Day", ""])
def test_unknown_grain_is_refused(lines, grain):
    with pytest.raises(InputError, match=rf"grain '{grain}' is not supported: use one of day"):
        kpi_table(lines, as_of=AS_OF, grain=grain)


def test_unknown_dimension_is_refused(lines):
    with pytest.raises(InputError, match="by='region' is not a known dimension"):
        kpi_table(lines, as_of=AS_OF, by="region")


def test_segment_breakdown_needs_a_segments_table(lines, warehouse):
    with pytest.raises(InputError, match="by='segment' needs segments="):
        kpi_table(lines, as_of=AS_OF, by="segment")
    no_column = warehouse.create_table("s", pd.DataFrame({"customer_id": ["A"], "x": ["y"]}))
    with pytest.raises(InputError, match="segment column named one of segment, rfm_segment"):
        kpi_table(lines, as_of=AS_OF, by="segment", segments=no_column)
    twice = warehouse.create_table(
        "s2", pd.DataFrame({"customer_id": ["A", "A"], "segment": ["x", "y"]})
    )
    with pytest.raises(InputError, match="2 rows for 1 customer_id values"):
        kpi_table(lines, as_of=AS_OF, by="segment", segments=twice)


def test_segments_without_segment_breakdown_are_refused(lines, warehouse):
    segments = warehouse.create_table("s3", pd.DataFrame({"customer_id": ["A"], "segment": ["x"]}))
    with pytest.raises(InputError, match="segments= is only used with by='segment'"):
        kpi_table(lines, as_of=AS_OF, by="channel", segments=segments)


def test_missing_columns_are_named(warehouse):
    t = warehouse.create_table("t", pd.DataFrame({"order_id": ["o1"], "amount": [1.0]}))
    with pytest.raises(InputError, match="lacks column\\(s\\) 'order_ts', 'customer_id'"):
        kpi_table(t, as_of=AS_OF)


def test_bad_as_of_is_refused(lines):
    with pytest.raises(InputError, match="as_of '2024-13-01' is not a date"):
        kpi_table(lines, as_of="2024-13-01")
    with pytest.raises(InputError, match="as_of 20240101 is not a date"):
        kpi_table(lines, as_of=20240101)


def test_no_complete_period_without_partial_is_refused(lines):
    with pytest.raises(InputError, match="no complete month lies between"):
        kpi_table(lines, as_of="2024-01-20", grain="month", include_partial=False)


# ----------------------------------------------------------------------------- PostgreSQL
@pytest.fixture
def pg_lines(postgres_url):
    import uuid

    import ibis

    from omnicrm.warehouse import connect, ibis_schema

    con = connect(postgres_url)
    name = f"test_kpis_lines_{uuid.uuid4().hex[:8]}"
    schema = ibis_schema(TABLES["order_lines"])
    table = con.create_table(name, ibis.memtable(lines_frame()[list(schema.names)], schema=schema))
    yield table
    con.drop_table(name)
    con.disconnect()


@pytest.mark.postgres
@pytest.mark.parametrize(("grain", "by"), [("month", "channel"), ("week", None), ("day", None)])
def test_same_figures_on_postgresql(pg_lines, lines, grain, by):
    assert as_dict(kpi_table(pg_lines, as_of=AS_OF, grain=grain, by=by)) == as_dict(
        kpi_table(lines, as_of=AS_OF, grain=grain, by=by)
    )
