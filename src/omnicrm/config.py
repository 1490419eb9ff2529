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


PII_KEY_ENV = "OMNICRM_PII_KEY"
"""Secret key for the keyed hashes (HMAC-SHA256) of names, phones, e-mails and identifiers."""

DEMO_PII_KEY = "omnicrm-demo-pii-key-not-a-secret"
"""Built-in key, accepted only in demo mode: hashes made with it can be reversed by anyone."""

DEMO_ENV = "OMNICRM_DEMO"
"""Set to ``1`` to allow demo-only defaults (the built-in PII key)."""


def pii_key(explicit: str | None = None) -> str:
    """Return the PII hashing key: ``explicit``, else ``$OMNICRM_PII_KEY``, else the demo key.

    Whether the demo key may be used is decided by :func:`omnicrm.analytics.pii.resolve_key`.

    Examples
    --------
    >>> pii_key("k" * 32) == "k" * 32
    True
    """
    return explicit or os.environ.get(PII_KEY_ENV) or DEMO_PII_KEY


def demo_mode(explicit: bool | None = None) -> bool:
    """Return whether demo mode is on: ``explicit``, else ``$OMNICRM_DEMO`` in (1, true, yes, on).

    Examples
    --------
    >>> demo_mode(True)
    True
    """
    if explicit is not None:
        return explicit
    return os.environ.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes", "on")
