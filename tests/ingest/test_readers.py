"""Every supported format opens as batches of text columns with the row's place in the file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.readers import SourceOptions, detect_format, open_source


def read_all(path, options=None):
    src = open_source(path, options)
    data: dict[str, list] = {}
    lines, rejects = [], []
    for batch in src.batches():
        for c in batch.data.column_names:
            data.setdefault(c, []).extend(batch.data.column(c).to_pylist())
        lines += batch.lines.tolist()
        rejects += batch.rejects
    return src, data, lines, rejects


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.CSV", "csv"),
        ("a.txt", "csv"),
        ("a.tsv", "tsv"),
        ("a.csv.gz", "csv"),
        ("a.tsv.gz", "tsv"),
        ("a.parquet", "parquet"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "jsonl"),
        ("a.xlsx", "xlsx"),
    ],
)
def test_format_comes_from_the_extension(name, fmt):
    assert detect_format(Path(name)) == fmt


def test_unsupported_extension_lists_the_supported_ones():
    with pytest.raises(
        InputError,
        match=r"unsupported file type 'a\.xls': use one of \.csv, "
        r"\.tsv.*\.xlsx",
    ):
        detect_format(Path("a.xls"))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"file not found: '.*nope\.csv'; check the path"):
        open_source(tmp_path / "nope.csv")


def test_format_can_be_forced_for_odd_extensions(write):
    path = write("export.dat", "a;b\n1;2\n")
    _, data, _, _ = read_all(path, SourceOptions(format="csv"))
    assert data == {"a": ["1"], "b": ["2"]}


def test_parquet_values_become_text_and_rows_number_from_one(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["P1", "P2"],
                "price": pa.array([Decimal("3.50"), None], pa.decimal128(18, 2)),
                "qty": [2, 3],
                "active": [True, False],
                "ts": pa.array(
                    [dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)] * 2,
                    pa.timestamp("us", tz="UTC"),
                ),
                "day": pa.array([dt.date(2024, 5, 1)] * 2),
            }
        ),
        path,
    )
    _, data, lines, _ = read_all(path)
    assert data["price"] == ["3.50", None]
    assert data["qty"] == ["2", "3"]
    assert data["active"] == ["true", "false"]
    assert data["ts"][0].startswith("2024-05-01 08:30:00")
    assert data["day"] == ["2024-05-01"] * 2
    assert lines == [1, 2]


def test_jsonl_lines_are_numbered_and_bad_lines_rejected(write):
    text = (
        '{"id": "P1", "price": 3.5, "tags": ["a"]}\n'
        "\n"
        '{"id": "P2", "price": "4.10"}\n'
        "{not json}\n"
        "[1, 2]\n"
        '{"id": "P3", "price": 12.99}\n'
    )
    _, data, lines, rejects = read_all(write("p.jsonl", text))
    assert data["id"] == ["P1", "P2", "P3"]
    assert data["price"] == ["3.5", "4.10", "12.99"]
    assert data["tags"] == ['["a"]', None, None]
    assert lines == [1, 3, 6]
    assert [(r.line, r.reason.split(" (")[0]) for r in rejects] == [
        (4, "line: not valid JSON"),
        (5, "line: not a JSON object"),
    ]


def test_clean_jsonl_is_parsed_by_pyarrow(write):
    _, data, lines, rejects = read_all(write("p.jsonl", '{"a": 1, "b": true}\n{"a": 2.5}\n'))
    assert data == {"a": ["1", "2.5"], "b": ["true", None]}
    assert lines == [1, 2]
    assert rejects == []


def test_a_json_array_file_is_refused_with_the_fix(write):
    with pytest.raises(InputError, match=r"holds a JSON array; write one JSON object per line"):
        open_source(write("p.json", '[{"a": 1}]'))


def _xlsx(path, rows, sheet="Sheet1"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xlsx_cells_become_text_with_sheet_row_numbers(tmp_path):
    path = _xlsx(
        tmp_path / "s.xlsx",
        [
            ["product_id", "名称", "price", "launched", "active"],
            ["P1", "鲜牛奶", 3.5, dt.datetime(2024, 5, 1, 8, 30), True],
            [None, None, None, None, None],
            ["P2", "酸奶", 12, dt.date(2024, 1, 2), False],
        ],
    )
    src, data, lines, _ = read_all(path)
    assert src.columns == ["product_id", "名称", "price", "launched", "active"]
    assert data["名称"] == ["鲜牛奶", "酸奶"]
    assert data["price"] == ["3.5", "12"]
    assert data["launched"] == ["2024-05-01 08:30:00", "2024-01-02 00:00:00"]
    assert data["active"] == ["true", "false"]
    assert lines == [2, 4]


def test_xlsx_named_sheet_and_header_row(tmp_path):
    path = _xlsx(tmp_path / "s.xlsx", [["Report"], ["id", "qty"], ["A", 1]], sheet="Data")
    _, data, lines, _ = read_all(path, SourceOptions(sheet="Data", header_row=2))
    assert data == {"id": ["A"], "qty": ["1"]}
    assert lines == [3]
    with pytest.raises(InputError, match=r"sheet = 'Nope' is not in s\.xlsx: its sheets are Data"):
        open_source(path, SourceOptions(sheet="Nope"))


def test_misencoded_jsonl_line_is_rejected_naming_the_key(write):
    good = b'{"id": "P1", "name": "\xe7\x89\x9b\xe5\xa5\xb6"}\n'
    bad = b'{"id": "P2", "name": "' + "坏的".encode("gbk") + b'"}\n'
    broken = b'{"id": "P3", "name": "\xff\n'
    _, data, lines, rejects = read_all(write("p.jsonl", good + bad + broken))
    assert data == {"id": ["P1"], "name": ["牛奶"]}
    assert lines == [1]
    assert [(r.line, r.reason.split(" (")[0]) for r in rejects] == [
        (2, "name: text is not valid UTF-8"),
        (3, "line: not valid JSON"),
    ]
    assert '"id": "P2"' in rejects[0].raw
