"""Write layouts to disk, byte-for-byte reproducibly.

CSV goes through Arrow's writer, then is encoded (UTF-8, UTF-8 with a byte-order mark or GBK),
the ``--dirty`` placeholders become invalid bytes, and ``.gz`` files are compressed with a
zero timestamp. Excel workbooks are written with openpyxl in write-only mode and re-packed with
fixed zip-entry dates and document properties, so the same seed gives the same bytes.

Examples
--------
>>> import pyarrow as pa, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> write_csv(path, pa.table({"名称": ["牛奶"], "n": ["1"]}), encoding="gbk")
2
>>> path.read_bytes().decode("gbk")
'"名称","n"\\n"牛奶","1"\\n'
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from omnicrm.datagen.faults import encode_bad_bytes

FIXED_TIME = dt.datetime(2020, 1, 1)
"""Timestamp written into file metadata (xlsx properties, zip entries)."""


def _csv_bytes(table: pa.Table, delimiter: str) -> bytes:
    sink = io.BytesIO()
    pcsv.write_csv(
        table,
        sink,
        pcsv.WriteOptions(delimiter=delimiter, quoting_style="needed", batch_size=65_536),
    )
    return sink.getvalue()


def write_csv(
    path: Path, table: pa.Table, *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False
) -> int:
    """Write a text table as CSV; gzip it when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : Path
    table : pyarrow.Table
        Text columns; nulls are written as empty fields.
    delimiter : str
    encoding : {"utf-8", "gbk"}
    bom : bool
        Start the file with a UTF-8 byte-order mark (Excel's "CSV UTF-8").

    Returns
    -------
    int
        Number of lines written, header included.
    """
    data = _csv_bytes(table, delimiter)
    if encoding == "gbk":
        data = data.decode("utf-8").encode("gbk")
    data = encode_bad_bytes(data, encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=1, mtime=0)
    path.write_bytes(data)
    return table.num_rows + 1


def json_lines(table: pa.Table) -> bytes:
    """Render a table as JSON lines with Arrow compute (strings escaped, nulls as ``null``).

    >>> json_lines(pa.table({"a": ["x\\"y", None], "n": pa.array([1, None])}))
    b'{"a":"x\\\\"y","n":1}\\n{"a":null,"n":null}\\n'
    """
    parts: list[pa.Array | pa.Scalar] = []
    for k, name in enumerate(table.column_names):
        col = table.column(name).combine_chunks()
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = col.cast(pa.large_string())
            escaped = pc.replace_substring(col, "\\", "\\\\")
            escaped = pc.replace_substring(pc.replace_substring(escaped, '"', '\\"'), "\n", "\\n")
            quote = pa.scalar('"', pa.large_string())
            value = pc.binary_join_element_wise(
                quote, escaped, quote, pa.scalar("", pa.large_string())
            )
        else:
            value = col.cast(pa.large_string())
        value = pc.fill_null(value, "null")
        parts += [
            pa.scalar(("{" if k == 0 else ",") + json.dumps(name) + ":", pa.large_string()),
            value,
        ]
    parts.append(pa.scalar("}\n", pa.large_string()))
    lines = pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))
    if not len(lines):
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def write_jsonl(path: Path, table: pa.Table | pd.DataFrame) -> int:
    """Write one JSON object per line (UTF-8, nulls as ``null``); return the line count."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    data = encode_bad_bytes(json_lines(table), "utf-8")
    path.write_bytes(data)
    return table.num_rows


def write_xlsx(
    path: Path, frame: pd.DataFrame, *, sheet: str, number_columns: tuple[str, ...] = ()
) -> int:
    """Write a frame to a one-sheet workbook (typed cells); return the number of rows.

    ``number_columns`` hold decimal text written as numeric cells (what an ERP export does);
    a value that is not a number (a damaged one) is kept as text.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    book.properties.creator = "omnicrm datagen"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    ws = book.create_sheet(sheet)
    ws.append(list(frame.columns))
    numeric = [frame.columns.get_loc(c) for c in number_columns]
    for row in frame.itertuples(index=False, name=None):
        values = list(row)
        for k in numeric:
            values[k] = _number(values[k])
        ws.append([None if isinstance(v, float) and pd.isna(v) else v for v in values])
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(_repack(buf.getvalue()))
    return len(frame)


def _number(value: object) -> object:
    if value is None:
        return None
    try:
        return float(str(value))
    except ValueError:
        return value


def _repack(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry dates and fixed document timestamps."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                body = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, body
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()
