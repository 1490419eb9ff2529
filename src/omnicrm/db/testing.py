"""Helpers for tests that need a real database of their own.

:func:`temporary_schema` gives a PostgreSQL test a fresh schema (created, put first on the
``search_path`` of every connection through the URL, dropped afterwards), so parallel test
modules and other suites sharing the same database never see each other's tables.

Examples
--------
>>> from omnicrm.db.testing import schema_url
>>> schema_url("postgresql+psycopg://postgres@127.0.0.1:5432/test", "t_abc")
'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dt_abc'
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema``."""
    if not _NAME.match(schema):
        raise ValueError(f"schema name {schema!r} must match {_NAME.pattern}")
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


@contextmanager
def temporary_schema(url: str, prefix: str = "omnicrm_t") -> Iterator[str]:
    """Create a fresh schema in the PostgreSQL database at ``url``; yield a URL using it."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    if not _NAME.match(schema):
        raise ValueError(f"schema prefix {prefix!r} gives an invalid name {schema!r}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema_url(url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
