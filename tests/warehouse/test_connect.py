"""The warehouse opens from a URL; only this module knows the backend."""

from __future__ import annotations

import ibis
import pytest

from omnicrm.errors import InputError
from omnicrm.schema import TABLES
from omnicrm.warehouse import connect, ensure_table, transaction, user_tables


def test_relative_duckdb_url_creates_the_file_and_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    con = connect("duckdb:///./sub/omnicrm.duckdb")
    ensure_table(con, TABLES["orders"])
    con.disconnect()
    assert (tmp_path / "sub" / "omnicrm.duckdb").exists()


def test_environment_variable_chooses_the_warehouse(tmp_path, monkeypatch):
    target = tmp_path / "env.duckdb"
    monkeypatch.setenv("OMNICRM_WAREHOUSE", f"duckdb:///{target}")
    connect().disconnect()
    assert target.exists()


def test_unsupported_scheme_is_a_clear_error():
    with pytest.raises(InputError, match=r"'mysql://x' is not supported.*duckdb:///"):
        connect("mysql://x")


def test_read_only_on_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(InputError, match="does not exist: run 'omnicrm ingest'"):
        connect(f"duckdb:///{tmp_path / 'none.duckdb'}", read_only=True)


@pytest.mark.parametrize("where", ["memory", "file"])
def test_duckdb_hands_freed_memory_back_after_bulk_deallocations(where, tmp_path):
    url = "duckdb://:memory:" if where == "memory" else f"duckdb:///{tmp_path / 'w.duckdb'}"
    con = connect(url)
    setting = con.con.execute(
        "SELECT current_setting('allocator_bulk_deallocation_flush_threshold'), "
        "current_setting('enable_progress_bar')"
    ).fetchone()
    con.disconnect()
    assert setting == ("8.0 MiB", False)


def test_contract_tables_have_exact_types(warehouse):
    schema = ensure_table(warehouse, TABLES["order_lines"]).schema()
    assert str(schema["amount"]) == "decimal(18, 2)"
    assert str(schema["quantity"]) == "decimal(18, 3)"
    assert schema["order_ts"].timezone == "UTC"
    assert schema["order_id"].is_string()


def test_transaction_rolls_back_everything_on_error(warehouse):
    ensure_table(warehouse, TABLES["stores"])
    schema = warehouse.table("stores").schema()
    given = {"store_id": "S1", "name": "Nanjing Rd", "channel": "store"}
    row = ibis.memtable({n: [given.get(n)] for n in schema.names}, schema=schema)

    def load_then_crash():
        with transaction(warehouse):
            warehouse.insert("stores", row)
            raise RuntimeError("crash mid-file")

    with pytest.raises(RuntimeError, match="crash mid-file"):
        load_then_crash()
    assert warehouse.table("stores").count().execute() == 0


def test_user_tables_hide_internal_ones(warehouse):
    ensure_table(warehouse, TABLES["products"])
    warehouse.create_table("_omnicrm_stage_x", schema=ibis.schema({"a": "int64"}))
    assert user_tables(warehouse) == ["products"]


@pytest.mark.postgres
def test_postgres_warehouse_opens_from_a_url(postgres_url):
    con = connect(postgres_url)
    assert con.name == "postgres"
    assert isinstance(user_tables(con), list)
    con.disconnect()
