"""Cancelled online orders are reversed by a cancellation receipt ``C`` + order id.

The cancelled order keeps ``is_cancelled = true``; its receipt repeats every line with the
quantity taken back, minutes to hours later, so that the order's net over the lines is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.datagen.params import Behaviour
from omnicrm.datagen.sales import cancel_minutes

from .conftest import Frames

LINE_COLUMNS = [
    "line_no",
    "member_no",
    "shop_code",
    "pos_channel",
    "sku",
    "qty",
    "price",
    "disc",
    "promo_code",
]


def _cents(values: pd.Series) -> pd.Series:
    return (values.astype(float) * 100).round().astype("int64")


@pytest.fixture(scope="module")
def pairs(frames: Frames) -> pd.DataFrame:
    """Each cancelled order (``o_`` columns) beside its cancellation receipt (``c_``)."""
    o = frames.orders
    cancelled = o[o["is_cancelled"].eq("true") & ~o["order_id"].str.startswith("C")]
    receipts = o[o["order_id"].str.startswith("CO")]
    joined = cancelled.add_prefix("o_").merge(
        receipts.assign(original=receipts["order_id"].str[1:]).add_prefix("c_"),
        left_on="o_order_id",
        right_on="c_original",
        how="outer",
        indicator=True,
    )
    return joined


def test_every_cancelled_order_has_exactly_one_cancellation_receipt(frames: Frames, pairs):
    assert len(pairs) > 100
    assert (pairs["_merge"] == "both").all()  # no cancelled order without receipt, nor the reverse
    assert pairs["o_order_id"].is_unique
    assert pairs["c_order_id"].is_unique
    assert set(pairs["o_channel"]) <= {"online", "app", "mini_program"}
    assert frames.orders["order_id"].is_unique


def test_the_receipt_reverses_the_order_at_the_same_customer_store_and_channel(pairs):
    for column in ("customer_id", "store_id", "channel", "payment_method"):
        assert pairs[f"o_{column}"].fillna("").eq(pairs[f"c_{column}"].fillna("")).all(), column
    assert (_cents(pairs["c_net_amount"]) == -_cents(pairs["o_net_amount"])).all()
    assert (_cents(pairs["c_gross_amount"]) == -_cents(pairs["o_gross_amount"])).all()
    assert (_cents(pairs["c_discount_amount"]) == _cents(pairs["o_discount_amount"])).all()
    assert (_cents(pairs["o_net_amount"]) > 0).all()
    assert pairs["c_is_cancelled"].eq("true").all()
    assert pairs["c_coupon_code"].isna().all()


def test_the_receipt_follows_minutes_to_hours_later(pairs):
    delay = pairs["c_ts"] - pairs["o_ts"]
    assert (delay >= pd.Timedelta(0)).all()
    assert (delay <= pd.Timedelta(hours=6)).all()
    assert pd.Timedelta(minutes=20) < delay.median() < pd.Timedelta(hours=1)


def test_receipt_lines_repeat_the_order_lines_and_net_to_zero(frames: Frames):
    lines = frames.lines
    receipt = lines[lines["receipt_no"].str.startswith("CO")]
    original = lines[lines["receipt_no"].isin(receipt["receipt_no"].str[1:])]
    assert len(receipt) == len(original) > 0
    both = original.merge(
        receipt.assign(receipt_no=receipt["receipt_no"].str[1:]),
        on=["receipt_no", "line_no"],
        suffixes=("", "_c"),
    )
    assert len(both) == len(receipt)
    for column in LINE_COLUMNS[1:]:
        assert both[column].fillna("").eq(both[f"{column}_c"].fillna("")).all(), column
    assert (both["ts_c"] >= both["ts"]).all()

    qty_milli = (lines["qty"].astype(float) * 1000).round().astype("int64")
    gross = (qty_milli * _cents(lines["price"]) + 500) // 1000
    sign = np.where(lines["receipt_no"].str.startswith("C"), -1, 1)
    amount = pd.Series(sign * (gross - _cents(lines["disc"])), index=lines.index)
    pair = lines["receipt_no"].str.removeprefix("C")
    cancelled = lines["receipt_no"].isin(original["receipt_no"]) | lines[
        "receipt_no"
    ].str.startswith("CO")
    per_pair = amount[cancelled].groupby(pair[cancelled]).sum()
    assert len(per_pair) == original["receipt_no"].nunique()
    assert (per_pair == 0).all()
    assert (amount[lines["receipt_no"].isin(original["receipt_no"])] > 0).any()


def test_returns_and_cancellations_are_told_apart_by_their_ids(frames: Frames):
    ids = frames.orders["order_id"]
    assert ids.str.fullmatch(r"[ROC]\d{9}|CO\d{9}").all()
    cancellations = ids.str.startswith("CO").sum()
    sales = ids.str.fullmatch(r"O\d{9}").sum()
    assert 0.01 < cancellations / sales < 0.03  # cancel_share_digital = 2%


def test_cancel_minutes_stay_on_the_same_side_of_each_window_boundary():
    start, end, span = 1_440, 10 * 1_440, 20 * 1_440
    bounds = np.array([start, end, span])
    minute = np.array([start - 1, start, end - 2, end - 1, end, span - 1] * 500)
    slow = Behaviour(cancel_delay_mean_minutes=600.0, cancel_delay_max_minutes=720)
    got = cancel_minutes(np.random.default_rng(1), minute, bounds, slow)
    assert (got >= minute).all()
    assert (got - minute <= 720).all()
    side = np.searchsorted(bounds, minute, side="right")
    assert (np.searchsorted(bounds, got, side="right") == side).all()
    assert set(got[minute == end - 1]) == {end - 1}
    assert set(got[minute == start - 1]) == {start - 1}
    assert (got[minute == start] > start).all()


def test_cancel_delays_follow_the_behaviour_parameters():
    bounds = np.array([0, 10**9, 2 * 10**9])
    minute = np.full(20_000, 1_000)
    delay = cancel_minutes(np.random.default_rng(2), minute, bounds) - minute
    assert delay.min() >= 1
    assert delay.max() <= Behaviour().cancel_delay_max_minutes
    assert 40 < delay.mean() < 50  # 1 + floor(Exp(45)), hardly ever capped
