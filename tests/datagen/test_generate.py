"""generate(): files, manifest, determinism, contract conformance, referential integrity."""

from __future__ import annotations

import json
import tomllib
from datetime import date

import pandas as pd
import pytest

from omnicrm.datagen import generate
from omnicrm.datagen.generate import check_arguments
from omnicrm.errors import InputError
from omnicrm.schema import CHANNELS, ID_TYPES

from .conftest import SMALL, Frames, sha_of_folder

LOAD_ORDER = [
    "stores",
    "products",
    "customers",
    "identities",
    "orders",
    "order_lines",
    "events",
    "feedback",
]


def test_files_are_listed_in_load_order_with_their_mappings(small_retailer):
    assert [f.table for f in small_retailer.files] == LOAD_ORDER
    with_mapping = {f.table for f in small_retailer.files if f.mapping_path}
    assert with_mapping == {"products", "customers", "order_lines"}
    for f in small_retailer.files:
        assert f.path.exists()
        if f.mapping_path:
            mapping = tomllib.loads(f.mapping_path.read_text(encoding="utf-8"))
            assert mapping["table"] == f.table


def test_manifest_matches_the_files(small_retailer):
    manifest = json.loads(small_retailer.manifest_path.read_text(encoding="utf-8"))
    assert [e["file"] for e in manifest["files"]] == [f.path.name for f in small_retailer.files]
    assert [e["rows"] for e in manifest["files"]] == [f.rows for f in small_retailer.files]
    assert manifest["truth"] == "truth.csv"
    assert manifest["faults_total"] == 0
    assert manifest["arguments"]["seed"] == SMALL["seed"]


def test_row_counts_match_the_files(frames: Frames):
    rows = {f.table: f.rows for f in frames.retailer.files}
    assert rows["customers"] == len(frames.customers) == SMALL["customers"]
    assert rows["orders"] == len(frames.orders)
    assert rows["order_lines"] == len(frames.lines)
    assert rows["events"] == len(frames.events)
    assert rows["feedback"] == len(frames.feedback)
    assert rows["products"] == len(frames.products)
    assert len(frames.truth) == SMALL["customers"]
    assert 1900 <= len(frames.products) <= 2100
    assert len(frames.stores) == 30


def test_ids_are_unique(frames: Frames):
    assert frames.customers["会员编号"].is_unique
    assert frames.orders["order_id"].is_unique
    assert frames.products["商品编码"].is_unique
    assert frames.events["event_id"].is_unique
    assert frames.feedback["feedback_id"].is_unique
    assert not frames.lines.duplicated(["receipt_no", "line_no"]).any()
    assert not frames.identities.duplicated(["customer_id", "id_type", "id_value"]).any()


def test_every_reference_resolves(frames: Frames):
    customers = set(frames.customers["会员编号"])
    products = set(frames.products["商品编码"])
    stores = set(frames.stores["store_id"])
    orders = set(frames.orders["order_id"])
    lines = frames.lines
    assert set(lines["sku"]) <= products
    assert set(lines["shop_code"]) <= stores
    assert set(lines["receipt_no"]) == orders
    assert set(lines["member_no"].dropna()) <= customers
    assert set(frames.orders["customer_id"].dropna()) <= customers
    assert set(frames.identities["customer_id"]) <= customers
    assert set(frames.events["product_id"].dropna()) <= products
    assert set(frames.events["customer_id"].dropna()) <= customers
    assert set(frames.feedback["order_id"]) <= orders
    assert set(frames.truth["customer_id"]) == customers


def test_codes_belong_to_the_contract(frames: Frames):
    assert set(frames.orders["channel"]) <= set(CHANNELS)
    assert set(frames.stores["channel"]) <= set(CHANNELS)
    assert set(frames.identities["id_type"]) <= set(ID_TYPES)
    assert set(frames.lines["pos_channel"]) == {"POS", "UNM", "WEB", "APP", "MP"}


def test_order_totals_are_exact_sums_of_their_lines(frames: Frames):
    lines = frames.lines
    cents = lambda s: (s.astype(float) * 100).round().astype("int64")  # noqa: E731
    qty_milli = (lines["qty"].astype(float) * 1000).round().astype("int64")
    gross = (qty_milli * cents(lines["price"]) + 500) // 1000
    sign = lines["receipt_no"].str.startswith("C").map({True: -1, False: 1})
    amount = sign * (gross - cents(lines["disc"]))
    per_order = amount.groupby(lines["receipt_no"]).sum()
    net = cents(frames.orders.set_index("order_id")["net_amount"])
    assert per_order.reindex(net.index).eq(net).all()


def test_weighed_quantities_never_fall_on_half_a_fen(frames: Frames):
    qty_milli = (frames.lines["qty"].astype(float) * 1000).round().astype("int64")
    price = (frames.lines["price"].astype(float) * 100).round().astype("int64")
    assert not ((qty_milli * price) % 1000 == 500).any()
    assert (qty_milli % 1000 != 0).any()  # some goods are sold by weight


def test_data_stays_inside_the_window(frames: Frames):
    end = pd.Timestamp("2026-06-30 23:59:59", tz="Asia/Shanghai")
    start = pd.Timestamp("2024-07-01", tz="Asia/Shanghai")
    assert frames.orders["ts"].min() >= start
    assert frames.orders["ts"].max() <= end
    assert frames.lines["ts"].max() <= end.tz_localize(None)
    ev = pd.to_datetime(frames.events["event_ts"], utc=True)
    assert ev.max() <= end
    assert ev.min() >= start


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    args = {"customers": 150, "days": 40, "end_date": date(2025, 12, 31)}
    a = generate(tmp_path / "a", seed=3, **args)
    b = generate(tmp_path / "b", seed=3, **args)
    c = generate(tmp_path / "c", seed=4, **args)
    assert sha_of_folder(a.out_dir) == sha_of_folder(b.out_dir)
    differs = {k for k, v in sha_of_folder(c.out_dir).items() if sha_of_folder(a.out_dir)[k] != v}
    assert {"customers.csv", "orders.csv", "order_lines.csv.gz", "truth.csv"} <= differs


def test_customers_file_is_gbk_with_chinese_headers_and_labels(small_retailer):
    raw = (small_retailer.out_dir / "customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith('"会员编号","姓名","手机号"')
    assert "男" in text
    assert "女" in text
    assert "门店" in text


def test_orders_file_starts_with_a_byte_order_mark(small_retailer):
    assert (small_retailer.out_dir / "orders.csv").read_bytes()[:3] == b"\xef\xbb\xbf"


def test_pos_export_is_semicolon_delimited_with_local_times_and_positive_return_quantities(
    frames: Frames,
):
    returns = frames.lines[frames.lines["receipt_no"].str.startswith("C")]
    assert len(returns) > 0
    assert (returns["qty"].astype(float) > 0).all()
    assert frames.lines["sale_time"].str.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d").all()
    assert "amount" not in frames.lines.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, r"--customers must be at least 1, got 0"),
        ({"customers": -5}, r"--customers must be at least 1"),
        ({"customers": 2.5}, r"--customers must be a whole number, got 2.5"),
        ({"days": 27}, r"--days must be at least 28 .*got 27"),
        ({"dirty": 0.6}, r"--dirty must be a fraction between 0 and 0.5 .*got 0.6"),
        ({"dirty": -0.1}, r"--dirty must be a fraction"),
        ({"seed": -1}, r"--seed must be >= 0"),
        ({"end_date": date(2040, 1, 1)}, r"leaves the holiday calendar"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        generate(tmp_path, **{"customers": 10, "days": 30, **kwargs})


def test_an_unwritable_folder_is_refused(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match=r"--out .*file.txt.* is not a writable folder"):
        check_arguments(blocker / "sub", 10, 30, 1, 0.0, date(2026, 6, 30))
