"""The sales lines analyses read: ``order_lines`` without the lines of cancelled orders.

A cancelled order keeps its row in ``orders`` with ``is_cancelled`` true, and its lines stay in
``order_lines``; POS and e-shop exports reverse it with a cancellation receipt (negative lines,
flagged ``is_cancelled`` too, see docs/datagen.md). Summed, the two net to zero, so revenue
is right either way, but the cancelled order would still count as a purchase order (RFM
frequency, repurchase, purchase frequency, basket rules) and its receipt as a return (return
rate). Every analysis therefore reads the lines of the orders that were not cancelled.

Without an ``orders`` table (a line-level export only) nothing is known about cancellations and
every line is read.

Examples
--------
>>> import ibis
>>> lines = ibis.memtable({"order_id": ["O1", "O2", "CO2"], "amount": [10, 20, -20]})
>>> orders = ibis.memtable({"order_id": ["O1", "O2", "CO2"],
...                         "is_cancelled": [False, True, True]})
>>> without_cancelled(lines, orders).order_by("order_id").to_pandas()["order_id"].tolist()
['O1']
"""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend

from omnicrm.errors import InputError

NO_LINES = (
    "the warehouse has no order_lines table: load sales with "
    "'omnicrm ingest FILE --table order_lines' first"
)


def without_cancelled(lines: ibis.Table, orders: ibis.Table | None) -> ibis.Table:
    """``lines`` without those of orders flagged ``is_cancelled`` in ``orders``.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines with an ``order_id`` column (the ``order_lines`` contract).
    orders : ibis.Table or None
        Order headers with ``order_id`` and ``is_cancelled`` (the ``orders`` contract). ``None``,
        or a table without ``is_cancelled``, leaves ``lines`` as they are. A NULL flag means
        not cancelled (the contract's default).

    Returns
    -------
    ibis.Table
        The same columns as ``lines`` (an anti-join: a line is never repeated, whatever
        ``orders`` holds).

    Examples
    --------
    >>> import ibis
    >>> lines = ibis.memtable({"order_id": ["O1", "O1", "O2"], "amount": [1, 2, 3]})
    >>> without_cancelled(lines, None).count().to_pyarrow().as_py()
    3
    >>> orders = ibis.memtable({"order_id": ["O1", "O1"], "is_cancelled": [None, False]})
    >>> without_cancelled(lines, orders).count().to_pyarrow().as_py()
    3
    """
    if orders is None or "is_cancelled" not in orders.columns:
        return lines
    cancelled = orders.filter(orders.is_cancelled.fill_null(False)).select("order_id")
    return lines.anti_join(cancelled, "order_id")


def sold_lines(con: BaseBackend) -> ibis.Table:
    """The warehouse's ``order_lines`` without the lines of cancelled orders.

    See :func:`without_cancelled`; the ``orders`` table is used when the warehouse has it.

    Raises
    ------
    InputError
        The warehouse has no ``order_lines`` table.

    Examples
    --------
    >>> import pandas as pd
    >>> from omnicrm.warehouse import connect
    >>> con = connect("duckdb://:memory:")
    >>> _ = con.create_table("order_lines", pd.DataFrame({"order_id": ["O1", "O2"]}))
    >>> sold_lines(con).count().to_pyarrow().as_py()
    2
    >>> _ = con.create_table("orders", pd.DataFrame({"order_id": ["O2"], "is_cancelled": [True]}))
    >>> sold_lines(con).count().to_pyarrow().as_py()
    1
    """
    tables = set(con.list_tables())
    if "order_lines" not in tables:
        raise InputError(NO_LINES)
    orders = con.table("orders") if "orders" in tables else None
    return without_cancelled(con.table("order_lines"), orders)
