"""Interactions: the long-format input of every recommender, checked and indexed.

An interaction is one purchase of an item by a customer: columns ``customer_id``, ``item_id``,
``ts`` (timestamp) and optionally ``quantity`` (default 1). Rows with a non-positive quantity
(returns) are refused here: net them first (:func:`interactions_from_order_lines` does).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"customer_id": ["a", "a", "b"], "item_id": ["x", "y", "x"],
...                       "ts": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-02"])})
>>> data = Interactions.from_frame(frame)
>>> data.customers.tolist(), data.items.tolist(), data.matrix().toarray().tolist()
(['a', 'b'], ['x', 'y'], [[1.0, 1.0], [1.0, 0.0]])
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import scipy.sparse as sp

from omnicrm.errors import InputError

REQUIRED: tuple[str, ...] = ("customer_id", "item_id", "ts")
"""Columns an interactions frame must have (``quantity`` is optional)."""


@dataclass(frozen=True)
class Interactions:
    """Interactions coded on integer indices.

    Attributes
    ----------
    customers, items : numpy.ndarray
        Sorted distinct ids; position = index.
    user, item : numpy.ndarray
        Row codes of each interaction (int32).
    day : numpy.ndarray
        Day number of each interaction (days since 1970-01-01, int64).
    quantity : numpy.ndarray
        Units per interaction (float64, > 0).
    last_day : int
        Latest day number in the data (the reference "today" is ``last_day + 1``).
    """

    customers: np.ndarray
    items: np.ndarray
    user: np.ndarray
    item: np.ndarray
    day: np.ndarray
    quantity: np.ndarray
    last_day: int

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Interactions:
        """Check and code a frame of interactions (see the module doc for its columns)."""
        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                f"interactions must be a pandas DataFrame with columns "
                f"{', '.join(REQUIRED)} (+ quantity), not {type(frame).__name__}"
            )
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing:
            raise InputError(
                f"interactions lack column(s) {', '.join(missing)}; they need "
                f"{', '.join(REQUIRED)} (+ optional quantity)"
            )
        if frame.empty:
            raise InputError(
                "interactions are empty: a recommender needs at least one purchase "
                "(check the as_of date and that order_lines are loaded)"
            )
        for col in ("customer_id", "item_id"):
            nulls = frame[col].isna()
            if nulls.any():
                raise InputError(
                    f"interactions: column '{col}' is empty in row "
                    f"{int(np.flatnonzero(nulls.to_numpy())[0])}; drop anonymous "
                    "or unknown rows first"
                )
        ts = pd.to_datetime(frame["ts"], utc=True, errors="coerce")
        if ts.isna().any():
            bad = frame["ts"][ts.isna()].iloc[0]
            raise InputError(f"interactions: column 'ts' has {bad!r}, not a timestamp")
        if "quantity" in frame.columns:
            quantity = pd.to_numeric(frame["quantity"], errors="coerce").to_numpy(np.float64)
            bad = ~(quantity > 0)
            if bad.any():
                value = frame["quantity"].tolist()[int(np.flatnonzero(bad)[0])]
                raise InputError(
                    f"interactions: quantity {value!r} is not a positive number; "
                    "net returns before fitting (interactions_from_order_lines "
                    "does)"
                )
        else:
            quantity = np.ones(len(frame))
        customers, user = _codes(frame["customer_id"])
        items, item = _codes(frame["item_id"])
        day = ts.dt.tz_convert(None).to_numpy().astype("datetime64[D]").astype(np.int64)
        return cls(
            customers=customers.astype(object),
            items=items.astype(object),
            user=user.astype(np.int32),
            item=item.astype(np.int32),
            day=day,
            quantity=quantity,
            last_day=int(day.max()),
        )

    def subset(self, mask: np.ndarray) -> Interactions:
        """The interactions where ``mask``, re-coded (same as coding the filtered frame).

        Examples
        --------
        >>> import pandas as pd
        >>> f = pd.DataFrame({"customer_id": ["a", "b"], "item_id": ["x", "y"],
        ...                   "ts": pd.to_datetime(["2026-01-01", "2026-01-02"])})
        >>> Interactions.from_frame(f).subset(np.array([False, True])).customers.tolist()
        ['b']
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            raise InputError(
                "no interaction left in the subset (e.g. the validation cut is "
                "before the first purchase)"
            )
        users, user = np.unique(self.user[mask], return_inverse=True)
        items, item = np.unique(self.item[mask], return_inverse=True)
        day = self.day[mask]
        return Interactions(
            customers=self.customers[users],
            items=self.items[items],
            user=user.astype(np.int32),
            item=item.astype(np.int32),
            day=day,
            quantity=self.quantity[mask],
            last_day=int(day.max()),
        )

    @functools.cached_property
    def pairs(self) -> np.ndarray:
        """Sorted distinct ``user * n_items + item`` codes of the bought pairs."""
        return unique_sorted(self.user.astype(np.int64) * len(self.items) + self.item)

    @property
    def shape(self) -> tuple[int, int]:
        """(customers, items)."""
        return len(self.customers), len(self.items)

    def matrix(self, weights: np.ndarray | None = None, *, binary: bool = True) -> sp.csr_matrix:
        """Customer x item CSR matrix: 1 per bought pair (``binary``) or summed ``weights``."""
        values = np.ones(len(self.user)) if weights is None else np.asarray(weights, float)
        m = sp.csr_matrix((values, (self.user, self.item)), shape=self.shape)
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (sort-based: faster than hashing here).

    Examples
    --------
    >>> unique_sorted(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    s = np.sort(values, kind="stable")
    if len(s) == 0:
        return s
    return s[np.r_[True, s[1:] != s[:-1]]]


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids (as str) and each row's position among them (hash-based)."""
    codes, uniques = pd.factorize(column, sort=False)
    names = pd.Index(uniques).astype(str).to_numpy(dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    merged = pd.Index(names[order])
    if merged.has_duplicates:  # e.g. 1 and "1": same id once written as text
        names_sorted, inverse = np.unique(names[order], return_inverse=True)
        return names_sorted.astype(object), inverse[rank[codes]]
    return names[order], rank[codes]


def split_by_time(frame: pd.DataFrame, as_of: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows strictly before ``as_of`` (UTC) and the rows from it on.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": ["a", "a"], "item_id": ["x", "y"],
    ...                   "ts": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True)})
    >>> [len(p) for p in split_by_time(f, "2026-01-15")]
    [1, 1]
    """
    cut = pd.Timestamp(as_of)
    cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
    ts = pd.to_datetime(frame["ts"], utc=True)
    before = (ts < cut).to_numpy()
    return frame[before].reset_index(drop=True), frame[~before].reset_index(drop=True)


def interactions_from_order_lines(
    lines: ibis.Table,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    since: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """One interaction per (customer, order, product) with a positive net quantity.

    Computed in the warehouse (Ibis): anonymous lines are left out, returns net against the
    purchase of the same order (a return booked as its own order nets to nothing there and
    is left out), and only lines in ``[since, as_of)`` are kept.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> lines = ibis.memtable(pd.DataFrame({
    ...     "order_id": ["o1", "o1", "o2"], "customer_id": ["a", "a", None],
    ...     "product_id": ["x", "x", "y"], "quantity": [2.0, -2.0, 1.0],
    ...     "order_ts": pd.to_datetime(["2026-01-01"] * 3, utc=True)}))
    >>> len(interactions_from_order_lines(lines))
    0
    """
    missing = [
        c
        for c in ("order_id", "customer_id", "product_id", "quantity", "order_ts")
        if c not in lines.columns
    ]
    if missing:
        raise InputError(
            f"order_lines lack column(s) {', '.join(missing)} needed for "
            "recommendations (see docs/data-model.md)"
        )
    t = lines.filter(lines.customer_id.notnull())
    if as_of is not None:
        t = t.filter(t.order_ts < _timestamp(as_of))
    if since is not None:
        t = t.filter(t.order_ts >= _timestamp(since))
    grouped = t.group_by(["customer_id", "order_id", "product_id"]).aggregate(
        ts=t.order_ts.min(), quantity=t.quantity.cast("float64").sum()
    )
    grouped = grouped.filter(grouped.quantity > 0)
    out = grouped.select(
        customer_id="customer_id", item_id="product_id", ts="ts", quantity="quantity"
    ).to_pandas()
    return out.sort_values(["ts", "customer_id", "item_id"], kind="stable").reset_index(drop=True)


def _timestamp(value: dt.date | dt.datetime | str) -> ibis.Scalar:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return ibis.literal(stamp.to_pydatetime(), type="timestamp('UTC')")
