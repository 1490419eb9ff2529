"""omnicrm.jobs.recommend: the recommendations and basket_rules tables."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.jobs.recommend import STEPS, RecommendSettings, run_recommend


@pytest.fixture(scope="module")
def written(small_retailer, tmp_path_factory):
    """One run on a copy of the retailer where two source records are one customer."""
    import shutil

    import ibis

    from omnicrm.warehouse import connect

    path = tmp_path_factory.mktemp("recommend") / "w.duckdb"
    shutil.copy(small_retailer, path)
    con = connect(f"duckdb:///{path}")
    ids = sorted(con.table("order_lines").customer_id.to_pandas().dropna().unique())
    keys = pd.DataFrame({"customer_id": ids, "unified_id": ids})
    keys.loc[1, "unified_id"] = ids[0]  # ids[1] merged into ids[0]
    con.create_table("customer_keys", ibis.memtable(keys))
    steps: list[str] = []
    result = run_recommend(con, k=5, on_step=steps.append)
    yield con, result, steps
    con.disconnect()


def test_recommendations_table_grain_and_columns(written):
    con, result, steps = written
    assert steps == list(STEPS)
    recs = con.table("recommendations").to_pandas()
    assert result.rows["recommendations"] == len(recs)
    assert list(recs.columns) == [
        "customer_id",
        "rank",
        "item_id",
        "item_name",
        "category",
        "score",
        "reason",
        "cold_start",
        "model",
        "as_of",
    ]
    assert not recs.duplicated(["customer_id", "rank"]).any()
    assert not recs.duplicated(["customer_id", "item_id"]).any()
    assert recs.groupby("customer_id").size().eq(5).all()
    assert recs["reason"].str.len().gt(0).all()
    assert (recs["as_of"] == pd.Timestamp(result.as_of)).all()
    # names come from the catalogue, not ids
    assert (recs["item_name"] != recs["item_id"]).mean() > 0.99


def test_every_buyer_and_member_is_covered_with_cold_start_flagged(written):
    con, result, _ = written
    recs = con.table("recommendations").to_pandas()
    lines = con.table("order_lines").to_pandas()
    orders = con.table("orders").to_pandas()
    cancelled = set(orders.order_id[orders.is_cancelled.fillna(False).astype(bool)])
    # a buyer bought something (a customer with only a return line, or whose only order was
    # cancelled, has nothing to go on)
    bought = (
        (lines.order_ts < result.as_of) & (lines.quantity > 0) & ~lines.order_id.isin(cancelled)
    )
    buyers = set(lines.loc[bought, "customer_id"].dropna())
    keys = con.table("customer_keys").to_pandas().set_index("customer_id")["unified_id"]
    unified_buyers = {keys.get(b, b) for b in buyers}
    covered = set(recs["customer_id"])
    assert unified_buyers <= covered
    cold = recs[recs["cold_start"]]
    assert set(cold["customer_id"]).isdisjoint(unified_buyers)
    assert cold["reason"].str.startswith("popular").all()
    assert sorted(keys.index)[1] not in covered  # merged record: only its unified id


def test_reasons_people_understand(written):
    con, _, _ = written
    reasons = con.table("recommendations").to_pandas()["reason"]
    assert reasons.str.match(r"you buy this every ~\d+ days").any()
    assert (
        reasons.str.match(r"(often bought with|goes with) .+").any()
        or reasons.str.startswith("trending").any()
    )


def test_basket_rules_at_product_and_category_level(written):
    con, result, _ = written
    rules = con.table("basket_rules").to_pandas()
    assert result.rows["basket_rules"] == len(rules)
    assert set(rules["level"]) == {"product", "category"}
    assert (rules["confidence"] >= 0.1).all()
    assert (rules["lift"] >= 1.0).all()
    product = rules[rules["level"] == "product"]
    products = set(con.table("products").product_id.to_pandas())
    assert all(p in products for a in product["antecedent"] for p in a.split(" + "))
    assert rules["antecedent_size"].between(1, 2).all()


def test_as_of_keeps_the_future_out(retailer_warehouse):
    con = retailer_warehouse
    last = con.table("order_lines").order_ts.max().execute()
    early = (pd.Timestamp(last) - pd.Timedelta(days=120)).normalize()
    run_recommend(con, as_of=early, k=3, rules=False)
    recs = con.table("recommendations").to_pandas()
    lines = con.table("order_lines").to_pandas()
    late_only = set(lines.product_id) - set(lines.loc[lines.order_ts < early, "product_id"])
    assert late_only, "the retailer should launch products after the cut"
    assert not recs["item_id"].isin(late_only).any()
    assert "basket_rules" not in con.list_tables()


def test_bad_input(retailer_warehouse, warehouse):
    with pytest.raises(InputError, match="k=0"):
        run_recommend(retailer_warehouse, k=0)
    with pytest.raises(InputError, match="no identified purchase before as_of 2000-01-01"):
        run_recommend(retailer_warehouse, as_of="2000-01-01")
    with pytest.raises(InputError, match="no order_lines table"):
        run_recommend(warehouse)


def test_settings_are_data():
    assert RecommendSettings(product_min_baskets=5).product_min_baskets == 5
