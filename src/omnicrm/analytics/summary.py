"""What is in the warehouse: row counts, date range, channels, quarantine reasons.

These are the figures of the report's "Data" section and of ``omnicrm tables``. Each function
returns a lazy Ibis expression (or a small dict built from a few of them).

Examples
--------
>>> import ibis
>>> from omnicrm.analytics.summary import quarantine_reasons
>>> q = ibis.memtable({"table_name": ["order_lines"] * 3,
...                    "reason": ["quantity: '0' must be != 0", "quantity: '0' must be != 0",
...                               "order_ts: 'x' is not a date/time"]})
>>> quarantine_reasons(q).execute().to_dict("records")[0]["rows"]
2
"""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend

from omnicrm.warehouse import user_tables

_QUOTED = r"'[^']*'"


def table_row_counts(con: BaseBackend) -> dict[str, int]:
    """Rows in every user table of the warehouse, by table name (alphabetical)."""
    return {name: int(con.table(name).count().execute()) for name in user_tables(con)}


def sales_by_channel_month(lines: ibis.Table) -> ibis.Table:
    """Orders, customers and net revenue per calendar month (UTC) and channel.

    Parameters
    ----------
    lines : ibis.Table
        An ``order_lines`` table.

    Returns
    -------
    ibis.Table
        ``month`` (date of the month's first day), ``channel``, ``orders``, ``customers``,
        ``revenue`` (net of discounts and returns, DECIMAL), sorted by month and channel.
    """
    month = lines.order_ts.truncate("M").date().name("month")
    return (
        lines.group_by([month, lines.channel.fill_null("unknown").name("channel")])
        .aggregate(
            orders=lines.order_id.nunique(),
            customers=lines.customer_id.nunique(),
            revenue=lines.amount.sum(),
        )
        .order_by(["month", "channel"])
    )


def date_range(lines: ibis.Table) -> ibis.Table:
    """First and last order time, with line and order counts, as a one-row table."""
    return lines.aggregate(
        first_order=lines.order_ts.min(),
        last_order=lines.order_ts.max(),
        lines=lines.count(),
        orders=lines.order_id.nunique(),
        returned_lines=lines.is_return.sum(),
    )


def quarantine_reasons(quarantine: ibis.Table) -> ibis.Table:
    """Quarantined rows per table and kind of reason (quoted values blanked), most first.

    ``"quantity: '0' must be != 0"`` and ``"quantity: '00' must be != 0"`` are one kind:
    ``"quantity: '…' must be != 0"``. A row with several problems counts under its full
    combined reason.
    """
    kind = quarantine.reason.re_replace(_QUOTED, "'…'").name("reason")
    return (
        quarantine.group_by([quarantine.table_name, kind])
        .aggregate(rows=quarantine.count())
        .order_by([ibis.desc("rows"), "table_name", "reason"])
    )
