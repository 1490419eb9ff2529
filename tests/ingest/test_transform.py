"""Applying a mapping to a batch: every step of the documented order, vectorised."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.mapping import load_mapping
from omnicrm.ingest.transform import Plan, rows_as_json, transform
from omnicrm.schema import TABLES


def run(table, data, mapping=None, references=None):
    data = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
    plan = Plan(TABLES[table], load_mapping(mapping), data.column_names, "f.csv", references or {})
    return transform(data, np.arange(2, 2 + data.num_rows), plan)


POS = {
    "单号": ["536365", "C536379", "536366"],
    "销售时间": ["2024/05/01 08:00", "2024/05/01 09:30", "2024/05/01 10:00"],
    "商品编码": ["P1", "P2", "P3"],
    "数量": ["2", "1", "-1"],
    "单价": ["3.50", "10", "2.25"],
    "折扣": ["0.50", "", "0"],
    "行号": ["1", "1", "1"],
    "渠道": ["门店", "线上", "小程序"],
}
POS_MAPPING = {
    "columns": {
        "order_id": "单号",
        "order_ts": "销售时间",
        "product_id": "商品编码",
        "quantity": "数量",
        "unit_price": "单价",
        "discount_amount": "折扣",
        "line_number": "行号",
        "channel": "渠道",
    },
    "timestamps": {"order_ts": {"format": "%Y/%m/%d %H:%M", "timezone": "Asia/Shanghai"}},
    "values": {"channel": {"门店": "store", "线上": "online", "小程序": "mini_program"}},
    "expressions": {"amount": "quantity * unit_price - discount_amount"},
    "flags": {"is_return": {"column": "order_id", "startswith": "C"}},
}


def test_pos_export_is_renamed_parsed_computed_and_flagged():
    out = run("order_lines", POS, POS_MAPPING)
    assert out.reasons.to_pylist() == []
    got = out.good.to_pylist()
    assert [r["order_id"] for r in got] == ["536365", "C536379", "536366"]
    assert got[0]["order_ts"] == dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC)
    assert [r["channel"] for r in got] == ["store", "online", "mini_program"]
    # amount = quantity * unit_price - discount (empty discount uses the contract default 0)
    assert got[0]["amount"] == Decimal("6.50")
    # the cancellation C536379 with a positive quantity loads as a return
    assert (got[1]["quantity"], got[1]["amount"], got[1]["is_return"]) == (
        Decimal("-1.000"),
        Decimal("-10.00"),
        True,
    )
    # a negative quantity is a return even without the flag
    assert (got[2]["quantity"], got[2]["amount"], got[2]["is_return"]) == (
        Decimal("-1.000"),
        Decimal("-2.25"),
        True,
    )
    assert got[0]["is_return"] is False
    assert got[0]["discount_amount"] == Decimal("0.50")
    assert got[1]["discount_amount"] == Decimal("0.00")
    assert [r["_line"] for r in got] == [2, 3, 4]


def test_constants_fill_columns_absent_from_the_source():
    out = run(
        "stores",
        {"store_id": ["S1"], "name": ["Main"]},
        {"constants": {"channel": "store", "area_sqm": 120}},
    )
    assert out.good.to_pylist()[0] | {"_line": 0} == {
        "store_id": "S1",
        "name": "Main",
        "channel": "store",
        "format": None,
        "city": None,
        "region": None,
        "opened_date": None,
        "area_sqm": 120,
        "_line": 0,
    }


def test_contract_named_columns_pass_through_and_others_are_ignored():
    out = run("stores", {"store_id": ["S1"], "name": ["A"], "channel": ["app"], "manager": ["Li"]})
    assert out.good.column_names[:3] == ["store_id", "name", "channel"]
    assert "manager" not in out.good.column_names


def test_whitespace_is_trimmed_and_blank_is_missing():
    out = run(
        "stores",
        {"store_id": ["  S1 ", "S2"], "name": ["Main", "   "], "channel": ["store", "store"]},
    )
    assert out.good.column("store_id").to_pylist() == ["S1"]
    assert out.reasons.to_pylist() == ["name: missing (required)"]


def test_every_problem_of_a_row_is_listed():
    out = run(
        "order_lines",
        {
            "order_id": ["O1", "O2"],
            "line_number": ["1", "0"],
            "order_ts": ["2024-05-01 10:00:00", "2023-13-45"],
            "product_id": ["P1", ""],
            "quantity": ["1", "0"],
            "unit_price": ["2", "-1"],
            "amount": ["2", "abc"],
            "channel": ["store", "shop"],
        },
    )
    assert len(out.good) == 1
    assert out.bad_lines.tolist() == [3]
    assert out.reasons.to_pylist() == [
        "; ".join(
            [
                "order_ts: '2023-13-45' is not a date/time in ISO-8601 "
                "(YYYY-MM-DD[ HH:MM:SS][+08:00])",
                "amount: 'abc' is not a number",
                "line_number: '0' must be >= 1",
                "channel: 'shop' must be one of store, online, app, mini_program, marketplace, "
                "unmanned",
                "product_id: missing (required)",
                "quantity: '0' must be != 0",
                "unit_price: '-1' must be >= 0",
            ]
        )
    ]
    raw = json.loads(out.bad_raw.to_pylist()[0])
    assert raw["order_ts"] == "2023-13-45"
    assert raw["product_id"] == ""


def test_a_date_column_where_nothing_parses_means_the_mapping_is_wrong():
    with pytest.raises(
        InputError,
        match=r"order_ts: no value in f\.csv is a date/time in format "
        r"%Y-%m-%d %H:%M:%S \(e\.g\. '01/05/2024 10:00', "
        r"'02/05/2024 11:00', '03/05/2024 12:00'\); set the "
        r"right format in \[timestamps\] order_ts",
    ):
        run(
            "order_lines",
            {
                "order_id": ["O1", "O2", "O3", "O4"],
                "line_number": ["1"] * 4,
                "order_ts": ["01/05/2024 10:00", "02/05/2024 11:00", "03/05/2024 12:00", ""],
                "product_id": ["P"] * 4,
                "quantity": ["1"] * 4,
                "unit_price": ["1"] * 4,
                "amount": ["1"] * 4,
            },
            {"timestamps": {"order_ts": "%Y-%m-%d %H:%M:%S"}},
        )


def test_flags_equals_in_and_matches():
    base = {
        "order_id": ["A", "B", "C"],
        "customer_id": ["x", "y", "z"],
        "channel": ["store"] * 3,
        "order_ts": ["2024-01-01"] * 3,
        "net_amount": ["1"] * 3,
    }
    for flag, expected in [
        ({"column": "customer_id", "equals": "y"}, [False, True, False]),
        ({"column": "customer_id", "in": ["x", "z"]}, [True, False, True]),
        ({"column": "order_id", "matches": "^[BC]$"}, [False, True, True]),
    ]:
        out = run("orders", base, {"flags": {"is_cancelled": flag}})
        assert out.good.column("is_cancelled").to_pylist() == expected


def test_expressions_may_use_source_columns_outside_the_contract():
    out = run(
        "orders",
        {
            "order_id": ["A"],
            "channel": ["app"],
            "order_ts": ["2024-01-01"],
            "paid": ["10.005"],
            "tip": ["1"],
        },
        {"expressions": {"net_amount": "paid - tip"}},
    )
    assert out.good.column("net_amount").to_pylist() == [Decimal("9.01")]


def test_references_reject_unknown_ids():
    allowed = pa.array(["P1"], pa.string())
    out = run(
        "order_lines",
        {
            "order_id": ["O1", "O2"],
            "line_number": ["1", "1"],
            "order_ts": ["2024-01-01"] * 2,
            "product_id": ["P1", "P9"],
            "quantity": ["1", "1"],
            "unit_price": ["1", "1"],
            "amount": ["1", "1"],
        },
        references={"product_id": (allowed, "products.product_id")},
    )
    assert out.reasons.to_pylist() == ["product_id: 'P9' not found in products.product_id"]


def test_raw_json_escapes_quotes_backslashes_and_control_characters():
    raw = rows_as_json(pa.table({"a": ['x"y\\z\n\t\x01'], "名称": ["牛奶"], "n": [None]}))
    assert json.loads(raw[0].as_py()) == {"a": 'x"y\\z\n\t\x01', "名称": "牛奶", "n": None}
