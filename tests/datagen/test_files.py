"""Layouts, mappings and writers: exact money text, reproducible bytes, valid JSON lines."""

from __future__ import annotations

import gzip
import json
import tomllib
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from omnicrm.datagen import layouts
from omnicrm.datagen.mappings import MAPPINGS
from omnicrm.datagen.writers import json_lines, write_csv, write_jsonl, write_xlsx
from omnicrm.ingest import load_mapping
from omnicrm.schema import get_table


def test_money_is_formatted_exactly_from_integer_fen():
    cents = np.array([0, 1, 99, 100, -1, -12345, 10**15 + 7])
    assert layouts.money(cents).to_pylist() == [
        "0.00",
        "0.01",
        "0.99",
        "1.00",
        "-0.01",
        "-123.45",
        "10000000000000.07",
    ]


def test_local_and_utc_timestamps():
    origin = date(2025, 3, 1)
    seconds = np.array([14 * 3600 + 5 * 60, 3 * 3600])
    assert layouts.timestamps(origin, seconds, layouts.POS_TIME_FORMAT).to_pylist() == [
        "2025/03/01 14:05",
        "2025/03/01 03:00",
    ]
    utc = layouts.timestamps(
        origin, seconds, "%Y-%m-%dT%H:%M:%SZ", offset_minutes=-layouts.LOCAL_OFFSET_MINUTES
    )
    assert utc.to_pylist() == ["2025-03-01T06:05:00Z", "2025-02-28T19:00:00Z"]


def test_every_mapping_is_accepted_by_ingestion_and_targets_contract_columns():
    for table, text in MAPPINGS.items():
        parsed = tomllib.loads(text)
        assert parsed["table"] == table
        mapping = load_mapping(parsed)
        columns = set(get_table(table).column_names)
        assert set(mapping.columns) <= columns
        assert set(mapping.timestamps) <= columns


def test_csv_writer_gzips_reproducibly(tmp_path):
    table = pa.table({"a": ["x", None], "b": ["1", "2"]})
    write_csv(tmp_path / "one.csv.gz", table, delimiter=";")
    write_csv(tmp_path / "two.csv.gz", table, delimiter=";")
    one = (tmp_path / "one.csv.gz").read_bytes()
    assert one == (tmp_path / "two.csv.gz").read_bytes()
    assert gzip.decompress(one) == b'"a";"b"\n"x";"1"\n;"2"\n'


def test_json_lines_round_trip_through_the_json_parser(tmp_path):
    table = pa.table(
        {
            "s": ['quote " back \\ slash', "中文", None, "line\nbreak"],
            "n": pa.array([1, None, 3, 4]),
        }
    )
    assert write_jsonl(tmp_path / "x.jsonl", table) == 4
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert rows == [
        {"s": 'quote " back \\ slash', "n": 1},
        {"s": "中文", "n": None},
        {"s": None, "n": 3},
        {"s": "line\nbreak", "n": 4},
    ]
    assert json_lines(table.slice(0, 0)) == b""


def test_xlsx_is_byte_reproducible_with_typed_cells(tmp_path):
    frame = pd.DataFrame(
        {
            "编码": ["6901234567892", "6900000000017"],
            "价格": ["12.90", "-3.50"],
            "日期": [date(2024, 5, 1), date(2025, 1, 2)],
        }
    )
    write_xlsx(tmp_path / "a.xlsx", frame, sheet="商品", number_columns=("价格",))
    write_xlsx(tmp_path / "b.xlsx", frame, sheet="商品", number_columns=("价格",))
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    back = pd.read_excel(tmp_path / "a.xlsx", sheet_name="商品", dtype={"编码": str})
    assert back["编码"].tolist() == ["6901234567892", "6900000000017"]
    assert back["价格"].tolist() == [12.9, -3.5]
    assert back["日期"].dt.date.tolist() == [date(2024, 5, 1), date(2025, 1, 2)]
