"""Open a source file of any supported format as a stream of string batches.

Every reader exposes the same small interface: ``columns`` (the source column names),
``batches()`` (an iterator of :class:`~omnicrm.ingest.source.SourceBatch`), ``position()``
(bytes consumed, for progress bars) and ``size``. Values stay text until
:mod:`omnicrm.ingest.parse` converts them to contract types, so a bad value never stops a file.

Formats: CSV/TSV/TXT (any delimiter, UTF-8 with or without BOM, GBK/GB18030, gzip), Parquet,
JSON lines and Excel ``.xlsx``.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "p.jsonl"
>>> _ = p.write_text('{"id": "P1", "price": 3.5}\\n\\n{"id": "P2", "price": 4}\\n')
>>> src = open_source(p)
>>> batch = next(src.batches())
>>> batch.data.to_pydict(), batch.lines.tolist()
({'id': ['P1', 'P2'], 'price': ['3.5', '4']}, [1, 3])
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from omnicrm.errors import InputError
from omnicrm.ingest.csv_reader import CsvSource
from omnicrm.ingest.encoding import normalise_encoding, strip_bom
from omnicrm.ingest.source import Reject, SourceBatch

EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".csv.gz": "csv",
    ".tsv.gz": "tsv",
    ".txt.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xlsx": "xlsx",
}
"""File extension -> format."""

FORMATS = ("csv", "tsv", "parquet", "jsonl", "xlsx")
BATCH_ROWS = 256_000
JSON_CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class SourceOptions:
    """The ``[source]`` section of a mapping: how to read the file.

    Examples
    --------
    >>> SourceOptions(format="csv", delimiter=";").header_row
    1
    """

    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    timezone: str | None = None


def detect_format(path: Path) -> str:
    """Return the format of ``path`` from its extension.

    Raises
    ------
    InputError
        For an extension omnicrm does not read; the message lists the supported ones.

    Examples
    --------
    >>> detect_format(Path("sales.csv.gz"))
    'csv'
    """
    name = path.name.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return EXTENSIONS[ext]
    raise InputError(
        f"unsupported file type {path.name!r}: use one of {', '.join(EXTENSIONS)} "
        "(or set [source] format in the mapping file)"
    )


def open_source(path: str | Path, options: SourceOptions | None = None):
    """Open ``path`` for reading with the reader its format needs.

    Raises
    ------
    InputError
        If the file does not exist, its type is not supported or it cannot be read.
    """
    path = Path(path)
    options = options or SourceOptions()
    if not path.is_file():
        raise InputError(f"file not found: {str(path)!r}; check the path")
    fmt = options.format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(
            f"[source] format = {fmt!r} is not supported: use one of {', '.join(FORMATS)}"
        )
    encoding = normalise_encoding(options.encoding)
    if fmt in ("csv", "tsv"):
        delimiter = options.delimiter or ("\t" if fmt == "tsv" else None)
        return CsvSource(
            path, delimiter=delimiter, encoding=encoding, header_row=options.header_row
        )
    if fmt == "parquet":
        return ParquetSource(path)
    if fmt == "jsonl":
        return JsonLinesSource(path)
    return XlsxSource(path, sheet=options.sheet, header_row=options.header_row)


def _as_strings(table: pa.Table) -> pa.Table:
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "true", "false")
        elif pa.types.is_null(column.type):
            column = pa.nulls(len(column), pa.string())
        elif not pa.types.is_string(column.type):
            try:
                column = pc.cast(column, pa.string())
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                raise InputError(
                    f"column {name!r} holds {column.type} values, which cannot be "
                    "loaded into a contract column; flatten it first"
                ) from None
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class ParquetSource:
    """A Parquet file read in record batches; row numbers start at 1."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
        self.columns = self._file.schema_arrow.names
        self._rows = max(1, self._file.metadata.num_rows)
        self._done = 0

    def batches(self) -> Iterator[SourceBatch]:
        for batch in self._file.iter_batches(batch_size=BATCH_ROWS):
            table = _as_strings(pa.Table.from_batches([batch]))
            lines = np.arange(self._done + 1, self._done + 1 + table.num_rows, dtype=np.int64)
            self._done += table.num_rows
            yield SourceBatch(table, lines)

    def position(self) -> int:
        return self.size * self._done // self._rows


class JsonLinesSource:
    """A JSON-lines file (one object per line), parsed by pyarrow in chunks.

    A chunk pyarrow rejects (invalid JSON, mixed value types, mis-encoded text) is read line
    by line instead, so only the faulty lines are rejected.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._file = open(path, "rb")  # noqa: SIM115 - closed when batches() finishes
        self._line = 1
        head = strip_bom(self._file.read(JSON_CHUNK_BYTES))
        if head.lstrip().startswith(b"["):
            self._file.close()
            raise InputError(
                f"{path} holds a JSON array; write one JSON object per line "
                "(JSON lines, .jsonl) instead"
            )
        self._pending = head
        first = self._parse(self._complete(head, final=False)[0], peek=True)
        self.columns = first.data.column_names

    def _complete(self, buf: bytes, *, final: bool) -> tuple[bytes, bytes]:
        if final:
            return (buf if buf.endswith(b"\n") or not buf else buf + b"\n"), b""
        cut = buf.rfind(b"\n") + 1
        return buf[:cut], buf[cut:]

    def batches(self) -> Iterator[SourceBatch]:
        buf = self._pending
        try:
            while True:
                more = self._file.read(JSON_CHUNK_BYTES)
                buf += more
                chunk, buf = self._complete(buf, final=not more)
                if chunk:
                    yield self._parse(chunk)
                if not more:
                    break
        finally:
            self._file.close()

    def position(self) -> int:
        return self.size if self._file.closed else self._file.tell()

    def _parse(self, chunk: bytes, *, peek: bool = False) -> SourceBatch:
        arr = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        lines = self._line + np.arange(len(ends), dtype=np.int64)
        if not peek:
            self._line += len(ends)
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (arr[np.minimum(starts, len(arr) - 1)] == 13))
        try:
            table = _as_strings(pajson.read_json(pa.py_buffer(chunk)))
            table.validate(full=True)  # pyarrow's JSON reader does not check UTF-8
            if table.num_rows == int((~blank).sum()):
                return SourceBatch(table, lines[~blank])
        except (pa.ArrowInvalid, InputError):
            pass
        return self._parse_lines(chunk, starts, ends, lines, blank)

    def _parse_lines(self, chunk: bytes, starts, ends, lines, blank) -> SourceBatch:
        rows: list[dict[str, str | None]] = []
        row_lines: list[int] = []
        rejects: list[Reject] = []
        for s, e, line, skip in zip(starts, ends, lines, blank, strict=True):
            if skip:
                continue
            text = chunk[s:e].decode("utf-8", "surrogateescape")
            try:
                obj = json.loads(text, parse_float=str, parse_int=str)
            except json.JSONDecodeError as exc:
                rejects.append(
                    Reject(
                        int(line),
                        _text_json(chunk[s:e]),
                        f"line: not valid JSON ({exc.msg} at column {exc.colno})",
                    )
                )
                continue
            if not isinstance(obj, dict):
                rejects.append(
                    Reject(int(line), _text_json(chunk[s:e]), "line: not a JSON object ({...})")
                )
                continue
            row = {k: _json_text(v) for k, v in obj.items()}
            misencoded = [k for k, v in row.items() if v is not None and _SURROGATES.search(v)]
            if misencoded:
                shown = {
                    k: v
                    if v is None
                    else v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                    for k, v in row.items()
                }
                rejects.append(
                    Reject(
                        int(line),
                        json.dumps(shown, ensure_ascii=False),
                        "; ".join(
                            f"{k}: text is not valid UTF-8 (mis-encoded; JSON files must be UTF-8)"
                            for k in misencoded
                        ),
                    )
                )
                continue
            rows.append(row)
            row_lines.append(int(line))
        names = list(dict.fromkeys(k for row in rows for k in row))
        table = (
            pa.table({n: pa.array([row.get(n) for row in rows], pa.string()) for n in names})
            if rows
            else pa.table({})
        )
        return SourceBatch(table, np.asarray(row_lines, dtype=np.int64), rejects)


_SURROGATES = re.compile("[\udc80-\udcff]")


def _text_json(raw: bytes) -> str:
    return json.dumps({"_text": raw.decode("utf-8", "replace")}, ensure_ascii=False)


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


class XlsxSource:
    """The first (or a named) sheet of an Excel workbook, streamed with openpyxl."""

    def __init__(self, path: Path, *, sheet: str | None, header_row: int) -> None:
        import openpyxl

        self.path = path
        self.size = path.stat().st_size
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError variants
            raise InputError(f"cannot read {path} as an Excel .xlsx workbook: {exc}") from exc
        if sheet is not None and sheet not in self._book.sheetnames:
            self._book.close()
            raise InputError(
                f"[source] sheet = {sheet!r} is not in {path.name}: its sheets are "
                f"{', '.join(self._book.sheetnames)}"
            )
        ws = self._book[sheet] if sheet else self._book.worksheets[0]
        self._total = max(1, ws.max_row or 1)
        self._rows = ws.iter_rows(values_only=True)
        self._line = 0
        header = None
        for _ in range(header_row):
            header = next(self._rows, None)
            self._line += 1
        if header is None:
            raise InputError(f"{path} has no header row at row {header_row}")
        self.columns = [str(h).strip() for h in header if h is not None]

    def batches(self) -> Iterator[SourceBatch]:
        n = len(self.columns)
        try:
            while True:
                values: list[list[str | None]] = [[] for _ in range(n)]
                lines: list[int] = []
                for row in self._rows:
                    self._line += 1
                    cells = [_cell_text(v) for v in row[:n]]
                    if all(c is None for c in cells):
                        continue
                    cells += [None] * (n - len(cells))
                    for col, cell in zip(values, cells, strict=True):
                        col.append(cell)
                    lines.append(self._line)
                    if len(lines) >= 50_000:
                        break
                if not lines:
                    return
                table = pa.table(
                    {c: pa.array(v, pa.string()) for c, v in zip(self.columns, values, strict=True)}
                )
                yield SourceBatch(table, np.asarray(lines, dtype=np.int64))
        finally:
            self._book.close()

    def position(self) -> int:
        return min(self.size, self.size * self._line // self._total)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() else None
