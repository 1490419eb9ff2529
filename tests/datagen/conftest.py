"""One small generated retailer shared by the datagen tests (generated once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from omnicrm.datagen import GeneratedRetailer, generate

SMALL = {"customers": 3000, "days": 730, "seed": 11, "end_date": date(2026, 6, 30)}


@dataclass
class Frames:
    """The generated files read back with pandas (all columns as text)."""

    retailer: GeneratedRetailer
    orders: pd.DataFrame
    lines: pd.DataFrame
    customers: pd.DataFrame
    identities: pd.DataFrame
    products: pd.DataFrame
    stores: pd.DataFrame
    events: pd.DataFrame
    feedback: pd.DataFrame
    truth: pd.DataFrame


def read_jsonl(path: Path) -> pd.DataFrame:
    """JSON lines as a frame, values as written (ids stay text)."""
    with path.open(encoding="utf-8") as fh:
        return pd.DataFrame([json.loads(line) for line in fh])


def read_frames(retailer: GeneratedRetailer) -> Frames:
    d = retailer.out_dir
    orders = pd.read_csv(
        d / "orders.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
    )
    orders["ts"] = pd.to_datetime(orders["order_ts"], utc=True).dt.tz_convert("Asia/Shanghai")
    orders["net"] = orders["net_amount"].astype(float)
    lines = pd.read_csv(
        d / "order_lines.csv.gz", sep=";", dtype=str, keep_default_na=False, na_values=[""]
    )
    lines["ts"] = pd.to_datetime(lines["sale_time"], format="%Y/%m/%d %H:%M")
    customers = pd.read_csv(
        d / "customers.csv", dtype=str, encoding="gbk", keep_default_na=False, na_values=[""]
    )
    identities = pd.read_csv(d / "identities.csv", dtype=str, keep_default_na=False, na_values=[""])
    products = pd.read_excel(d / "products.xlsx", dtype={"商品编码": str})
    stores = read_jsonl(d / "stores.jsonl")
    events = read_jsonl(d / "events.jsonl")
    feedback = pd.read_csv(d / "feedback.csv", dtype=str, keep_default_na=False, na_values=[""])
    truth = pd.read_csv(
        d / "truth.csv",
        dtype={"customer_id": str, "person_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    return Frames(
        retailer, orders, lines, customers, identities, products, stores, events, feedback, truth
    )


@pytest.fixture(scope="session")
def small_retailer(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRetailer:
    """A clean retailer of 3,000 customer records over two years."""
    return generate(tmp_path_factory.mktemp("retailer"), **SMALL)


@pytest.fixture(scope="session")
def frames(small_retailer: GeneratedRetailer) -> Frames:
    """The small retailer's files as data frames."""
    return read_frames(small_retailer)


@pytest.fixture(scope="session")
def dirty_retailer(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRetailer:
    """A retailer of 400 records with 5% faulty rows."""
    return generate(tmp_path_factory.mktemp("dirty"), customers=400, days=120, seed=5, dirty=0.05)


def sha_of_folder(folder: Path) -> dict[str, str]:
    import hashlib

    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }
