"""The same ingestion into a real PostgreSQL warehouse (COPY staging, one transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from omnicrm.ingest import ingest_file, ingest_files
from omnicrm.ingest.transform import transform as real_transform
from omnicrm.warehouse import connect

from .conftest import ORDER_LINES_HEADER, rows

LINES = (
    ORDER_LINES_HEADER
    + "\n"
    + "\n".join(
        [
            "O1,1,2024-05-01 10:00:00,P1,2,3.50,7.00",
            "O1,2,2024-05-01 10:00:00,P2,0,1.00,0",
            "C2,1,2024-05-02T10:00:00+08:00,鲜牛奶,-1,3.5,-3.5",
            "O1,1,2024-05-01 10:00:00,P9,5,1,5",
        ]
    )
    + "\n"
)


@pytest.fixture
def pg(postgres_url):
    """A PostgreSQL warehouse in a schema of its own, dropped afterwards."""
    schema = f"omnicrm_ingest_{uuid.uuid4().hex[:10]}"
    admin = connect(postgres_url)
    admin.raw_sql(f"CREATE SCHEMA {schema}").close()
    sep = "&" if "?" in postgres_url else "?"
    con = connect(f"{postgres_url}{sep}schema={schema}")
    yield con
    con.disconnect()
    admin.raw_sql(f"DROP SCHEMA {schema} CASCADE").close()
    admin.disconnect()


@pytest.mark.postgres
def test_postgres_ingest_counts_quarantine_and_idempotency(pg, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(LINES, encoding="utf-8")
    first = ingest_file(pg, path, table="order_lines")
    assert (first.read, first.loaded, first.quarantined, first.duplicates) == (4, 2, 1, 1)
    again = ingest_file(pg, path, table="order_lines")
    assert (again.read, again.loaded, again.quarantined, again.duplicates) == (4, 0, 1, 3)
    got = {r["order_id"]: r for r in rows(pg, "order_lines")}
    assert set(got) == {"O1", "C2"}
    assert got["O1"]["amount"] == Decimal("7.00")
    assert got["C2"]["product_id"] == "鲜牛奶"
    assert (got["C2"]["quantity"], got["C2"]["is_return"]) == (Decimal("-1.000"), True)
    assert got["C2"]["order_ts"] == dt.datetime(2024, 5, 2, 2, 0, tzinfo=dt.UTC)
    reasons = [q["reason"] for q in rows(pg, "quarantine")]
    assert reasons == ["quantity: '0' must be != 0"] * 2
    assert len(rows(pg, "ingest_runs")) == 2
    assert not [t for t in pg.list_tables() if t.startswith("_omnicrm")]


@pytest.mark.postgres
def test_postgres_failure_mid_file_rolls_back_everything_of_the_file(pg, tmp_path, monkeypatch):
    ok = tmp_path / "ok.csv"
    ok.write_text("product_id,name,category\nS1,Salt,Pantry\n")
    big = tmp_path / "big.csv"
    big.write_text("product_id,name,category\n" + "".join(f"P{i},n,c\n" for i in range(3000)))
    monkeypatch.setattr("omnicrm.ingest.csv_reader.CHUNK_BYTES", 2048)
    calls = {"n": 0}

    def crash(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full")
        return real_transform(*args, **kwargs)

    monkeypatch.setattr("omnicrm.ingest.load.transform", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_files(pg, [ok, big], table="products")
    assert [r["product_id"] for r in rows(pg, "products")] == ["S1"]
    assert [r["source_file"] for r in rows(pg, "ingest_runs")] == [str(ok)]


@pytest.mark.postgres
def test_postgres_failure_inside_the_commit_rolls_back_rows_and_quarantine(
    pg, tmp_path, monkeypatch
):
    path = tmp_path / "lines.csv"
    path.write_text(LINES, encoding="utf-8")
    from omnicrm.ingest import load

    real_append = load.append_arrow

    def fail_on_runs(con, name, data):
        if name == "ingest_runs":
            raise RuntimeError("connection lost")
        real_append(con, name, data)

    monkeypatch.setattr(load, "append_arrow", fail_on_runs)
    with pytest.raises(RuntimeError, match="connection lost"):
        ingest_file(pg, path, table="order_lines")
    assert rows(pg, "order_lines") == []
    assert rows(pg, "quarantine") == []
