"""End to end into DuckDB: quarantine, idempotency, atomicity, formats, clear errors."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omnicrm.errors import InputError
from omnicrm.ingest import ingest_file, ingest_files, load
from omnicrm.ingest.transform import transform as real_transform

from .conftest import ORDER_LINES_HEADER, rows

PRODUCTS = "product_id,name,category,unit_price\nP1,Milk,Dairy,3.50\nP2,Tea,Drinks,12\n"


def lines_csv(*body: str) -> str:
    return ORDER_LINES_HEADER + "\n" + "\n".join(body) + "\n"


def test_counts_add_up_and_rejected_rows_are_quarantined_with_line_and_reason(warehouse, write):
    path = write(
        "lines.csv",
        lines_csv(
            "O1,1,2024-05-01 10:00:00,P1,2,3.50,7.00",
            "O1,2,2024-05-01 10:00:00,P2,0,1.00,0",
            "O2,1,2023-13-45,,1,1,1",
            "O1,1,2024-05-01 10:00:00,P9,5,1,5",
        ),
    )
    r = ingest_file(warehouse, path, table="order_lines")
    assert (r.read, r.loaded, r.quarantined, r.duplicates) == (4, 1, 2, 1)
    assert rows(warehouse, "order_lines")[0]["product_id"] == "P1"  # first line wins
    q = rows(warehouse, "quarantine", ("line_number",))
    assert [(x["line_number"], x["reason"]) for x in q] == [
        (3, "quantity: '0' must be != 0"),
        (
            4,
            "order_ts: '2023-13-45' is not a date/time in ISO-8601 "
            "(YYYY-MM-DD[ HH:MM:SS][+08:00]); product_id: missing (required)",
        ),
    ]
    assert json.loads(q[1]["raw"])["order_ts"] == "2023-13-45"
    assert {x["source_file"] for x in q} == {str(path)}
    assert {x["table_name"] for x in q} == {"order_lines"}


def test_each_file_is_recorded_in_ingest_runs(warehouse, write):
    path = write("p.csv", PRODUCTS)
    result = ingest_files(warehouse, [path], table="products")
    run = rows(warehouse, "ingest_runs")[0]
    assert run["run_id"] == result.run_id
    assert (
        run["rows_read"],
        run["rows_loaded"],
        run["rows_quarantined"],
        run["rows_duplicate"],
    ) == (2, 2, 0, 0)
    assert len(run["file_sha256"]) == 64
    assert run["started_at"] <= run["finished_at"]


def test_reingesting_a_file_adds_nothing_and_counts_duplicates(warehouse, write):
    path = write("p.csv", PRODUCTS + "P3,Rice,Grain,-1\n")
    first = ingest_file(warehouse, path, table="products")
    again = ingest_file(warehouse, path, table="products")
    assert (first.loaded, first.quarantined) == (2, 1)
    assert (again.read, again.loaded, again.quarantined, again.duplicates) == (3, 0, 1, 2)
    assert len(rows(warehouse, "products")) == 2


def test_overlapping_file_loads_only_new_keys_and_earlier_rows_win(warehouse, write):
    a = write("a.csv", PRODUCTS)
    b = write(
        "b.csv", "product_id,name,category,unit_price\nP2,Green tea,Drinks,13\nP3,Rice,Grain,2\n"
    )
    result = ingest_files(warehouse, [a, b], table="products")
    assert [f.loaded for f in result.files] == [2, 1]
    assert [f.duplicates for f in result.files] == [0, 1]
    assert result.as_dict()["read"] == 4
    names = {r["product_id"]: r["name"] for r in rows(warehouse, "products")}
    assert names == {"P1": "Milk", "P2": "Tea", "P3": "Rice"}


def test_cancellations_and_returns_load_as_returns(warehouse, write):
    path = write(
        "retail.csv",
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Line\n"
        "536365,85123A,6,2010-12-01 08:26:00,2.55,1\n"
        "C536379,D,1,2010-12-01 09:41:00,27.50,1\n"
        "536380,22423,-2,2010-12-01 09:45:00,12.75,1\n",
    )
    mapping = {
        "columns": {
            "order_id": "InvoiceNo",
            "product_id": "StockCode",
            "quantity": "Quantity",
            "order_ts": "InvoiceDate",
            "unit_price": "UnitPrice",
            "line_number": "Line",
        },
        "expressions": {"amount": "quantity * unit_price"},
        "flags": {"is_return": {"column": "order_id", "startswith": "C"}},
    }
    r = ingest_file(warehouse, path, table="order_lines", mapping=mapping)
    assert (r.loaded, r.quarantined) == (3, 0)
    got = {
        x["order_id"]: (x["quantity"], x["amount"], x["is_return"])
        for x in rows(warehouse, "order_lines")
    }
    assert got == {
        "536365": (Decimal("6.000"), Decimal("15.30"), False),
        "C536379": (Decimal("-1.000"), Decimal("-27.50"), True),
        "536380": (Decimal("-2.000"), Decimal("-25.50"), True),
    }


def test_gbk_pos_export_with_chinese_mapping(warehouse, write, tmp_path):
    text = "商品编码;名称;类别;价格\nP1;鲜牛奶;乳制品;3,50\nP2;乌龙茶;饮料;12\n"
    path = write("商品.csv", text.replace("3,50", "3.50"), encoding="gbk")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'table = "products"\n[source]\nencoding = "gbk"\n[columns]\n'
        'product_id = "商品编码"\nname = "名称"\ncategory = "类别"\n'
        'unit_price = "价格"\n',
        encoding="utf-8",
    )
    r = ingest_file(warehouse, path, table="products", mapping=mapping)
    assert r.loaded == 2
    assert {x["name"] for x in rows(warehouse, "products")} == {"鲜牛奶", "乌龙茶"}


def test_gbk_is_detected_without_a_mapping(warehouse, write):
    path = write("p.csv", "product_id,name,category\nP1,鲜牛奶,乳制品\n", encoding="gbk")
    assert ingest_file(warehouse, path, table="products").loaded == 1
    assert rows(warehouse, "products")[0]["name"] == "鲜牛奶"


def test_misencoded_rows_are_quarantined_and_the_rest_loads(warehouse, write):
    good = "".join(f"P{i},鲜牛奶{i},乳制品\n" for i in range(20)).encode("utf-8")
    bad = b"P99," + "坏的".encode("gbk") + ",乳制品\n".encode()
    path = write("p.csv", b"product_id,name,category\n" + good + bad)
    r = ingest_file(warehouse, path, table="products")
    assert (r.read, r.loaded, r.quarantined) == (21, 20, 1)
    q = rows(warehouse, "quarantine")[0]
    assert q["line_number"] == 22
    assert q["reason"] == (
        "name: text is not valid UTF-8 (mis-encoded; set [source] encoding "
        "if the whole file is GBK)"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bom.csv", "\ufeff" + PRODUCTS),
        ("tab.tsv", PRODUCTS.replace(",", "\t")),
        ("semi.csv", PRODUCTS.replace(",", ";")),
        ("crlf.csv", PRODUCTS.replace("\n", "\r\n")),
    ],
)
def test_text_variants_load_the_same(warehouse, write, name, text):
    assert ingest_file(warehouse, write(name, text), table="products").loaded == 2
    assert rows(warehouse, "products", ("product_id",))[0]["unit_price"] == Decimal("3.50")


def test_gzip_parquet_jsonl_and_xlsx_load(warehouse, tmp_path):
    gz = tmp_path / "p1.csv.gz"
    gz.write_bytes(gzip.compress(PRODUCTS.encode()))
    parquet = tmp_path / "p2.parquet"
    pq.write_table(
        pa.table(
            {"product_id": ["P3"], "name": ["Rice"], "category": ["Grain"], "unit_price": [2.5]}
        ),
        parquet,
    )
    jsonl = tmp_path / "p3.jsonl"
    jsonl.write_text(
        '{"product_id": "P4", "name": "Salt", "category": "Pantry", '
        '"unit_price": "0.99", "launch_date": "2024-01-31"}\n'
    )
    xlsx = tmp_path / "p4.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["product_id", "name", "category", "unit_price", "launch_date"])
    wb.active.append(["P5", "苹果", "Fruit", 1.2, dt.datetime(2024, 2, 1)])
    wb.save(xlsx)
    result = ingest_files(warehouse, [gz, parquet, jsonl, xlsx], table="products")
    assert [f.loaded for f in result.files] == [2, 1, 1, 1]
    got = {r["product_id"]: r for r in rows(warehouse, "products")}
    assert got["P3"]["unit_price"] == Decimal("2.50")
    assert got["P4"]["launch_date"] == dt.date(2024, 1, 31)
    assert (got["P5"]["name"], got["P5"]["launch_date"]) == ("苹果", dt.date(2024, 2, 1))


def test_check_references(warehouse, write):
    ingest_file(warehouse, write("p.csv", PRODUCTS), table="products")
    path = write("l.csv", lines_csv("O1,1,2024-05-01,P1,1,1,1", "O1,2,2024-05-01,P7,1,1,1"))
    r = ingest_file(warehouse, path, table="order_lines", check_references=True)
    assert (r.loaded, r.quarantined) == (1, 1)
    assert rows(warehouse, "quarantine")[0]["reason"] == (
        "product_id: 'P7' not found in products.product_id"
    )


def test_check_references_needs_the_referenced_table(warehouse, write):
    path = write("l.csv", lines_csv("O1,1,2024-05-01,P1,1,1,1"))
    with pytest.raises(
        InputError,
        match=r"order_lines refers to orders\.order_id, "
        r"customers\.customer_id, .* but none of these tables "
        "is loaded yet",
    ):
        ingest_file(warehouse, path, table="order_lines", check_references=True)


def test_progress_reports_bytes_and_rows(warehouse, write):
    seen = []
    path = write("p.csv", PRODUCTS)
    ingest_file(warehouse, path, table="products", progress=seen.append)
    assert seen[-1].done
    assert seen[-1].bytes_done == seen[-1].bytes_total == path.stat().st_size
    assert seen[-1].rows_read == 2


def test_a_failure_mid_file_leaves_nothing_of_that_file(warehouse, write, monkeypatch):
    ok = write("ok.csv", PRODUCTS)
    big = write(
        "big.csv", "product_id,name,category\n" + "".join(f"Q{i},n,c\n" for i in range(5000))
    )
    monkeypatch.setattr("omnicrm.ingest.csv_reader.CHUNK_BYTES", 4096)
    calls = {"n": 0}

    def crash_on_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_transform(*args, **kwargs)

    ingest_file(warehouse, ok, table="products")
    monkeypatch.setattr(load, "transform", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(warehouse, big, table="products")
    assert len(rows(warehouse, "products")) == 2
    assert {r["source_file"] for r in rows(warehouse, "ingest_runs")} == {str(ok)}
    assert not [t for t in warehouse.list_tables() if t.startswith("_omnicrm_stage_")]
    monkeypatch.setattr(load, "transform", real_transform)
    assert ingest_file(warehouse, big, table="products").loaded == 5000


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (
            lambda w: (w("p.csv", PRODUCTS), {"table": "nope"}),
            "unknown table 'nope': choose one of customers, identities, products",
        ),
        (lambda w: (w("p.xls", PRODUCTS), {}), r"unsupported file type 'p\.xls': use one of"),
        (
            lambda w: (w("p.csv", PRODUCTS).with_name("missing.csv"), {}),
            "file not found: .*missing.csv",
        ),
        (
            lambda w: (w("p.csv", PRODUCTS), {"mapping": {"columns": {"name": "title"}}}),
            r"column 'title' \(mapped to name\) is not in .*p\.csv; the file has columns: "
            r"product_id, name, category, unit_price",
        ),
        (
            lambda w: (w("p.csv", bytes(range(128, 256)) * 30), {}),
            r"cannot read .*p\.csv: the text is not valid in any supported encoding \(tried utf-8",
        ),
    ],
)
def test_clear_errors(warehouse, write, setup, match):
    path, kwargs = setup(write)
    kwargs = {"table": "products", **kwargs}
    with pytest.raises(InputError, match=match):
        ingest_file(warehouse, path, **kwargs)


def test_bad_toml_mapping_is_a_clear_error(warehouse, write):
    mapping = write("m.toml", "[columns\nname = 'x'\n")
    with pytest.raises(InputError, match=r"m\.toml is not valid TOML: .*line 1"):
        ingest_file(warehouse, write("p.csv", PRODUCTS), table="products", mapping=mapping)


def test_a_failure_inside_the_commit_rolls_back_rows_and_quarantine(warehouse, write, monkeypatch):
    real_append = load.append_arrow

    def fail_on_runs(con, name, data):
        if name == "ingest_runs":
            raise RuntimeError("disk full")
        real_append(con, name, data)

    monkeypatch.setattr(load, "append_arrow", fail_on_runs)
    path = write("p.csv", PRODUCTS + "P3,Bad,Grain,-1\n")
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(warehouse, path, table="products")
    assert rows(warehouse, "products") == []
    assert rows(warehouse, "quarantine") == []


def test_a_failing_write_stops_the_reader_thread(warehouse, write, monkeypatch):
    import threading

    monkeypatch.setattr("omnicrm.ingest.csv_reader.CHUNK_BYTES", 2048)
    big = write(
        "big.csv", "product_id,name,category\n" + "".join(f"Q{i},n,c\n" for i in range(5000))
    )

    def broken_append(con, name, data):
        raise RuntimeError("warehouse gone")

    monkeypatch.setattr(load, "append_arrow", broken_append)
    with pytest.raises(RuntimeError, match="warehouse gone"):
        ingest_file(warehouse, big, table="products")
    assert not [t for t in threading.enumerate() if t.name == "omnicrm-reader"]
