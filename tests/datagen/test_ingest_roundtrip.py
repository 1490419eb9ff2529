"""Generated files load through omnicrm.ingest: clean loads fully, dirty faults are caught."""

from __future__ import annotations

from datetime import date

import pytest

from omnicrm.datagen import generate
from omnicrm.ingest import ingest_files


def _load_all(con, retailer):
    results = {}
    for f in retailer.files:
        results[f.table] = ingest_files(con, [f.path], table=f.table, mapping=f.mapping_path,
                                        check_references=True)
    return results


@pytest.fixture(scope="module")
def tiny_clean(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("clean"), customers=250, days=90, seed=21,
                    end_date=date(2025, 12, 31))


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
            outcome[f.table] = ingest_files(con, [f.path], table=f.table,
                                            mapping=f.mapping_path,
                                            check_references=request.param)
        except Exception as exc:  # reported per table by the test below
            outcome[f.table] = exc
    yield request.param, outcome
    con.disconnect()


@pytest.mark.parametrize("table", ["products", "customers", "identities", "orders",
                                   "order_lines", "events", "feedback"])
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
