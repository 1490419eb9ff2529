"""Helpers shared by the ingestion tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ORDER_LINES_HEADER = "order_id,line_number,order_ts,product_id,quantity,unit_price,amount"


def rows(con, table: str, order_by: tuple[str, ...] = ()) -> list[dict]:
    """All rows of ``table`` as dicts (sorted by ``order_by`` when given)."""
    t = con.table(table)
    if order_by:
        t = t.order_by(list(order_by))
    return t.to_pyarrow().to_pylist()


@pytest.fixture
def write(tmp_path: Path):
    """Write ``text`` to ``tmp_path/name`` in ``encoding`` (bytes are written as is)."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return _write
