"""Table-specific loading rules, kept as data.

Returns: a line flagged as a return or cancellation (e.g. an invoice number starting with
``C``) with a positive quantity is loaded as a return: its quantity and amount become negative.
A negative quantity always marks a return. Returns are never dropped.

Examples
--------
>>> import pyarrow as pa
>>> from decimal import Decimal
>>> cols = {"quantity": pa.array([Decimal("2"), Decimal("-1"), Decimal("3")]),
...         "amount": pa.array([Decimal("10"), Decimal("5"), Decimal("9")]),
...         "is_return": pa.array([True, None, False])}
>>> RETURN_RULES["order_lines"].apply(cols)
>>> [int(q) for q in cols["quantity"].to_pylist()], cols["is_return"].to_pylist()
([-2, -1, 3], [True, True, False])
>>> [int(a) for a in cols["amount"].to_pylist()]
[-10, -5, 9]
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class ReturnRule:
    """Rows where ``flag`` is true or ``quantity`` < 0 are returns; ``negative`` columns of
    returns are made negative (``-abs(value)``) and ``flag`` is set."""

    flag: str
    quantity: str
    negative: tuple[str, ...]

    def apply(self, columns: dict[str, pa.Array]) -> None:
        """Apply the rule to typed columns in place (columns that are absent are skipped)."""
        quantity = columns.get(self.quantity)
        if quantity is None:
            return
        flagged = columns.get(self.flag)
        negative = pc.fill_null(pc.less(quantity, pa.scalar(0, quantity.type)), False)
        is_return = negative if flagged is None else pc.or_(pc.fill_null(flagged, False), negative)
        columns[self.flag] = is_return
        for name in self.negative:
            values = columns.get(name)
            if values is not None:
                columns[name] = pc.if_else(is_return, pc.negate(pc.abs(values)), values)


RETURN_RULES: dict[str, ReturnRule] = {
    "order_lines": ReturnRule(
        flag="is_return", quantity="quantity", negative=("quantity", "amount")
    ),
}
"""Tables whose rows can be returns, and how a return is recognised and signed."""
