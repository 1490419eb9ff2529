"""Load files into the warehouse: staging, de-duplication, quarantine, one commit per file.

For each file the rows that pass validation are appended to a temporary staging table and the
rejected ones to a temporary quarantine table, batch by batch (memory stays bounded). Then, in
one transaction, the new rows are inserted into the target table with one set-based statement
(first row per natural key within the file, anti-join against the rows already loaded), the
quarantined rows are inserted into ``quarantine`` and the file is recorded in ``ingest_runs``.
A crash or Ctrl-C before the commit leaves nothing of the file behind; re-running it loads it.

For every file: rows read = rows loaded + rows quarantined + duplicates skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Mapping as MappingABC
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from omnicrm.errors import InputError
from omnicrm.ingest.mapping import Mapping, load_mapping
from omnicrm.ingest.readers import open_source
from omnicrm.ingest.source import Reject
from omnicrm.ingest.transform import LINE, Plan, output_schema, transform
from omnicrm.schema import get_table
from omnicrm.schema.tables import INGEST_RUNS, QUARANTINE
from omnicrm.schema.types import Table
from omnicrm.warehouse import ensure_table, transaction
from omnicrm.warehouse.staging import (
    append_arrow,
    create_staging_table,
    drop_staging_table,
)

T = TypeVar("T")

_QUARANTINE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("table_name", pa.string()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)
_RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("table_name", pa.string()),
        ("source_file", pa.string()),
        ("file_sha256", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("rows_duplicate", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Progress:
    """Where the load of one file stands (passed to the ``progress`` callback)."""

    file: str
    bytes_done: int
    bytes_total: int
    rows_read: int
    done: bool = False


ProgressCallback = Callable[[Progress], None]


@dataclass
class FileResult:
    """What became of one file's rows."""

    file: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = 0
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass
class IngestResult:
    """Totals of one ingestion run over one or more files.

    Examples
    --------
    >>> r = IngestResult("run1", "orders", [FileResult("a.csv", 3, 2, 1, 0)])
    >>> r.as_dict()["read"], r.loaded
    (3, 2)
    """

    run_id: str
    table: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        """``read``, ``loaded``, ``quarantined``, ``duplicates``, ``files`` and ``run_id``."""
        return {
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "files": [f.as_dict() for f in self.files],
            "run_id": self.run_id,
            "table": self.table,
        }


def ingest_files(
    con: BaseBackend,
    paths: Iterable[str | Path],
    *,
    table: str,
    mapping: str | Path | MappingABC[str, Any] | Mapping | None = None,
    check_references: bool = False,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
) -> IngestResult:
    """Load files into contract table ``table``; each file commits on its own.

    Parameters
    ----------
    con : ibis backend
        The warehouse (see :func:`omnicrm.warehouse.connect`).
    paths : iterable of path
        Files to load, in order (earlier files win on duplicate keys).
    table : str
        Contract table name (see ``docs/data-model.md``).
    mapping : path, dict or Mapping, optional
        Column mapping (TOML file or the same structure as a dict).
    check_references : bool
        Also reject rows whose references (e.g. ``order_lines.product_id``) are not loaded.
    progress : callable, optional
        Called with a :class:`Progress` after each batch.
    run_id : str, optional
        Identifier of the run (default: a new UUID).

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from omnicrm.warehouse import connect
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "stores.csv"
    >>> _ = p.write_text("store_id,name,channel\\nS1,Main,store\\nS2,Web,web\\nS1,Main,store\\n")
    >>> con = connect("duckdb://:memory:")
    >>> r = ingest_files(con, [p], table="stores")
    >>> r.read, r.loaded, r.quarantined, r.duplicates
    (3, 1, 1, 1)
    """
    contract = get_table(table)
    mapping = load_mapping(mapping)
    result = IngestResult(run_id or uuid.uuid4().hex, contract.name)
    for path in paths:
        result.files.append(
            _ingest_one(
                con,
                Path(path),
                contract,
                mapping,
                check_references=check_references,
                progress=progress,
                run_id=result.run_id,
            )
        )
    return result


def ingest_file(
    con: BaseBackend,
    path: str | Path,
    *,
    table: str,
    mapping: str | Path | MappingABC[str, Any] | Mapping | None = None,
    check_references: bool = False,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
) -> FileResult:
    """Load one file; see :func:`ingest_files`."""
    return ingest_files(
        con,
        [path],
        table=table,
        mapping=mapping,
        check_references=check_references,
        progress=progress,
        run_id=run_id,
    ).files[0]


def _ingest_one(
    con: BaseBackend,
    path: Path,
    contract: Table,
    mapping: Mapping,
    *,
    check_references: bool,
    progress: ProgressCallback | None,
    run_id: str,
) -> FileResult:
    started = _now()
    name = str(path)
    source = open_source(path, mapping.source)
    try:
        mapping.check(contract, source.columns, file=name)
        references = _references(con, contract) if check_references else {}
    except BaseException:
        _close(source)
        raise
    for t in (contract, QUARANTINE, INGEST_RUNS):
        ensure_table(con, t)
    plan = Plan(contract, mapping, source.columns, name, references)
    result = FileResult(name)
    stage = quarantine = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256, path)
        try:
            stage = create_staging_table(con, output_schema(contract), prefix="rows")
            quarantine = create_staging_table(con, _QUARANTINE_SCHEMA, prefix="quarantine")
            staged = 0
            transformed = (
                (batch, transform(batch.data, batch.lines, plan)) for batch in source.batches()
            )
            # closing(): stop the reader thread at once if this loop fails
            with contextlib.closing(prefetch(transformed)) as batches:
                for batch, out in batches:
                    append_arrow(con, stage, out.good)
                    bad = _quarantine_rows(
                        run_id,
                        contract.name,
                        name,
                        out.bad_lines,
                        out.bad_raw,
                        out.reasons,
                        batch.rejects,
                    )
                    append_arrow(con, quarantine, bad)
                    staged += out.good.num_rows
                    result.read += batch.rows_read
                    result.quarantined += bad.num_rows
                    if progress is not None:
                        progress(Progress(name, source.position(), source.size, result.read))
            result.sha256 = digest.result()
            with transaction(con):
                result.loaded = _insert_new_rows(con, contract, stage)
                con.insert(QUARANTINE.name, con.table(quarantine))
                append_arrow(
                    con, INGEST_RUNS.name, _run_row(run_id, contract.name, result, started)
                )
            result.duplicates = staged - result.loaded
        finally:
            _close(source)
            for t in (stage, quarantine):
                if t is not None:
                    drop_staging_table(con, t)
    if progress is not None:
        progress(Progress(name, source.size, source.size, result.read, done=True))
    return result


def _insert_new_rows(con: BaseBackend, contract: Table, stage: str) -> int:
    """Insert the staged rows whose natural key is new; return how many were inserted."""
    staged = con.table(stage)
    key = list(contract.key)
    first = staged
    counts = staged.aggregate(
        rows=staged.count(), keys=staged.select(key).distinct().count().as_scalar()
    )
    rows, keys = counts.to_pyarrow().to_pylist()[0].values()
    if rows != keys:  # repeated keys within the file: the first line wins
        window = ibis.window(group_by=[staged[k] for k in key], order_by=staged[LINE])
        ranked = staged.mutate(_omnicrm_rank=ibis.row_number().over(window))
        first = ranked.filter(ranked._omnicrm_rank == 0)
    target = con.table(contract.name)
    new = first.anti_join(target, key).select(*contract.column_names)
    before = target.count().to_pyarrow().as_py()
    con.insert(contract.name, new)
    return con.table(contract.name).count().to_pyarrow().as_py() - before


def _references(con: BaseBackend, contract: Table) -> dict[str, tuple[pa.Array, str]]:
    """Allowed values per referencing column, for the referenced tables that are loaded.

    References to tables not loaded yet (e.g. ``orders`` for a line-level POS export) are
    skipped; if none of them is loaded the check cannot run, which is an error.
    """
    out = {}
    tables = set(con.list_tables())
    wanted = [c for c in contract.columns if c.references is not None]
    for col in wanted:
        ref_table, ref_col = col.references.split(".")
        if ref_table not in tables:
            continue
        values = con.table(ref_table).select(ref_col).distinct().to_pyarrow().column(0)
        out[col.name] = (pc.cast(values.combine_chunks(), pa.string()), col.references)
    if wanted and not out:
        targets = ", ".join(c.references for c in wanted)
        raise InputError(
            f"--check-references: {contract.name} refers to {targets}, but none "
            "of these tables is loaded yet; load them first or drop "
            "--check-references"
        )
    return out


def _quarantine_rows(
    run_id: str,
    table: str,
    file: str,
    lines: np.ndarray,
    raw: pa.Array,
    reasons: pa.Array,
    rejects: list[Reject],
) -> pa.Table:
    if rejects:
        lines = np.concatenate([lines, np.array([r.line for r in rejects], dtype=np.int64)])
        raw = pa.concat_arrays(
            [raw.cast(pa.string()), pa.array([r.raw for r in rejects], pa.string())]
        )
        reasons = pa.concat_arrays(
            [reasons.cast(pa.string()), pa.array([r.reason for r in rejects], pa.string())]
        )
    n = len(lines)
    return pa.table(
        [
            pa.repeat(pa.scalar(run_id), n),
            pa.repeat(pa.scalar(table), n),
            pa.repeat(pa.scalar(file), n),
            pa.array(lines, pa.int64()),
            raw,
            reasons,
            pa.repeat(pa.scalar(_now(), pa.timestamp("us", tz="UTC")), n),
        ],
        schema=_QUARANTINE_SCHEMA,
    )


def _run_row(run_id: str, table: str, result: FileResult, started: dt.datetime) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "run_id": run_id,
                "table_name": table,
                "source_file": result.file,
                "file_sha256": result.sha256,
                "started_at": started,
                "finished_at": _now(),
                "rows_read": result.read,
                "rows_loaded": result.loaded,
                "rows_quarantined": result.quarantined,
                "rows_duplicate": result.read - result.loaded - result.quarantined,
            }
        ],
        schema=_RUNS_SCHEMA,
    )


def prefetch(batches: Iterator[T]) -> Iterator[T]:
    """Produce the next item in a background thread while the current one is consumed.

    Ingestion reads and transforms batch n+1 while batch n is written to the warehouse; at most
    three batches are in memory at once. pyarrow and the warehouse release the GIL, so the two
    overlap on a multi-core machine. An exception in the producer is raised in the consumer.
    """
    slots: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)

    worker = threading.Thread(target=produce, name="omnicrm-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _close(source) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
