"""``--dirty``: realistic faults injected into a fraction of the rows of the ingested files.

Each faulty row gets exactly one fault, chosen uniformly among those that apply to its file:

========================  ===============================================================
``unparseable_date``      a timestamp that does not exist (30 February, 25:61)
``missing_id``            the row's required id left empty
``duplicate_row``         an exact copy of the row right after it (a double export)
``negative_price``        a unit price with a minus sign
``zero_quantity``         a quantity of 0
``unknown_channel``       a channel code the mapping and the contract do not know
``bad_encoding``          bytes invalid in the file's encoding inside a text field
========================  ===============================================================

Duplicates are extra rows (ingestion skips them as duplicates); every other fault makes its
row invalid, so ingestion must quarantine it. The counts go to ``manifest.json``.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> t = pa.table({"id": ["a", "b", "c", "d"], "ts": ["2025-01-01"] * 4})
>>> spec = FaultSpec(id="id", date="ts", bad_date="2025-02-30")
>>> out, counts = inject(t, spec, 0.5, np.random.default_rng(0))
>>> sum(counts.values()), out.num_rows == 4 + counts.get("duplicate_row", 0)
(2, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FAULT_KINDS: tuple[str, ...] = (
    "unparseable_date",
    "missing_id",
    "duplicate_row",
    "negative_price",
    "zero_quantity",
    "unknown_channel",
    "bad_encoding",
)
"""Every kind of fault ``--dirty`` injects."""

SENTINEL = "~~omnicrm-bad-bytes~~"
"""Placeholder written in the text, replaced by invalid bytes once the file is encoded."""

INVALID_BYTES: dict[str, bytes] = {
    # GBK bytes inside a UTF-8 file, then a stray 0xFF, so that the row cannot be read as GBK
    # either (an ASCII-only UTF-8 file is otherwise indistinguishable from GBK)
    "utf-8": "张伟".encode("gbk") + b"\xff",
    "gbk": b"\xd5",  # a lead byte followed by the closing quote: a broken two-byte pair
}
"""Bytes that cannot be decoded in each file encoding."""


@dataclass(frozen=True)
class FaultSpec:
    """Which column of a layout receives each kind of fault (``None``: not applicable)."""

    id: str | None = None
    date: str | None = None
    bad_date: str = "2025-02-30 25:61:00"
    price: str | None = None
    quantity: str | None = None
    channel: str | None = None
    bad_channel: str = "tv_shopping"
    text: str | None = None
    duplicates: bool = True

    def kinds(self) -> list[str]:
        """The fault kinds that apply to this layout, in :data:`FAULT_KINDS` order."""
        present = {
            "unparseable_date": self.date,
            "missing_id": self.id,
            "duplicate_row": "" if self.duplicates else None,
            "negative_price": self.price,
            "zero_quantity": self.quantity,
            "unknown_channel": self.channel,
            "bad_encoding": self.text,
        }
        return [k for k in FAULT_KINDS if present[k] is not None]


def _choose(
    n_rows: int, kinds: list[str], rate: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    n_faults = min(round(rate * n_rows), n_rows)
    rows = rng.choice(n_rows, n_faults, replace=False)
    kind = rng.integers(0, len(kinds), n_faults)
    return {k: np.sort(rows[kind == i]) for i, k in enumerate(kinds)}


def _replace(table: pa.Table, column: str, rows: np.ndarray, values: list[str]) -> pa.Table:
    if not len(rows):
        return table
    col = table.column(column).combine_chunks().cast(pa.string())
    mask = np.zeros(len(col), dtype=bool)
    mask[rows] = True
    new = pc.replace_with_mask(col, pa.array(mask), pa.array(values, pa.string()))
    return table.set_column(table.schema.get_field_index(column), column, new)


def inject(
    table: pa.Table, spec: FaultSpec, rate: float, rng: np.random.Generator
) -> tuple[pa.Table, dict[str, int]]:
    """Inject faults into ``rate`` of the rows of a text table.

    Parameters
    ----------
    table : pyarrow.Table
        The clean layout (text columns).
    spec : FaultSpec
    rate : float
        Fraction of rows to damage, in ``[0, 0.5]``.
    rng : numpy.random.Generator

    Returns
    -------
    (pyarrow.Table, dict)
        The damaged table and the number of faults of each kind.
    """
    picked = _choose(table.num_rows, spec.kinds(), rate, rng)
    for kind, rows in picked.items():
        if kind == "unparseable_date":
            table = _replace(table, spec.date, rows, [spec.bad_date] * len(rows))
        elif kind == "missing_id":
            col = table.column(spec.id).combine_chunks()
            mask = np.zeros(table.num_rows, dtype=bool)
            mask[rows] = True
            table = table.set_column(
                table.schema.get_field_index(spec.id),
                spec.id,
                pc.if_else(pa.array(mask), pa.nulls(len(col), col.type), col),
            )
        elif kind == "negative_price":
            old = table.column(spec.price).take(pa.array(rows)).to_pylist()
            table = _replace(table, spec.price, rows, [f"-{v}" for v in old])
        elif kind == "zero_quantity":
            table = _replace(table, spec.quantity, rows, ["0"] * len(rows))
        elif kind == "unknown_channel":
            table = _replace(table, spec.channel, rows, [spec.bad_channel] * len(rows))
        elif kind == "bad_encoding":
            old = table.column(spec.text).take(pa.array(rows)).to_pylist()
            table = _replace(table, spec.text, rows, [f"{v or ''}{SENTINEL}" for v in old])
    dups = picked.get("duplicate_row", np.empty(0, dtype=np.int64))
    if len(dups):
        index = np.sort(np.concatenate([np.arange(table.num_rows), dups]), kind="stable")
        table = table.take(pa.array(index))
    return table, {k: len(v) for k, v in picked.items() if len(v)}


def inject_frame(
    frame: pd.DataFrame, spec: FaultSpec, rate: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, int]]:
    """:func:`inject` for a typed frame (Excel): ids, prices and duplicates only."""
    kinds = [k for k in spec.kinds() if k in ("missing_id", "negative_price", "duplicate_row")]
    picked = _choose(len(frame), kinds, rate, rng)
    frame = frame.copy()
    if "missing_id" in picked:
        frame.loc[frame.index[picked["missing_id"]], spec.id] = None
    if "negative_price" in picked:
        rows = frame.index[picked["negative_price"]]
        frame.loc[rows, spec.price] = ["-" + str(v) for v in frame.loc[rows, spec.price]]
    dups = picked.get("duplicate_row", np.empty(0, dtype=np.int64))
    if len(dups):
        index = np.sort(np.concatenate([np.arange(len(frame)), dups]), kind="stable")
        frame = frame.iloc[index].reset_index(drop=True)
    return frame, {k: len(v) for k, v in picked.items() if len(v)}


def encode_bad_bytes(data: bytes, encoding: str) -> bytes:
    """Replace every :data:`SENTINEL` in encoded ``data`` by bytes invalid in ``encoding``."""
    return data.replace(SENTINEL.encode("ascii"), INVALID_BYTES[encoding])
