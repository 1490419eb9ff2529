"""The behavioural signal is really in the files: each test would fail on structureless data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from .conftest import Frames

DIGITAL = ["online", "app", "mini_program"]


@pytest.fixture(scope="module")
def sales(frames: Frames) -> pd.DataFrame:
    """Purchase orders: sales (not return receipts), not cancelled."""
    o = frames.orders
    return o[~o["order_id"].str.startswith("C") & (o["is_cancelled"] == "false")]


@pytest.fixture(scope="module")
def sale_lines(frames: Frames) -> pd.DataFrame:
    products = frames.products.rename(
        columns={"商品编码": "sku", "子品类": "sub", "部门": "department"}
    )
    lines = frames.lines[~frames.lines["receipt_no"].str.startswith("C")]
    return lines.merge(products[["sku", "sub", "department"]], on="sku")


def test_weekend_days_take_more_revenue_than_weekdays(sales):
    daily = sales.groupby(sales["ts"].dt.date)["net"].sum()
    weekday = pd.to_datetime(daily.index).dayofweek
    assert daily[weekday >= 5].mean() > 1.2 * daily[weekday <= 3].mean()


@pytest.mark.parametrize("year", [2024, 2025])
def test_double_eleven_spikes_digital_orders(sales, year):
    digital = sales[sales["channel"].isin(DIGITAL)]
    daily = digital.groupby(digital["ts"].dt.date).size()
    daily.index = pd.to_datetime(daily.index)
    baseline = daily[(daily.index >= f"{year}-10-10") & (daily.index < f"{year}-10-25")].mean()
    assert daily[pd.Timestamp(f"{year}-11-11")] > 1.6 * baseline


def test_spring_festival_rush_then_holiday_lull(sales):
    daily = sales.groupby(sales["ts"].dt.date).size()
    daily.index = pd.to_datetime(daily.index)
    rush = daily["2026-02-03":"2026-02-16"].mean()  # 14 days before 17 Feb 2026
    holiday = daily["2026-02-17":"2026-02-23"].mean()
    ordinary = daily["2026-03-02":"2026-03-29"].mean()
    assert rush > 1.3 * ordinary > 1.3 * holiday


def test_dropped_out_customers_buy_nothing_after_their_dropout_date(frames: Frames, sales):
    dropped = frames.truth.dropna(subset=["dropout_date"])
    joined = sales.merge(dropped[["customer_id", "dropout_date"]], on="customer_id")
    assert len(joined) > 100
    assert (joined["ts"].dt.strftime("%Y-%m-%d") <= joined["dropout_date"]).all()
    gone = frames.truth[frames.truth["alive_at_end"] == False]  # noqa: E712
    assert 0.2 < len(gone) / len(frames.truth) < 0.8
    assert (gone["purchases_next_90d"] == 0).all()


@pytest.mark.parametrize(("subcategory", "cycle"), [("Rice", 30), ("Paper", 30), ("Laundry", 45)])
def test_staple_repurchase_gaps_cluster_around_the_cycle(sale_lines, sales, subcategory, cycle):
    per_customer_gap = sales.groupby("customer_id")["ts"].agg(
        lambda t: (t.max() - t.min()).days / max(len(t) - 1, 1)
    )
    frequent = per_customer_gap[per_customer_gap < cycle / 2].index
    x = sale_lines[(sale_lines["sub"] == subcategory) & sale_lines["member_no"].isin(frequent)]
    x = x.assign(day=x["ts"].dt.normalize()).drop_duplicates(["member_no", "sku", "day"])
    x = x.sort_values(["member_no", "sku", "day"])
    gaps = x.groupby(["member_no", "sku"])["day"].diff().dt.days.dropna()
    assert len(gaps) > 50
    assert 0.75 * cycle < gaps.median() < 1.35 * cycle
    inside = gaps.between(0.5 * cycle, 1.6 * cycle).mean()
    assert inside > 0.45


def test_customers_rebuy_the_same_products(sale_lines):
    known = sale_lines.dropna(subset=["member_no"])
    per_pair = known.groupby(["member_no", "sku"])["receipt_no"].nunique()
    per_customer_orders = known.groupby("member_no")["receipt_no"].nunique()
    regulars = per_customer_orders[per_customer_orders >= 10].index
    repeat_share = (per_pair[per_pair.index.get_level_values(0).isin(regulars)] >= 3).mean()
    assert repeat_share > 0.08


@pytest.fixture(scope="module")
def baskets(sale_lines) -> pd.DataFrame:
    """One row per receipt, one boolean column per subcategory bought."""
    return pd.crosstab(sale_lines["receipt_no"], sale_lines["sub"]) > 0


def _lift(baskets: pd.DataFrame, a: str, b: str) -> float:
    both = (baskets[a] & baskets[b]).mean()
    return both / (baskets[a].mean() * baskets[b].mean())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Pasta", "Pasta sauce"),
        ("Diapers", "Baby wipes"),
        ("Beer", "Chips"),
        ("Hot pot base", "Meat"),
    ],
)
def test_complementary_subcategories_have_lift_above_two(baskets, a, b):
    assert _lift(baskets, a, b) > 2.0


def test_unrelated_subcategories_have_lift_near_one(baskets):
    assert _lift(baskets, "Pasta", "Shampoo") < 1.8


def test_detractors_drop_out_more_than_promoters(frames: Frames):
    fb = frames.feedback.dropna(subset=["nps"])
    nps = fb.assign(nps=fb["nps"].astype(int)).groupby("customer_id")["nps"].mean()
    truth = frames.truth.set_index("customer_id").loc[nps.index]
    dropped = truth["dropout_date"].notna()
    assert dropped[nps <= 6].mean() > dropped[nps >= 9].mean() + 0.08
    assert np.corrcoef(nps, truth["satisfaction"])[0, 1] > 0.6


def test_truth_matches_the_observed_purchases(frames: Frames, sales):
    known = sales.dropna(subset=["customer_id"])
    observed = known.groupby("customer_id").agg(n=("order_id", "size"), spend=("net", "sum"))
    truth = frames.truth.set_index("customer_id").join(observed).fillna({"n": 0, "spend": 0})
    assert (truth["n"] == truth["purchases_observed"]).all()
    assert np.allclose(truth["spend"], truth["spend_observed"], atol=0.005)


def test_truth_future_follows_the_rate(frames: Frames):
    alive = frames.truth[frames.truth["alive_at_end"] == True]  # noqa: E712
    fast = alive["record_rate_per_week"] > alive["record_rate_per_week"].median()
    assert (
        alive.loc[fast, "purchases_next_90d"].mean()
        > 2 * alive.loc[~fast, "purchases_next_90d"].mean()
    )
    assert (frames.truth["spend_next_365d"] >= frames.truth["spend_next_90d"]).all()


def test_returns_are_two_to_three_percent_of_lines(frames: Frames):
    share = frames.lines["receipt_no"].str.fullmatch(r"C\d+").mean()  # not cancellations (CO…)
    assert 0.015 < share < 0.035


def test_anonymous_receipts_come_only_from_physical_stores(frames: Frames):
    anonymous = frames.orders[frames.orders["customer_id"].isna()]
    assert 0.05 < len(anonymous) / len(frames.orders) < 0.25
    assert set(anonymous["channel"]) <= {"store", "unmanned"}


def test_about_sixty_percent_of_records_are_members(frames: Frames):
    share = (frames.customers["是否会员"] == "是").mean()
    assert 0.5 < share < 0.7
    tiers = frames.customers.loc[frames.customers["是否会员"] == "是", "会员等级"]
    assert set(tiers) == {"银卡", "金卡", "钻石卡"}


def test_ice_cream_sells_in_summer(sale_lines):
    month = sale_lines["ts"].dt.month
    share = (sale_lines["sub"] == "Ice cream").groupby(month).mean()
    assert share[7] > 3 * share[1]


def test_stores_are_closed_at_night_but_unmanned_stores_are_not(sales):
    hour = sales["ts"].dt.hour
    night = (hour < 6) | (hour >= 23)
    assert night[sales["channel"] == "store"].mean() < 0.01
    assert night[sales["channel"].isin(DIGITAL)].mean() > 0.03


def test_promotions_discount_lines_around_festivals(frames: Frames):
    lines = frames.lines
    promoted = lines["promo_code"].notna()
    assert (lines.loc[promoted, "disc"].astype(float) > 0).all()
    assert (lines.loc[~promoted, "disc"].astype(float) == 0).all()
    d11 = lines["sale_time"].str.startswith("2025/11/11")
    assert lines.loc[d11, "promo_code"].eq("P2025-DOUBLE11").mean() > 0.3


def test_records_of_one_person_share_identifiers_in_different_formats(frames: Frames):
    truth = frames.truth.set_index("customer_id")
    ids = frames.identities.assign(person=lambda d: truth.loc[d["customer_id"], "person_id"].values)
    phones = ids[ids["id_type"] == "phone"]
    digits = phones["id_value"].str.replace(r"\D", "", regex=True).str[-11:]
    assert phones["id_value"].nunique() > digits.nunique()  # formats vary
    multi = truth.groupby("person_id").size()
    multi = multi[multi > 1].index
    key = ids.assign(
        norm=np.where(
            ids["id_type"] == "phone",
            ids["id_value"].str.replace(r"\D", "", regex=True).str[-11:],
            ids["id_value"].str.lower(),
        )
    )
    shared = key.groupby(["person", "norm"])["customer_id"].nunique()
    linked = shared[shared > 1].index.get_level_values(0).unique()
    assert len(set(linked) & set(multi)) / len(multi) > 0.6


def test_online_events_precede_online_orders(frames: Frames, sales):
    ev = frames.events
    assert {
        "view",
        "search",
        "add_to_cart",
        "store_visit",
        "review",
        "sign_in",
        "share",
        "like",
        "remove_from_cart",
    } <= set(ev["event_type"])
    carts = ev[ev["event_type"] == "add_to_cart"].dropna(subset=["customer_id"])
    digital_buyers = set(sales.loc[sales["channel"].isin(DIGITAL), "customer_id"].dropna())
    assert carts["customer_id"].isin(digital_buyers).mean() > 0.95
    visits = ev[ev["event_type"] == "store_visit"]
    assert visits["zone"].notna().all()
    assert (visits["dwell_seconds"] > 0).all()
    reviews = ev[ev["event_type"] == "review"]
    assert reviews["rating"].between(1, 5).all()
