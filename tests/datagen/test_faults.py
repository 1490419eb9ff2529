"""--dirty: the injected faults are real, counted, and recorded in the manifest."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omnicrm.datagen.faults import FAULT_KINDS, INVALID_BYTES, FaultSpec, inject, inject_frame
from omnicrm.datagen.writers import write_csv

SPEC = FaultSpec(
    id="id",
    date="ts",
    bad_date="2025-02-30",
    price="price",
    quantity="qty",
    channel="channel",
    text="name",
)


def _table(n: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"X{i}" for i in range(n)],
            "ts": ["2025-01-01"] * n,
            "price": ["1.50"] * n,
            "qty": ["2.000"] * n,
            "channel": ["store"] * n,
            "name": ["牛奶"] * n,
        }
    )


def test_each_faulty_row_gets_exactly_one_fault_of_an_applicable_kind():
    clean = _table(2000)
    dirty, counts = inject(clean, SPEC, 0.1, np.random.default_rng(1))
    assert sum(counts.values()) == 200
    assert set(counts) == set(FAULT_KINDS)
    assert dirty.num_rows == 2000 + counts["duplicate_row"]
    frame = dirty.to_pandas()
    assert (frame["ts"] == "2025-02-30").sum() == counts["unparseable_date"]
    assert frame["id"].isna().sum() == counts["missing_id"]
    assert frame["price"].str.startswith("-").sum() == counts["negative_price"]
    assert (frame["qty"] == "0").sum() == counts["zero_quantity"]
    assert (frame["channel"] == "tv_shopping").sum() == counts["unknown_channel"]
    assert frame["name"].str.contains("~~omnicrm-bad-bytes~~").sum() == counts["bad_encoding"]
    assert frame[frame["id"].notna()].duplicated().sum() == counts["duplicate_row"]


def test_kinds_that_do_not_apply_are_never_injected():
    spec = FaultSpec(id="id", date="ts")
    _, counts = inject(_table(500), spec, 0.2, np.random.default_rng(2))
    assert set(counts) <= {"missing_id", "unparseable_date", "duplicate_row"}
    assert sum(counts.values()) == 100


def test_rate_zero_changes_nothing():
    clean = _table(100)
    dirty, counts = inject(clean, SPEC, 0.0, np.random.default_rng(3))
    assert counts == {}
    assert dirty.equals(clean)


def test_bad_bytes_are_invalid_in_the_file_encoding(tmp_path):
    table, _ = inject(
        _table(50), FaultSpec(text="name", duplicates=False), 0.2, np.random.default_rng(4)
    )
    utf8 = tmp_path / "u.csv"
    write_csv(utf8, table)
    gbk = tmp_path / "g.csv"
    write_csv(gbk, table, encoding="gbk")
    bad_utf8 = [line for line in utf8.read_bytes().splitlines() if INVALID_BYTES["utf-8"] in line]
    assert len(bad_utf8) == 10
    for line in bad_utf8:
        with pytest.raises(UnicodeDecodeError):
            line.decode("utf-8")
        with pytest.raises(UnicodeDecodeError):
            line.decode("gb18030")
    lines = gbk.read_bytes().splitlines()
    broken = [line for line in lines if b'\xd5"' in line]
    assert len(broken) == 10
    for line in broken:
        with pytest.raises(UnicodeDecodeError):
            line.decode("gbk")


def test_excel_faults_touch_ids_prices_and_duplicates_only():
    frame = pd.DataFrame({"id": [f"P{i}" for i in range(400)], "price": ["3.50"] * 400})
    out, counts = inject_frame(
        frame, FaultSpec(id="id", price="price", date="x"), 0.1, np.random.default_rng(5)
    )
    assert set(counts) <= {"missing_id", "negative_price", "duplicate_row"}
    assert sum(counts.values()) == 40
    assert len(out) == 400 + counts.get("duplicate_row", 0)
    assert out["id"].isna().sum() == counts["missing_id"]


def test_dirty_retailer_records_faults_per_file_in_the_manifest(dirty_retailer):
    manifest = json.loads(dirty_retailer.manifest_path.read_text(encoding="utf-8"))
    by_file = {e["file"]: e for e in manifest["files"]}
    assert by_file["stores.jsonl"]["faults"] == {}
    total = 0
    for f in dirty_retailer.files:
        entry = by_file[f.path.name]
        assert entry["faults"] == f.faults
        total += sum(f.faults.values())
        if f.table != "stores":
            clean_rows = f.rows - f.faults.get("duplicate_row", 0)
            assert sum(f.faults.values()) == round(0.05 * clean_rows)
    assert manifest["faults_total"] == total > 0
    assert set(by_file["order_lines.csv.gz"]["faults"]) == set(FAULT_KINDS)


def test_dirty_pos_export_really_contains_the_faults(dirty_retailer):
    f = dirty_retailer.file("order_lines")
    raw = gzip.decompress(f.path.read_bytes())
    assert raw.count(INVALID_BYTES["utf-8"]) == f.faults["bad_encoding"]
    text = raw.decode("utf-8", errors="replace")
    frame = pd.read_csv(
        pd.io.common.StringIO(text), sep=";", dtype=str, keep_default_na=False, na_values=[""]
    )
    assert (frame["sale_time"].str.contains("/02/30")).sum() == f.faults["unparseable_date"]
    assert (frame["qty"] == "0").sum() == f.faults["zero_quantity"]
    assert frame["price"].str.startswith("-").sum() == f.faults["negative_price"]
    assert (frame["pos_channel"] == "XX").sum() == f.faults["unknown_channel"]
    assert frame["receipt_no"].isna().sum() == f.faults["missing_id"]
    assert frame[frame["receipt_no"].notna()].duplicated().sum() == f.faults["duplicate_row"]


def test_dirty_output_is_reproducible_for_a_seed(tmp_path, dirty_retailer):
    from omnicrm.datagen import generate

    from .conftest import sha_of_folder

    again = generate(tmp_path, customers=400, days=120, seed=5, dirty=0.05)
    assert sha_of_folder(again.out_dir) == sha_of_folder(dirty_retailer.out_dir)
