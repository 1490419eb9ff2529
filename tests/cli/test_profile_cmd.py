"""``omnicrm profile``: JSON shape, the Rich view, and clear errors with exit code 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.cli.main import main
from omnicrm.schema import TABLES
from omnicrm.warehouse import connect, ensure_table


def _load(con, name, df):
    table = ensure_table(con, TABLES[name])
    con.insert(name, df.reindex(columns=table.columns))


@pytest.fixture
def url(tmp_path):
    """A warehouse file with two records of one person (shared phone) and two orders."""
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    con = connect(url)
    _load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["M1", "W7"],
                "name": ["Li Na", None],
                "phone": ["138-1234-8000", "+86 138 1234 8000"],
                "city": ["Hangzhou", None],
            }
        ),
    )
    _load(
        con,
        "order_lines",
        pd.DataFrame(
            {
                "order_id": ["O1", "O2"],
                "line_number": [1, 1],
                "order_ts": [
                    datetime(2024, 3, 2, 10, tzinfo=UTC),
                    datetime(2024, 3, 9, 20, tzinfo=UTC),
                ],
                "customer_id": ["M1", "W7"],
                "store_id": ["S1", "S9"],
                "channel": ["store", "online"],
                "product_id": ["P1", "P2"],
                "quantity": [Decimal("1"), Decimal("2")],
                "unit_price": [Decimal("9.90"), Decimal("5.05")],
                "discount_amount": [Decimal("0"), Decimal("0")],
                "amount": [Decimal("9.90"), Decimal("10.10")],
                "is_return": [False, False],
            }
        ),
    )
    con.disconnect()
    return url


def test_json_is_one_object_for_any_source_id(url, capsys):
    code = main(["profile", "W7", "--json", "--as-of", "2024-04-01", "--warehouse", url])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)  # exactly one JSON document
    assert {
        "unified_id",
        "as_of",
        "identity",
        "identifiers",
        "customer",
        "purchases",
        "scores",
        "top_categories",
        "top_brands",
        "recent_orders",
        "feedback",
        "behaviour",
        "tags",
    } <= set(data)
    assert data["unified_id"] == "M1"  # W7 merged into M1 by phone
    assert [r["customer_id"] for r in data["identity"]["records"]] == ["M1", "W7"]
    assert data["identity"]["records"][1]["link_value"] == "138****8000"
    assert data["purchases"]["orders"] == 2
    assert data["purchases"]["spend"] == "20.00"  # exact decimal, as a string
    assert data["scores"]["status"].startswith("not computed yet")
    assert "1234" not in json.dumps(data["identifiers"]).replace("138****8000", "")


def test_terminal_view_shows_panels_and_masked_identifiers(url, capsys):
    code = main(["profile", "M1", "--as-of", "2024-04-01", "--warehouse", url])
    out = capsys.readouterr().out
    assert code == 0
    for text in (
        "Customer M1",
        "Purchases",
        "Identity",
        "Identifiers",
        "Recent orders",
        "138****8000",
        "L* N*",
        "not computed yet",
        "omnichannel",
    ):
        assert text in out
    assert "13812348000" not in out
    assert "Li Na" not in out


def test_as_of_limits_the_data(url, capsys):
    main(["profile", "M1", "--json", "--as-of", "2024-03-05", "--warehouse", url])
    assert json.loads(capsys.readouterr().out)["purchases"]["orders"] == 1


def test_unknown_customer_is_a_clear_error(url, capsys):
    code = main(["profile", "M2", "--warehouse", url])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: customer 'M2' not found; did you mean 'M1'?" in err
    assert "Traceback" not in err


def test_bad_as_of_is_a_clear_error(url, capsys):
    code = main(["profile", "M1", "--as-of", "yesterday", "--warehouse", url])
    assert code == 2
    assert "as_of 'yesterday' is not a date" in capsys.readouterr().err


def test_missing_warehouse_is_a_clear_error(tmp_path, capsys):
    code = main(["profile", "M1", "--warehouse", f"duckdb:///{tmp_path / 'none.duckdb'}"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
