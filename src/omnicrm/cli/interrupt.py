"""Recognise a Ctrl-C that surfaced as another exception.

DuckDB turns a ``KeyboardInterrupt`` that arrives while a query runs into
``RuntimeError: Query interrupted`` (chained from the ``KeyboardInterrupt``), so commands
treat an exception caused by an interrupt as the interrupt itself.

Examples
--------
>>> try:
...     try:
...         raise KeyboardInterrupt
...     except KeyboardInterrupt as exc:
...         raise RuntimeError("Query interrupted") from exc
... except RuntimeError as err:
...     caused_by_interrupt(err)
True
>>> caused_by_interrupt(ValueError("bad"))
False
"""

from __future__ import annotations


def caused_by_interrupt(exc: BaseException) -> bool:
    """True when ``exc`` is, or was caused by, a ``KeyboardInterrupt``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
