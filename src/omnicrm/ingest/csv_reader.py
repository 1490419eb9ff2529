"""Streaming CSV/TSV reader: byte chunks split into records with numpy, parsed by pyarrow.

The file is read in chunks of :data:`CHUNK_BYTES` that end on a record boundary (a newline
outside double quotes, RFC 4180). For each chunk numpy finds every record's start and its line
number in the file, so rows keep their exact source line even with quoted newlines and blank
lines. pyarrow's multi-threaded parser turns the chunk into string columns. Records pyarrow
cannot use (wrong number of fields, bytes invalid in the file's encoding) are cut out of the
chunk and returned as :class:`~omnicrm.ingest.source.Reject` rows with a reason, so the rest of
the file still loads. Memory stays bounded by the chunk size whatever the file size.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
>>> _ = p.write_text('id;name\\n1;"a;b"\\n\\n2;c;extra\\n3;d\\n')
>>> src = CsvSource(p)
>>> src.delimiter, src.columns
(';', ['id', 'name'])
>>> [(b.data.column("name").to_pylist(), b.lines.tolist(), [r.line for r in b.rejects])
...  for b in src.batches()]
[(['a;b', 'd'], [2, 5], [4])]
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from omnicrm.errors import InputError
from omnicrm.ingest.encoding import (
    SAMPLE_BYTES,
    bad_byte_offsets,
    check_not_unreadable,
    detect_encoding,
    strip_bom,
)
from omnicrm.ingest.source import Reject, SourceBatch

CHUNK_BYTES = 32 << 20
MAX_RECORD_BYTES = 64 << 20
DELIMITERS = (",", ";", "\t", "|")
_NL, _QUOTE, _CR = 10, 34, 13


class CsvSource:
    """A delimited text file (optionally gzip-compressed) read as batches of string columns.

    Parameters
    ----------
    path : Path
        The file; ``.gz`` files are decompressed on the fly.
    delimiter : str, optional
        Field separator; sniffed from the first lines when omitted (``.tsv``: tab).
    encoding : str, optional
        Codec (``utf-8`` or ``gb18030``); detected when omitted.
    header_row : int
        1-based line holding the column names; lines above it are skipped.
    """

    def __init__(
        self,
        path: Path,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        header_row: int = 1,
    ) -> None:
        self.path = Path(path)
        self._raw = open(self.path, "rb")  # noqa: SIM115 - closed when batches() finishes
        self._stream = gzip.GzipFile(fileobj=self._raw) if self.path.suffix == ".gz" else self._raw
        self.size = self.path.stat().st_size
        try:
            self._open(delimiter, encoding, header_row)
        except BaseException:
            self.close()
            raise

    def _open(self, delimiter: str | None, encoding: str | None, header_row: int) -> None:
        try:
            sample = self._stream.read(SAMPLE_BYTES)
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read {self.path}: {exc} (is it really gzip?)") from exc
        self._eof = len(sample) < SAMPLE_BYTES  # the whole file is in the sample
        self.codec = encoding or detect_encoding(sample, path=str(self.path))
        sample = strip_bom(sample)
        if sample and not sample.endswith(b"\n") and self._eof:
            sample += b"\n"
        self._pending, self._line = self._read_header(sample, delimiter, header_row)

    # -- header -----------------------------------------------------------------------------
    def _read_header(
        self, sample: bytes, delimiter: str | None, header_row: int
    ) -> tuple[bytes, int]:
        ends = _record_ends(np.frombuffer(sample, dtype=np.uint8))
        if len(ends) < header_row:
            raise InputError(
                f"{self.path} has no header line at line {header_row}: the file is empty or "
                "shorter; check the file or [source] header_row"
            )
        start = 0 if header_row == 1 else int(ends[header_row - 2]) + 1
        end = int(ends[header_row - 1])
        try:
            header_text = sample[start:end].decode(self.codec).rstrip("\r")
        except UnicodeDecodeError:
            raise InputError(
                f"cannot read the header of {self.path} as {self.codec}; set [source] encoding "
                "in the mapping file (utf-8, gbk or gb18030)"
            ) from None
        following = [
            sample[int(a) + 1 : int(b)].decode(self.codec, "replace")
            for a, b in zip(
                ends[header_row - 1 : header_row + 19],
                ends[header_row : header_row + 20],
                strict=False,
            )
        ]
        if delimiter is None:
            delimiter = (
                "\t" if ".tsv" in self.path.suffixes else sniff_delimiter(header_text, following)
            )
        self.delimiter = delimiter
        names = [
            n.strip().lstrip("\ufeff") for n in next(csv.reader([header_text], delimiter=delimiter))
        ]
        seen = {n for n in names if names.count(n) > 1}
        if seen or "" in names:
            problem = f"repeats {sorted(seen)}" if seen else "has an empty column name"
            raise InputError(
                f"the header of {self.path} {problem}: {names}; give every column a distinct name"
            )
        self.columns = names
        consumed = sample[: end + 1]
        return sample[end + 1 :], consumed.count(b"\n") + 1

    # -- streaming --------------------------------------------------------------------------
    def batches(self) -> Iterator[SourceBatch]:
        """Yield the rows of the file, one chunk at a time."""
        buf = self._pending
        eof = self._eof
        try:
            while buf or not eof:
                if not eof and len(buf) < CHUNK_BYTES:
                    more = self._stream.read(CHUNK_BYTES)
                    eof = not more
                    buf += more
                    continue
                if eof and len(buf) <= CHUNK_BYTES:
                    cut = len(buf)
                else:
                    cut = _last_record_end(buf, CHUNK_BYTES) or _last_record_end(buf)
                    if cut == 0 and eof:
                        cut = len(buf)
                    elif cut == 0:
                        if len(buf) > MAX_RECORD_BYTES:
                            raise InputError(
                                f"{self.path}: no end of record found after line {self._line} "
                                f'in {len(buf) >> 20} MiB; a double quote (") is probably '
                                "not closed"
                            )
                        more = self._stream.read(CHUNK_BYTES)
                        eof = not more
                        buf += more
                        continue
                chunk, buf = buf[:cut], buf[cut:]
                if not chunk.endswith(b"\n"):
                    chunk += b"\n"
                yield self._parse_chunk(chunk)
        finally:
            self.close()

    def close(self) -> None:
        """Close the file."""
        self._stream.close()
        self._raw.close()

    def position(self) -> int:
        """Bytes of the (compressed) file consumed so far."""
        return self.size if self._raw.closed else self._raw.tell()

    def _parse_chunk(self, chunk: bytes) -> SourceBatch:
        first_line = self._line
        n_lines = chunk.count(b"\n")
        self._line += n_lines
        data = chunk
        if self.codec != "utf-8":  # transcoding keeps every newline, quote and delimiter
            try:
                data = chunk.decode(self.codec).encode("utf-8")
            except UnicodeDecodeError:
                return self._parse_records(chunk, first_line)
        # Fast path: one record per line (no blank lines, no quoted newlines, no bad rows).
        if b"\n\n" not in data and b"\n\r\n" not in data and not data.startswith((b"\n", b"\r\n")):
            try:
                table, invalid = self._arrow_parse(data)
            except pa.ArrowInvalid:
                table, invalid = None, 1
            if not invalid and table.num_rows == n_lines:
                return SourceBatch(
                    table, np.arange(first_line, first_line + n_lines, dtype=np.int64)
                )
        return self._parse_records(chunk, first_line)

    def _parse_records(self, chunk: bytes, first_line: int) -> SourceBatch:
        """Exact path: find every record with numpy, cut out the ones that cannot be read."""
        arr = np.frombuffer(chunk, dtype=np.uint8)
        newlines = np.flatnonzero(arr == _NL)
        ends = _record_ends(arr, newlines)
        if not len(ends) or ends[-1] != len(arr) - 1:
            after = first_line + (int(np.searchsorted(newlines, ends[-1])) + 1 if len(ends) else 0)
            raise InputError(
                f"{self.path}: no end of record found after line {after}; a "
                'double quote (") is probably not closed'
            )
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        lines = first_line + np.searchsorted(newlines, starts)
        keep = ~((ends == starts) | ((ends - starts == 1) & (arr[starts] == _CR)))
        rejects: list[Reject] = []

        if self.codec != "utf-8":
            try:
                data = chunk.decode(self.codec).encode("utf-8")
            except UnicodeDecodeError:
                self._reject_misencoded(chunk, starts, ends, lines, keep, rejects)
                data = _rebuild(arr, starts, ends, keep).decode(self.codec).encode("utf-8")
        else:
            data = chunk if keep.all() else _rebuild(arr, starts, ends, keep)
        try:
            table, invalid = self._arrow_parse(data)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc).upper():
                raise InputError(f"cannot parse {self.path} near line {lines[0]}: {exc}") from exc
            self._reject_misencoded(chunk, starts, ends, lines, keep, rejects)
            data = _rebuild(arr, starts, ends, keep)
            table, invalid = self._arrow_parse(data)

        row_lines = lines[keep]
        if invalid or table.num_rows != len(row_lines):
            table, row_lines = self._reject_malformed(data, row_lines, rejects)
        return SourceBatch(table, row_lines.astype(np.int64), rejects)

    def _arrow_parse(self, data: bytes) -> tuple[pa.Table, int]:
        invalid: list[int] = []

        def skip(_row) -> str:
            invalid.append(1)
            return "skip"

        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=self.columns, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=b'"' in data,
                invalid_row_handler=skip,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(self.columns, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        return table, len(invalid)

    # -- slow paths for dirty chunks --------------------------------------------------------
    def _reject_misencoded(
        self,
        chunk: bytes,
        starts: np.ndarray,
        ends: np.ndarray,
        lines: np.ndarray,
        keep: np.ndarray,
        rejects: list[Reject],
    ) -> None:
        offsets = np.asarray(bad_byte_offsets(chunk, self.codec), dtype=np.int64)
        records = np.unique(np.searchsorted(ends, offsets))
        check_not_unreadable(len(records), int(keep.sum()), path=str(self.path), codec=self.codec)
        label = "UTF-8" if self.codec == "utf-8" else "GB18030"
        other = "GBK" if self.codec == "utf-8" else "UTF-8"
        for r in records:
            keep[r] = False
            fields = _split_latin1(chunk[starts[r] : ends[r]], self.delimiter)
            bad_cols = []
            for name, value in zip(self._names_for(len(fields)), fields, strict=True):
                try:
                    value.encode("latin-1").decode(self.codec)
                except UnicodeDecodeError:
                    bad_cols.append(name)
            decoded = [f.encode("latin-1").decode(self.codec, "replace") for f in fields]
            reason = "; ".join(
                f"{c}: text is not valid {label} (mis-encoded; set [source] encoding if the "
                f"whole file is {other})"
                for c in bad_cols
            )
            rejects.append(Reject(int(lines[r]), self._raw_json(decoded), reason))

    def _reject_malformed(
        self, data: bytes, row_lines: np.ndarray, rejects: list[Reject]
    ) -> tuple[pa.Table, np.ndarray]:
        arr = np.frombuffer(data, dtype=np.uint8)
        ends = _record_ends(arr)
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        delim = np.flatnonzero(arr == ord(self.delimiter))
        quotes = np.flatnonzero(arr == _QUOTE)
        if quotes.size:
            delim = delim[(np.searchsorted(quotes, delim) & 1) == 0]
        fields = np.bincount(np.searchsorted(ends, delim), minlength=len(ends)) + 1
        keep = fields == len(self.columns)
        for r in np.flatnonzero(~keep):
            values = next(
                csv.reader(
                    [data[starts[r] : ends[r]].decode("utf-8").rstrip("\r")],
                    delimiter=self.delimiter,
                ),
                [],
            )
            rejects.append(
                Reject(
                    int(row_lines[r]),
                    self._raw_json(values),
                    f"row has {len(values)} fields but the header has {len(self.columns)} "
                    f"(check the delimiter {self.delimiter!r} and the quoting)",
                )
            )
        table, invalid = self._arrow_parse(_rebuild(arr, starts, ends, keep))
        if invalid or table.num_rows != int(keep.sum()):
            raise InputError(
                f"cannot split {self.path} into rows between lines {row_lines[0]} and "
                f"{row_lines[-1]}: check the quoting (a double quote inside an unquoted field "
                'must be written as a quoted field with "")'
            )
        return table, row_lines[keep]

    def _names_for(self, n: int) -> list[str]:
        return self.columns[:n] + [f"_extra_{i + 1}" for i in range(n - len(self.columns))]

    def _raw_json(self, values: list[str]) -> str:
        return json.dumps(
            dict(zip(self._names_for(len(values)), values, strict=True)), ensure_ascii=False
        )


def sniff_delimiter(header: str, lines: list[str]) -> str:
    """Pick the delimiter that splits the header and the next lines into the same, largest
    number of fields (``,`` when none splits anything).

    Examples
    --------
    >>> sniff_delimiter("a;b;c", ["1;2,5;3"])
    ';'
    """
    best, best_fields = ",", 1
    for cand in DELIMITERS:
        n = len(next(csv.reader([header], delimiter=cand)))
        if n <= 1:
            continue
        consistent = all(
            len(next(csv.reader([ln], delimiter=cand), [])) == n for ln in lines if ln.strip()
        )
        score = n + (1000 if consistent else 0)
        if score > best_fields:
            best, best_fields = cand, score
    return best


def _record_ends(arr: np.ndarray, newlines: np.ndarray | None = None) -> np.ndarray:
    """Positions of the newlines that end a record (outside double quotes)."""
    if newlines is None:
        newlines = np.flatnonzero(arr == _NL)
    quotes = np.flatnonzero(arr == _QUOTE)
    if not quotes.size:
        return newlines
    return newlines[(np.searchsorted(quotes, newlines) & 1) == 0]


def _last_record_end(buf: bytes, limit: int | None = None) -> int:
    """Length of the longest prefix of ``buf`` (at most ``limit`` bytes) made of whole
    records; 0 if there is none."""
    limit = len(buf) if limit is None else min(limit, len(buf))
    cut = buf.rfind(b"\n", 0, limit)
    if cut < 0 or buf.find(b'"', 0, cut) < 0:
        return cut + 1
    quotes_before = buf.count(b'"', 0, cut)
    while cut >= 0:
        if quotes_before % 2 == 0:
            return cut + 1
        prev = buf.rfind(b"\n", 0, cut)
        quotes_before -= buf.count(b'"', prev + 1, cut)
        cut = prev
    return 0


def _rebuild(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> bytes:
    """The bytes of the kept records (each with its newline), vectorised."""
    lengths = ends - starts + 1
    return arr[np.repeat(keep, lengths)].tobytes()


def _split_latin1(record: bytes, delimiter: str) -> list[str]:
    # latin-1 maps bytes 1:1, so ASCII delimiters and quotes split the raw bytes exactly.
    text = record.decode("latin-1").rstrip("\r")
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
