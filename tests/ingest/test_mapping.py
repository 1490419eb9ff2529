"""Mapping files: TOML in, checked data out; every mistake is named with its fix."""

from __future__ import annotations

import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.mapping import load_mapping
from omnicrm.schema import TABLES

FULL = """
table = "order_lines"

[source]
format = "csv"
delimiter = ";"
encoding = "gbk"
header_row = 2
timezone = "Asia/Shanghai"

[columns]
order_id = "单号"
order_ts = "销售时间"
product_id = "商品编码"
quantity = "数量"
unit_price = "单价"

[timestamps]
order_ts = { format = "%Y/%m/%d %H:%M", timezone = "Asia/Shanghai" }

[constants]
channel = "store"

[values]
channel = { "门店" = "store", "线上" = "online" }

[expressions]
amount = "quantity * unit_price - discount_amount"

[flags]
is_return = { column = "order_id", startswith = "C" }
"""


def test_full_mapping_file_loads(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(FULL, encoding="utf-8")
    m = load_mapping(path)
    assert m.table == "order_lines"
    assert (m.source.delimiter, m.source.encoding, m.source.header_row) == (";", "gbk", 2)
    assert m.columns["order_id"] == "单号"
    assert m.timestamps["order_ts"].format == "%Y/%m/%d %H:%M"
    assert m.constants == {"channel": "store"}
    assert m.values["channel"]["线上"] == "online"
    assert m.expressions["amount"].names == ("quantity", "unit_price", "discount_amount")
    assert m.flags["is_return"].describe() == "order_id starts with 'C'"


def test_no_mapping_is_an_empty_mapping():
    m = load_mapping(None)
    assert m.columns == {}
    assert m.table is None


def test_bad_toml_names_the_line(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[columns]\norder_id = "a"\nquantity = \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.toml is not valid TOML: .*line 3"):
        load_mapping(path)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(InputError, match=r"mapping file not found: .*check the --mapping path"):
        load_mapping(tmp_path / "none.toml")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"colums": {}}, "unknown section or key 'colums'"),
        ({"columns": {"order_id": 3}}, r"\[columns\] order_id = 3 must be text in quotes"),
        ({"source": {"delimter": ";"}}, r"\[source\] delimter is not a setting"),
        ({"source": {"delimiter": ";;"}}, "must be one character"),
        ({"source": {"header_row": 0}}, "header_row = 0 must be a line number >= 1"),
        ({"source": {"encoding": "ebcdic"}}, None),
        ({"flags": {"is_return": {"column": "order_id"}}}, "exactly one of equals, startswith"),
        ({"flags": {"is_return": {"column": "x", "matches": "("}}}, "not a valid regular expr"),
        ({"flags": {"is_return": {"column": "x", "in": "C"}}}, "must be a list of texts"),
        ({"timestamps": {"order_ts": {"fmt": "%Y"}}}, r"\[timestamps\] order_ts must be"),
        ({"values": {"channel": "store"}}, "must be an inline table"),
        ({"expressions": {"amount": "quantity ** 2"}}, r"only \+ - \* / are allowed"),
        ({"constants": {"channel": ["a"]}}, "must be text, a number, a boolean or a date"),
    ],
)
def test_malformed_sections_are_named(spec, match):
    if match is None:  # accepted here, refused when the file is opened
        assert load_mapping(spec).source.encoding == "ebcdic"
        return
    with pytest.raises(InputError, match=match):
        load_mapping(spec)


ORDER_LINES = TABLES["order_lines"]
FILE_COLUMNS = ["单号", "销售时间", "商品编码", "数量", "单价"]


def test_check_accepts_a_complete_mapping():
    m = load_mapping(
        {
            "columns": {
                "order_id": "单号",
                "order_ts": "销售时间",
                "product_id": "商品编码",
                "quantity": "数量",
                "unit_price": "单价",
                "line_number": "单号",
            },
            "expressions": {"amount": "quantity * unit_price"},
        }
    )
    m.check(ORDER_LINES, FILE_COLUMNS, file="f.csv")


def test_mapped_column_missing_from_the_file_lists_the_columns_found():
    m = load_mapping({"columns": {"order_id": "订单号"}})
    with pytest.raises(
        InputError,
        match=r"column '订单号' \(mapped to order_id\) is not in "
        r"f\.csv; the file has columns: 单号, 销售时间",
    ):
        m.check(ORDER_LINES, FILE_COLUMNS, file="f.csv")


def test_required_column_that_nothing_provides_is_an_error():
    with pytest.raises(
        InputError,
        match=r"f\.csv has no column for required order_id, "
        r"line_number, order_ts.*--mapping",
    ):
        load_mapping(None).check(ORDER_LINES, FILE_COLUMNS, file="f.csv")


def test_unknown_contract_column_and_wrong_table():
    with pytest.raises(InputError, match=r"\[columns\] 'qty' is not a column of order_lines"):
        load_mapping({"columns": {"qty": "数量"}}).check(ORDER_LINES, FILE_COLUMNS, file="f")
    with pytest.raises(
        InputError, match="mapping is for table 'orders' but you are loading 'order_lines'"
    ):
        load_mapping({"table": "orders"}).check(ORDER_LINES, FILE_COLUMNS, file="f")


def test_expression_and_flag_columns_must_exist():
    m = load_mapping({"expressions": {"amount": "qty * price"}})
    with pytest.raises(InputError, match=r"\[expressions\] amount uses 'qty'"):
        m.check(ORDER_LINES, FILE_COLUMNS, file="f")
    m = load_mapping({"flags": {"is_return": {"column": "type", "equals": "R"}}})
    with pytest.raises(InputError, match=r"\[flags\] is_return tests column 'type'"):
        m.check(ORDER_LINES, FILE_COLUMNS, file="f")
