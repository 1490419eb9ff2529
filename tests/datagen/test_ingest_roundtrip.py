"""Generated files load through omnicrm.ingest: clean loads fully, dirty faults are caught."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.datagen import generate
from omnicrm.ingest import ingest_files


def _load_all(con, retailer):
    results = {}
    for f in retailer.files:
        results[f.table] = ingest_files(
            con, [f.path], table=f.table, mapping=f.mapping_path, check_references=True
        )
    return results


@pytest.fixture(scope="module")
def tiny_clean(tmp_path_factory):
    return generate(
        tmp_path_factory.mktemp("clean"),
        customers=250,
        days=90,
        seed=21,
        end_date=date(2025, 12, 31),
    )


@pytest.fixture(scope="module")
def clean_loaded(tmp_path_factory, tiny_clean):
    """The clean retailer loaded in order with reference checks: (warehouse, results)."""
    from omnicrm.warehouse import connect

    con = connect(f"duckdb:///{tmp_path_factory.mktemp('wh') / 'clean.duckdb'}")
    yield con, _load_all(con, tiny_clean)
    con.disconnect()


def test_clean_retailer_loads_with_nothing_quarantined(clean_loaded, tiny_clean):
    warehouse, results = clean_loaded
    for f in tiny_clean.files:
        r = results[f.table]
        assert (r.read, r.loaded, r.quarantined, r.duplicates) == (f.rows, f.rows, 0, 0), f.table
    returns = warehouse.table("order_lines").filter(lambda t: t.is_return).count().execute()
    negative = warehouse.table("order_lines").filter(lambda t: t.quantity < 0).count().execute()
    assert returns == negative > 0


def test_clean_retailer_amounts_reconcile_after_ingestion(clean_loaded):
    warehouse, _ = clean_loaded
    lines = warehouse.table("order_lines")
    per_order = lines.group_by("order_id").aggregate(total=lines.amount.sum())
    orders = warehouse.table("orders")
    joined = orders.join(per_order, "order_id")
    assert joined.filter(joined.total != joined.net_amount).count().execute() == 0
    assert joined.count().execute() == orders.count().execute()


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "check_references"])
def dirty_loaded(request, tmp_path_factory, dirty_retailer):
    """Load every dirty file in order; keep each table's result or the error it raised."""
    from omnicrm.warehouse import connect

    con = connect(f"duckdb:///{tmp_path_factory.mktemp('wh') / 'dirty.duckdb'}")
    outcome = {}
    for f in dirty_retailer.files:
        try:
            outcome[f.table] = ingest_files(
                con, [f.path], table=f.table, mapping=f.mapping_path, check_references=request.param
            )
        except Exception as exc:  # reported per table by the test below
            outcome[f.table] = exc
    yield request.param, outcome
    con.disconnect()


@pytest.mark.parametrize(
    "table", ["products", "customers", "identities", "orders", "order_lines", "events", "feedback"]
)
def test_dirty_faults_are_quarantined_or_skipped(dirty_loaded, dirty_retailer, table):
    """Every invalid row is quarantined and every duplicate skipped. With reference checks,
    rows pointing at quarantined rows are quarantined too (a duplicate of such a row is then
    quarantined rather than skipped)."""
    check_references, outcome = dirty_loaded
    f = dirty_retailer.file(table)
    r = outcome[table]
    assert not isinstance(r, Exception), f"ingesting {f.path.name} raised {r!r}"
    invalid = sum(n for kind, n in f.faults.items() if kind != "duplicate_row")
    duplicates = f.faults.get("duplicate_row", 0)
    assert invalid > 0
    assert r.read == f.rows == r.loaded + r.quarantined + r.duplicates
    if check_references:
        assert r.quarantined >= invalid
        assert r.duplicates <= duplicates
        assert r.quarantined + r.duplicates >= invalid + duplicates
    else:
        assert (r.quarantined, r.duplicates) == (invalid, duplicates), f.faults


@pytest.fixture(scope="module")
def loaded_lines(clean_loaded):
    """The clean retailer's order lines as loaded in the warehouse (amounts are Decimal)."""
    warehouse, _ = clean_loaded
    return warehouse.table("order_lines").execute()


def test_cancellation_receipts_load_as_returns_that_reverse_their_order(loaded_lines):
    lines = loaded_lines
    receipt = lines[lines["order_id"].str.startswith("CO")]
    assert len(receipt) > 0
    assert receipt["is_return"].all()
    assert (receipt["quantity"] < 0).all()
    assert (receipt["amount"] < 0).all()
    original = lines[lines["order_id"].isin(receipt["order_id"].str[1:])]
    assert not original["is_return"].any()
    both = original.merge(
        receipt.assign(order_id=receipt["order_id"].str[1:]),
        on=["order_id", "line_number"],
        suffixes=("", "_c"),
    )
    assert len(both) == len(receipt) == len(original)
    assert (both["product_id"] == both["product_id_c"]).all()
    assert (both["quantity_c"] == -both["quantity"]).all()
    assert (both["amount_c"] == -both["amount"]).all()
    net = both.groupby("order_id")[["amount", "amount_c"]].sum()
    assert (net["amount"] + net["amount_c"] == 0).all()


def test_order_lines_revenue_per_customer_equals_the_truth(loaded_lines, tiny_clean):
    """Over the loaded lines, a customer's purchases net of cancellations (every line except
    those of return receipts ``C`` + digits) sum to ``spend_observed`` exactly, and their sales
    minus their cancellation receipts count ``purchases_observed``."""
    lines = loaded_lines[loaded_lines["customer_id"].notna()]
    return_receipt = lines["order_id"].str.fullmatch(r"C\d+")
    spend = lines[~return_receipt].groupby("customer_id")["amount"].sum()
    orders = lines.drop_duplicates("order_id")
    sales = orders[~orders["order_id"].str.startswith("C")].groupby("customer_id").size()
    cancelled = orders[orders["order_id"].str.startswith("CO")].groupby("customer_id").size()
    truth = pd.read_csv(tiny_clean.truth_path, dtype=str).set_index("customer_id")
    expected_spend = truth["spend_observed"].map(Decimal)
    assert spend.reindex(truth.index, fill_value=Decimal(0)).eq(expected_spend).all()
    purchases = sales.sub(cancelled, fill_value=0).reindex(truth.index, fill_value=0)
    assert purchases.eq(truth["purchases_observed"].astype(int)).all()
    assert cancelled.sum() > 0
    assert expected_spend.sum() > 0
