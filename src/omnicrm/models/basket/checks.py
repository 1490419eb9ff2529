"""Argument checks shared by the basket functions; every failure is an :class:`InputError`.

Examples
--------
>>> from omnicrm.models.basket.checks import check_fraction
>>> check_fraction("min_support", 0.01, allow_zero=False)
0.01
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import ibis
import pandas as pd

from omnicrm.errors import InputError


def check_fraction(name: str, value: object, *, allow_zero: bool) -> float:
    """Return ``value`` as a float in (0, 1] (or [0, 1] with ``allow_zero``), else raise.

    Examples
    --------
    >>> check_fraction("min_confidence", 0, allow_zero=True)
    0.0
    """
    interval = "[0, 1]" if allow_zero else "(0, 1]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(
            f"{name}={value!r} is not a number: pass a fraction in {interval}, "
            f"e.g. {name}=0.01 for 1% of baskets"
        )
    number = float(value)
    low_ok = number >= 0.0 if allow_zero else number > 0.0
    if math.isnan(number) or not low_ok or number > 1.0:
        raise InputError(
            f"{name}={value!r} is outside {interval}: it is a share of baskets, "
            f"e.g. {name}=0.01 for 1%"
        )
    return number


def check_non_negative(name: str, value: object) -> float:
    """Return ``value`` as a finite-or-infinite float >= 0, else raise.

    Examples
    --------
    >>> check_non_negative("min_lift", 1.5)
    1.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name}={value!r} is not a number: pass a number >= 0, e.g. {name}=1.2")
    number = float(value)
    if math.isnan(number) or number < 0.0:
        raise InputError(f"{name}={value!r} is negative or NaN: pass a number >= 0")
    return number


def check_positive_int(name: str, value: object, *, hint: str = "") -> int:
    """Return ``value`` as an int >= 1, else raise.

    Examples
    --------
    >>> check_positive_int("max_len", 3)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{name}={value!r} must be a whole number >= 1{hint}")
    return int(value)


def as_table(data: object, *, name: str) -> ibis.Table:
    """Return ``data`` as an Ibis table; a pandas DataFrame is wrapped with ``ibis.memtable``.

    Examples
    --------
    >>> as_table(pd.DataFrame({"a": [1]}), name="baskets").columns
    ('a',)
    """
    if isinstance(data, ibis.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return ibis.memtable(data)
    raise InputError(
        f"{name} is a {type(data).__name__}: pass an Ibis table (e.g. con.table('order_lines')) "
        "or a pandas DataFrame"
    )


def check_columns(columns: Iterable[str], required: dict[str, str], *, name: str) -> None:
    """Raise if a required column is missing; ``required`` maps column -> the argument naming it.

    Examples
    --------
    >>> check_columns(["basket_id", "item_id"], {"basket_id": "basket_col"}, name="baskets")
    """
    present = list(columns)
    for column, argument in required.items():
        if column not in present:
            raise InputError(
                f"{name} has no column {column!r} (columns: {', '.join(map(repr, present))}): "
                f"rename the column or pass {argument}='<your column>'"
            )


def check_frame_columns(frame: object, required: Iterable[str], *, name: str, made_by: str) -> None:
    """Raise unless ``frame`` is a DataFrame holding every column in ``required``.

    Examples
    --------
    >>> check_frame_columns(pd.DataFrame({"x": []}), ["x"], name="rules", made_by="f")
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"{name} is a {type(frame).__name__}: pass the pandas DataFrame returned by {made_by}"
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} lacks column(s) {', '.join(map(repr, missing))}: pass the DataFrame "
            f"returned by {made_by}"
        )
