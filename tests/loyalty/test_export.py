"""Warehouse export: every loyalty table lands in DuckDB with its grain, exact money, and the
ledger is appended incrementally."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnicrm.loyalty import export, orders
from omnicrm.loyalty.checkout import CartInput, ItemInput
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.promotions import coupons, store
from omnicrm.warehouse import connect

from .conftest import T0

D = Decimal


@pytest.fixture
def warehouse_con(tmp_path):
    con = connect(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    yield con
    con.disconnect()


def commit(shop, ref, member, *prices, codes=()):
    cart = CartInput(
        [ItemInput(f"SKU-{i}", D(1), D(p)) for i, p in enumerate(prices)],
        member_id=member,
        codes=list(codes),
    )
    data = orders.CommitInput(cart, T0)
    return shop.run(orders.commit, ref, data, shop.ctx(), shop.rules)


def test_export_writes_members_ledger_discounts_and_coupon_uses(shop, warehouse_con, rules):
    member = shop.enrol()
    shop.run(
        store.save,
        {"id": "P30", "benefit": {"type": "amount_off", "amount": "30"}, "requires_code": True},
        Context("admin", now=T0),
    )
    (code,) = shop.run(coupons.generate, "P30", Context("admin", now=T0), count=1)["codes"]
    commit(shop, "O-1", member, "70.00", "30.00", codes=[code])
    with shop.factory() as s:
        counts = export.export_all(s, warehouse_con, rules)
    assert counts == {
        "loyalty_members": 1,
        "loyalty_orders": 1,
        "loyalty_promotions": 1,
        "loyalty_discounts": 1,
        "loyalty_coupon_uses": 1,
        "loyalty_tiers": 3,
        "loyalty_discount_lines": 2,
        "loyalty_ledger": 2,  # the order's earn + the first-purchase bonus
    }
    discounts = warehouse_con.table("loyalty_discounts").execute()
    assert discounts.loc[0, "cost"] == D("30.00")
    assert str(warehouse_con.table("loyalty_discounts").schema()["cost"]) == "decimal(14, 2)"
    lines = warehouse_con.table("loyalty_discount_lines").execute()
    assert sorted(lines.amount) == [D("9.00"), D("21.00")]
    ledger = warehouse_con.table("loyalty_ledger")
    members_t = warehouse_con.table("loyalty_members").execute()
    assert ledger.points.sum().execute() == members_t.loc[0, "points_balance"] == 170
    assert set(ledger.order_ref.execute().dropna()) == {"O-1"}
    uses = warehouse_con.table("loyalty_coupon_uses").execute()
    assert (uses.loc[0, "kind"], uses.loc[0, "order_ref"]) == ("single", "O-1")


def test_the_ledger_is_appended_incrementally_and_rewritten_with_full(shop, warehouse_con, rules):
    member = shop.enrol()
    shop.earn(member, "10.00")
    with shop.factory() as s:
        assert export.export_all(s, warehouse_con, rules)["loyalty_ledger"] == 2
    shop.earn(member, "20.00")
    with shop.factory() as s:
        assert export.export_all(s, warehouse_con, rules)["loyalty_ledger"] == 1
        assert export.export_all(s, warehouse_con, rules)["loyalty_ledger"] == 0
        assert export.export_all(s, warehouse_con, rules, full=True)["loyalty_ledger"] == 3
    ids = warehouse_con.table("loyalty_ledger").entry_id.execute().tolist()
    assert ids == sorted(set(ids))
    assert len(ids) == 3


def test_an_empty_service_exports_empty_typed_tables(factory, warehouse_con, rules):
    with factory() as s:
        counts = export.export_all(s, warehouse_con, rules)
    assert counts["loyalty_ledger"] == 0
    assert warehouse_con.table("loyalty_ledger").count().execute() == 0
    assert str(warehouse_con.table("loyalty_ledger").schema()["spend"]) == "decimal(14, 2)"
