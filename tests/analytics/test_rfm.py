"""RFM metrics and scores — golden values computed by hand.

as_of = 2024-08-01 (midnight UTC). Five customers, one anonymous sale, one sale at as_of:

    order line time (UTC)          cust chan   prod qty amount  note
    a1   1   2024-06-01 10:00      A    store  p1    1  10.00
    a2   1   2024-07-15 18:00      A    online p2    2  40.00
    a3   1   2024-07-30 09:00      A    store  p1    1  30.00
    a3   2   2024-07-30 09:00      A    store  p3    1  20.00
    ar   1   2024-07-31 12:00      A    store  p1   -1  -5.00  return
    a4   1   2024-08-01 00:00      A    store  p1    1 1000.00 at as_of: never used
    b1   1   2024-07-25 08:00      B    app    p2    1  15.00
    b2   1   2024-07-25 20:00      B    app    p2    1   5.00
    c1   1   2024-03-01 12:00      C    store  p4    4 100.00
    d1   1   2024-07-20 10:00      D    store  p1    1   8.00
    d2   1   2024-07-25 10:00      D    store  p1    1   8.00
    d3   1   2024-07-30 10:00      D    store  p1    1   8.00
    dr   1   2024-07-31 10:00      D    store  p1   -1  -8.00  return
    e1   1   2023-12-01 10:00      E    online p5    1  60.00
    e2   1   2024-01-20 10:00      E    online p5    1  25.50
    n1   1   2024-07-01 10:00      -    store  p1    1  99.00  anonymous: no customer row

Metrics (recency = days from the last *purchase*, so returns do not refresh it):

    cust recency                 frequency  monetary               avg_order_value
    A    Aug 1 - Jul 30 = 2      3 (a1-a3)  10+40+30+20-5 = 95.00  95/3 = 31.666 -> 31.67
    B    Aug 1 - Jul 25 = 7      2          15+5 = 20.00           10.00
    C    Aug 1 - Mar 1 = 153     1          100.00                 100.00
    D    2                       3          8*3-8 = 16.00          16/3 = 5.333 -> 5.33
    E    Aug 1 - Jan 20 = 194    2          85.50                  42.75

Scores, bins = 5, n = 5: score = floor(5 * rank / 5) + 1 = rank + 1, rank = number of
customers strictly worse:

    R (fewer days is better): E 194 -> 1, C 153 -> 2, B 7 -> 3, A 2 and D 2 (tie, rank 3) -> 4
    F: C 1 -> 1, B 2 and E 2 (tie, rank 1) -> 2, A 3 and D 3 (tie, rank 3) -> 4
    M: D 16 -> 1, B 20 -> 2, E 85.50 -> 3, A 95 -> 4, C 100 -> 5
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicrm.analytics.rfm import (
    as_of_timestamp,
    quantile_score,
    rfm_metrics,
    rfm_scores,
    with_order_date,
    with_quantile_scores,
)
from omnicrm.errors import InputError
from omnicrm.warehouse import connect

AS_OF = dt.date(2024, 8, 1)

ROWS = [
    ("a1", 1, "2024-06-01 10:00", "A", "store", "p1", "1", "10.00", False),
    ("a2", 1, "2024-07-15 18:00", "A", "online", "p2", "2", "40.00", False),
    ("a3", 1, "2024-07-30 09:00", "A", "store", "p1", "1", "30.00", False),
    ("a3", 2, "2024-07-30 09:00", "A", "store", "p3", "1", "20.00", False),
    ("ar", 1, "2024-07-31 12:00", "A", "store", "p1", "-1", "-5.00", True),
    ("a4", 1, "2024-08-01 00:00", "A", "store", "p1", "1", "1000.00", False),
    ("b1", 1, "2024-07-25 08:00", "B", "app", "p2", "1", "15.00", False),
    ("b2", 1, "2024-07-25 20:00", "B", "app", "p2", "1", "5.00", False),
    ("c1", 1, "2024-03-01 12:00", "C", "store", "p4", "4", "100.00", False),
    ("d1", 1, "2024-07-20 10:00", "D", "store", "p1", "1", "8.00", False),
    ("d2", 1, "2024-07-25 10:00", "D", "store", "p1", "1", "8.00", False),
    ("d3", 1, "2024-07-30 10:00", "D", "store", "p1", "1", "8.00", False),
    ("dr", 1, "2024-07-31 10:00", "D", "store", "p1", "-1", "-8.00", True),
    ("e1", 1, "2023-12-01 10:00", "E", "online", "p5", "1", "60.00", False),
    ("e2", 1, "2024-01-20 10:00", "E", "online", "p5", "1", "25.50", False),
    ("n1", 1, "2024-07-01 10:00", None, "store", "p1", "1", "99.00", False),
]
COLUMNS = [
    "order_id", "line_number", "order_ts", "customer_id", "channel", "product_id",
    "quantity", "amount", "is_return",
]  # fmt: skip


def golden_frame(rows=ROWS) -> pd.DataFrame:
    """The rows as an order_lines-shaped frame (exact decimals, UTC times)."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["order_ts"] = pd.to_datetime(df["order_ts"], utc=True)
    df["quantity"] = df["quantity"].map(Decimal)
    df["amount"] = df["amount"].map(Decimal)
    df["unit_price"] = (df["amount"] / df["quantity"]).abs()
    df["discount_amount"] = Decimal("0.00")
    df["store_id"] = "s1"
    return df


@pytest.fixture
def con():
    con = connect("duckdb://:memory:")
    yield con
    con.disconnect()


@pytest.fixture
def lines(con, load_lines):
    return load_lines(con, golden_frame())


def by_customer(table: ibis.Table) -> pd.DataFrame:
    return table.execute().set_index("customer_id").sort_index()


def test_metrics_match_the_hand_computed_golden_values(lines):
    m = by_customer(rfm_metrics(lines, as_of=AS_OF))
    assert list(m.index) == ["A", "B", "C", "D", "E"]  # anonymous n1 has no row
    assert m.recency_days.to_dict() == {"A": 2, "B": 7, "C": 153, "D": 2, "E": 194}
    assert m.frequency.to_dict() == {"A": 3, "B": 2, "C": 1, "D": 3, "E": 2}
    assert m.monetary.to_dict() == {
        "A": Decimal("95.00"),
        "B": Decimal("20.00"),
        "C": Decimal("100.00"),
        "D": Decimal("16.00"),
        "E": Decimal("85.50"),
    }
    assert m.avg_order_value.to_dict() == {
        "A": Decimal("31.67"),
        "B": Decimal("10.00"),
        "C": Decimal("100.00"),
        "D": Decimal("5.33"),
        "E": Decimal("42.75"),
    }


def test_first_and_last_purchase_ignore_returns_and_lines_at_as_of(lines):
    m = by_customer(rfm_metrics(lines, as_of=AS_OF))
    # A's return on Jul 31 and the 1000.00 sale at exactly as_of are not purchases in window.
    assert m.loc["A", "first_purchase_ts"] == pd.Timestamp("2024-06-01 10:00", tz="UTC")
    assert m.loc["A", "last_purchase_ts"] == pd.Timestamp("2024-07-30 09:00", tz="UTC")
    assert m.loc["B", "last_purchase_ts"] == pd.Timestamp("2024-07-25 20:00", tz="UTC")


def test_scores_match_the_hand_computed_golden_values_with_ties(lines):
    s = by_customer(rfm_scores(rfm_metrics(lines, as_of=AS_OF), bins=5))
    assert s.r_score.to_dict() == {"A": 4, "B": 3, "C": 2, "D": 4, "E": 1}
    assert s.f_score.to_dict() == {"A": 4, "B": 2, "C": 1, "D": 4, "E": 2}
    assert s.m_score.to_dict() == {"A": 4, "B": 2, "C": 5, "D": 1, "E": 3}


def test_an_earlier_as_of_sees_only_earlier_history(lines):
    # As of 2024-07-01: A has a1 only (30 days), C and E as before, B and D not yet customers.
    m = by_customer(rfm_metrics(lines, as_of="2024-07-01"))
    assert list(m.index) == ["A", "C", "E"]
    assert m.recency_days.to_dict() == {"A": 30, "C": 122, "E": 163}
    assert m.monetary.to_dict() == {
        "A": Decimal("10.00"),
        "C": Decimal("100.00"),
        "E": Decimal("85.50"),
    }


def test_average_order_value_rounds_half_away_from_zero(con, load_lines):
    # X: 10.00 bought, 10.05 returned -> -0.05 over 2 orders = -0.025 -> -0.03.
    # Y: 0.05 over 2 orders = 0.025 -> 0.03.
    rows = [
        ("x1", 1, "2024-07-01 10:00", "X", "store", "p1", "1", "10.00", False),
        ("x2", 1, "2024-07-02 10:00", "X", "store", "p1", "1", "0.00", False),
        ("x3", 1, "2024-07-03 10:00", "X", "store", "p1", "-1", "-10.05", True),
        ("y1", 1, "2024-07-01 10:00", "Y", "store", "p1", "1", "0.02", False),
        ("y2", 1, "2024-07-02 10:00", "Y", "store", "p1", "1", "0.03", False),
    ]
    m = by_customer(rfm_metrics(load_lines(con, golden_frame(rows)), as_of=AS_OF))
    assert m.avg_order_value.to_dict() == {"X": Decimal("-0.03"), "Y": Decimal("0.03")}
    assert m.monetary.to_dict() == {"X": Decimal("-0.05"), "Y": Decimal("0.05")}


def test_a_customer_with_only_returns_in_the_window_has_no_row(con, load_lines):
    rows = [
        ("z1", 1, "2024-07-03 10:00", "Z", "store", "p1", "-1", "-10.00", True),
        ("y1", 1, "2024-07-01 10:00", "Y", "store", "p1", "1", "5.00", False),
    ]
    m = by_customer(rfm_metrics(load_lines(con, golden_frame(rows)), as_of=AS_OF))
    assert list(m.index) == ["Y"]


def test_as_of_before_the_first_order_names_both_dates(lines):
    with pytest.raises(
        InputError, match=r"as_of 2020-01-01 is before the first order \(2023-12-01"
    ):
        rfm_metrics(lines, as_of="2020-01-01")


def test_as_of_at_the_first_order_is_rejected_too(lines):
    with pytest.raises(InputError, match="is the time of the first order"):
        rfm_metrics(lines, as_of=dt.datetime(2023, 12, 1, 10, 0, tzinfo=dt.UTC))


def test_an_empty_table_is_a_clear_error(con, load_lines):
    empty = load_lines(con, golden_frame([]))
    with pytest.raises(InputError, match="the sales lines table is empty"):
        rfm_metrics(empty, as_of=AS_OF)


def test_only_anonymous_sales_is_a_clear_error(con, load_lines):
    rows = [("n1", 1, "2024-07-01 10:00", None, "store", "p1", "1", "9.00", False)]
    with pytest.raises(InputError, match="no sales line has a customer_id"):
        rfm_metrics(load_lines(con, golden_frame(rows)), as_of=AS_OF)


def test_identified_sales_only_after_as_of_is_a_clear_error(con, load_lines):
    rows = [
        ("n1", 1, "2024-07-01 10:00", None, "store", "p1", "1", "9.00", False),
        ("k1", 1, "2024-07-20 10:00", "A", "store", "p1", "1", "9.00", False),
    ]
    with pytest.raises(
        InputError, match=r"no sales line with a customer_id is before as_of 2024-07-10"
    ):
        rfm_metrics(load_lines(con, golden_frame(rows)), as_of="2024-07-10")


def test_missing_columns_are_named(lines):
    with pytest.raises(InputError, match=r"lacks column.*amount"):
        rfm_metrics(lines.drop("amount"), as_of=AS_OF)


@pytest.mark.parametrize("bad", ["next tuesday", 20240801, pd.NaT, None])
def test_as_of_that_is_not_a_date_is_rejected(bad):
    with pytest.raises(InputError, match="as_of"):
        as_of_timestamp(bad)


def test_as_of_forms_are_normalised_to_utc():
    utc = dt.datetime(2024, 8, 1, tzinfo=dt.UTC)
    assert as_of_timestamp(dt.date(2024, 8, 1)) == utc
    assert as_of_timestamp("2024-08-01") == utc
    assert as_of_timestamp(dt.datetime(2024, 8, 1)) == utc
    cst = dt.timezone(dt.timedelta(hours=8))
    assert as_of_timestamp(dt.datetime(2024, 8, 1, 8, tzinfo=cst)) == utc


@pytest.mark.parametrize("bins", [1, 0, 101, 2.5, True])
def test_bins_out_of_range_are_rejected(lines, bins):
    with pytest.raises(InputError, match="bins"):
        rfm_scores(rfm_metrics(lines, as_of=AS_OF), bins=bins)


def test_quantile_score_equals_ntile_when_n_is_a_multiple_of_bins(con):
    t = con.create_table("v", ibis.memtable({"x": [7, 3, 9, 1, 4, 8, 2, 6, 5, 10]}))
    out = t.mutate(
        s=quantile_score(t.x, 5),
        ntile=ibis.ntile(5).over(ibis.window(order_by=t.x)) + 1,
    ).execute()
    assert out.s.tolist() == out.ntile.tolist()


def test_quantile_score_gives_nulls_a_null_score_and_ignores_them(con):
    t = con.create_table("v", ibis.memtable({"x": [1.0, None, 2.0]}))
    out = t.mutate(s=quantile_score(t.x, 2)).execute().sort_values("x")
    assert out.s.tolist()[:2] == [1, 2]
    assert pd.isna(out.s.tolist()[2])


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-50, max_value=50), min_size=1, max_size=40),
    bins=st.integers(min_value=2, max_value=7),
)
def test_quantile_scores_are_monotone_tie_stable_and_balanced(values, bins):
    t = ibis.memtable({"x": values})
    out = t.mutate(s=quantile_score(t.x, bins)).execute()
    pairs = sorted(zip(out.x, out.s, strict=True))
    assert all(1 <= s <= bins for _, s in pairs)
    for (x1, s1), (x2, s2) in itertools.pairwise(pairs):
        assert s1 <= s2
        if x1 == x2:
            assert s1 == s2
    # Reference: rank = count of strictly smaller values.
    for x, s in pairs:
        rank = sum(v < x for v in values)
        assert s == bins * rank // len(values) + 1
    if len(set(values)) == len(values):
        sizes = pd.Series([s for _, s in pairs]).value_counts()
        assert sizes.max() - sizes.min() <= 1 or len(sizes) < bins


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.integers(min_value=-20, max_value=20)), min_size=1, max_size=40
    ),
    bins=st.integers(min_value=2, max_value=7),
    higher_is_better=st.booleans(),
)
def test_scores_from_value_counts_equal_the_window_scores(values, bins, higher_is_better):
    t = ibis.memtable(
        {"i": list(range(len(values))), "x": values}, schema={"i": "int64", "x": "int64"}
    )
    windowed = t.mutate(w=quantile_score(t.x, bins, higher_is_better=higher_is_better))
    out = with_quantile_scores(windowed, {"s": ("x", higher_is_better)}, bins)
    df = out.execute().sort_values("i")
    assert len(df) == len(values)

    def ints(column):
        return [None if pd.isna(v) else int(v) for v in column]

    assert ints(df.s) == ints(df.w)
    assert [v is None for v in ints(df.s)] == [v is None for v in values]


def test_a_precomputed_utc_order_date_gives_the_same_metrics(con, load_lines):
    # A purchase at 23:30 UTC belongs to that UTC day, whether the date is taken per line or
    # read from the order_date_utc column that analyze materialises once.
    rows = [*ROWS, ("f1", 1, "2024-07-29 23:30", "F", "store", "p1", "1", "7.00", False)]
    lines = load_lines(con, golden_frame(rows))
    plain = by_customer(rfm_metrics(lines, as_of=AS_OF))
    dated = by_customer(rfm_metrics(with_order_date(lines), as_of=AS_OF))
    pd.testing.assert_frame_equal(dated[plain.columns], plain)
    assert plain.loc["F", "recency_days"] == 3
