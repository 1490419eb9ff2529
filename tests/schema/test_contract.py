"""The data contract is consistent, documented, and typed as the design requires."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnicrm.errors import InputError
from omnicrm.schema import TABLES, get_table
from omnicrm.schema.docs import render_markdown

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_TABLES = {
    "customers",
    "identities",
    "products",
    "stores",
    "orders",
    "order_lines",
    "events",
    "feedback",
}


def test_contract_defines_every_table_of_the_design():
    assert set(TABLES) == EXPECTED_TABLES


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda t: t.name)
def test_ids_are_strings_and_keys_required(table):
    for col in table.columns:
        if col.name.endswith("_id"):
            assert col.type == "string", f"{table.name}.{col.name} must be a string id"
    for key in table.key:
        column = table.column(key)
        assert column.required, f"{table.name}.{key} is part of the key so must be required"


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda t: t.name)
def test_amounts_are_money_and_times_are_timestamps(table):
    for col in table.columns:
        if col.name.endswith(("amount", "_price", "_cost")):
            assert col.type == "money", f"{table.name}.{col.name} must be exact money"
        if col.name.endswith("_ts"):
            assert col.type == "timestamp"


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda t: t.name)
def test_references_point_at_existing_columns(table):
    for col in table.columns:
        if col.references:
            ref_table, ref_col = col.references.split(".")
            assert ref_col in TABLES[ref_table].column_names


def test_order_lines_reject_zero_quantity_and_negative_price():
    lines = get_table("order_lines")
    assert [c.describe() for c in lines.column("quantity").checks] == ["!= 0"]
    assert [c.describe() for c in lines.column("unit_price").checks] == [">= 0"]


def test_unknown_table_names_the_known_ones():
    with pytest.raises(InputError, match=r"unknown table 'ordres'.*order_lines"):
        get_table("ordres")


def test_unknown_column_lists_the_columns():
    with pytest.raises(KeyError, match="its columns are: order_id"):
        get_table("orders").column("total")


def test_data_model_doc_is_generated_from_the_contract():
    committed = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run `make docs` to regenerate docs/data-model.md"
