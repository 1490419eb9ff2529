"""Run-time settings read from the environment, with documented defaults.

Settings are resolved in this order: explicit argument (e.g. a CLI flag), environment
variable, default. Nothing here opens a connection.

Examples
--------
>>> from omnicrm.config import warehouse_url
>>> warehouse_url("duckdb:///tmp/x.duckdb")
'duckdb:///tmp/x.duckdb'
"""

from __future__ import annotations

import os

DEFAULT_WAREHOUSE_URL = "duckdb:///./omnicrm.duckdb"
"""Embedded DuckDB file in the current directory."""

WAREHOUSE_ENV = "OMNICRM_WAREHOUSE"


def warehouse_url(explicit: str | None = None) -> str:
    """Return the warehouse URL: ``explicit``, else ``$OMNICRM_WAREHOUSE``, else the default.

    Parameters
    ----------
    explicit : str, optional
        A URL given on the command line or in code.

    Returns
    -------
    str
        The URL to pass to :func:`omnicrm.warehouse.connect`.
    """
    return explicit or os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE_URL
