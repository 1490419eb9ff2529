"""Open the analytical warehouse from a URL. Nothing else in omnicrm imports a backend.

Supported URLs
--------------
``duckdb:///relative/file.duckdb`` or ``duckdb:////absolute/file.duckdb``
    Embedded DuckDB file (the default, ``duckdb:///./omnicrm.duckdb``). As in SQLAlchemy, three
    slashes are followed by a path relative to the current directory and four by an absolute
    one; parent folders are created.
``duckdb://:memory:`` or ``duckdb://``
    In-memory DuckDB (tests, notebooks).
``postgres://user@host:port/db`` or ``postgresql://…``
    PostgreSQL through Ibis.
``pyspark://local[2]``
    Spark local mode (the ``spark`` extra); ``pyspark://`` means ``local[2]``.

Examples
--------
>>> from omnicrm.warehouse import connect
>>> con = connect("duckdb://:memory:")
>>> con.name
'duckdb'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import ibis
from ibis.backends import BaseBackend

from omnicrm.config import warehouse_url
from omnicrm.errors import InputError

SUPPORTED_SCHEMES = ("duckdb", "postgres", "postgresql", "pyspark")


def connect(url: str | None = None, *, read_only: bool = False) -> BaseBackend:
    """Open the warehouse at ``url`` (default: ``$OMNICRM_WAREHOUSE`` or the local DuckDB file).

    Parameters
    ----------
    url : str, optional
        Warehouse URL; see the module documentation for the forms accepted.
    read_only : bool
        Open a DuckDB file read-only (several readers may then share it).

    Returns
    -------
    ibis.backends.BaseBackend
        An Ibis backend; every query on it is an Ibis expression.

    Raises
    ------
    InputError
        For an unsupported scheme, or a PostgreSQL/Spark server that cannot be reached.
    """
    url = warehouse_url(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "duckdb":
        return _connect_duckdb(url, read_only=read_only)
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        return _connect_postgres(url)
    if scheme == "pyspark":
        return _connect_pyspark(url)
    raise InputError(
        f"warehouse URL {url!r} is not supported: use one of "
        "duckdb:///path/file.duckdb, duckdb://:memory:, postgresql://user@host/db, "
        "pyspark://local[2] (flag --warehouse or variable OMNICRM_WAREHOUSE)"
    )


def _connect_duckdb(url: str, *, read_only: bool) -> BaseBackend:
    rest = url.split("://", 1)[1]
    if rest in ("", ":memory:", "/:memory:"):
        con = ibis.duckdb.connect(":memory:")
        _configure_duckdb(con)
        return con
    # SQLAlchemy's convention: three slashes then a relative path, four for an absolute one
    # (duckdb:///./omnicrm.duckdb, duckdb:////srv/crm/omnicrm.duckdb).
    path = Path(rest[1:] if rest.startswith("/") else rest)
    path = path.expanduser()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise InputError(
            f"warehouse file {str(path)!r} does not exist: run 'omnicrm ingest' or "
            "'omnicrm demo' first, or point --warehouse at an existing file"
        )
    try:
        con = ibis.duckdb.connect(str(path), read_only=read_only)
    except Exception as exc:  # duckdb raises IOException for a locked or corrupt file
        raise InputError(
            f"cannot open warehouse file {str(path)!r}: {exc}. Close other programs using it "
            "or choose another file with --warehouse"
        ) from exc
    _configure_duckdb(con)
    return con


# DuckDB keeps the memory a query freed for reuse unless one bulk deallocation frees more than
# this (DuckDB's default: 512 MiB). A lower bound hands it back to the operating system between
# queries: on the basket benchmark (docs/basket.md) the peak private memory of four successive
# rule runs fell from about 240 MB to about 210 MB; ingestion and analysis times did not move.
BULK_FLUSH_THRESHOLD = "8MiB"


def _configure_duckdb(con: BaseBackend) -> None:
    """DuckDB without its own progress bar (the CLI draws its own), returning freed memory."""
    con.con.execute("SET enable_progress_bar = false")
    con.con.execute("SET allocator_bulk_deallocation_flush_threshold = ?", [BULK_FLUSH_THRESHOLD])


def _connect_postgres(url: str) -> BaseBackend:
    url = "postgres://" + url.split("://", 1)[1]
    try:
        return ibis.connect(url)
    except Exception as exc:
        parts = urlsplit(url)
        raise InputError(
            f"cannot connect to PostgreSQL at {parts.hostname}:{parts.port or 5432}: {exc}. "
            "Check the server is running and the URL (postgresql://user@host:port/db)"
        ) from exc


def _connect_pyspark(url: str) -> BaseBackend:
    master = url.split("://", 1)[1] or "local[2]"
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "the pyspark warehouse needs the spark extra: pip install 'omnicrm[spark]'"
        ) from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(master)
        .appName("omnicrm")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def backend_name(con: BaseBackend) -> str:
    """Return the backend's name (``duckdb``, ``postgres``, ``pyspark``)."""
    return con.name


@contextlib.contextmanager
def transaction(con: BaseBackend) -> Iterator[None]:
    """Run the enclosed writes as one transaction: all of them land, or none.

    On DuckDB and PostgreSQL this is a real database transaction (on PostgreSQL the statements
    Ibis runs inside become savepoints of it). Spark has no multi-statement transactions; there
    writes inside the block are applied as they are made, and callers keep atomicity by writing
    to a staging table first (as ingestion does).

    Examples
    --------
    >>> con = connect("duckdb://:memory:")
    >>> with transaction(con):
    ...     _ = con.create_table("t", schema=ibis.schema({"a": "int64"}))
    >>> "t" in con.list_tables()
    True
    """
    if con.name == "postgres":
        with con.con.transaction():
            yield
        return
    if con.name != "duckdb":
        yield
        return
    raw = con.con
    raw.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    else:
        raw.execute("COMMIT")


def user_tables(con: BaseBackend) -> list[str]:
    """Tables in the warehouse, without Ibis' temporary in-memory tables."""
    return sorted(t for t in con.list_tables() if not t.startswith(("ibis_", "_omnicrm")))
