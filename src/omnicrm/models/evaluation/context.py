"""What every evaluator shares: the warehouse tables, the split day, the truth, a cache.

The **split day** ``as_of``: models are fitted on data before it and judged on what happened
from it to the last day of the data. By default it is ``last_day + 1 - horizon_days``, the
latest day that leaves a full horizon to judge on.

Examples
--------
>>> import io
>>> truth = load_truth(io.StringIO("customer_id,alive_at_end,purchases_next_90d,"
...                                "spend_next_365d\\nM1,true,2,300.50\\n"))
>>> truth.dtypes["alive_at_end"], float(truth.spend_next_365d[0])
(dtype('bool'), 300.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.data import (
    ChurnTables,
    as_of_day,
    check_horizon_days,
    check_label_window,
    history_span,
)

TRUTH_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "alive_at_end",
    "purchases_next_90d",
    "spend_next_365d",
)
"""Columns a truth file needs (``truth.csv`` of :func:`omnicrm.datagen.generate`)."""


def load_truth(source: str | Path | IO[str]) -> pd.DataFrame:
    """Read a truth file: one row per customer with what happened after the data end."""
    try:
        frame = pd.read_csv(source, dtype={"customer_id": str})
    except FileNotFoundError:
        raise InputError(
            f"truth file '{source}' does not exist; pass the truth.csv written by omnicrm datagen"
        ) from None
    except OSError as exc:
        raise InputError(
            f"truth file '{source}' cannot be read ({exc.strerror}); pass the "
            "path of the truth.csv written by omnicrm datagen"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"truth file '{source}' is not a readable CSV ({exc})") from None
    missing = [c for c in TRUTH_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"truth file '{source}' lacks column(s) {', '.join(missing)}; it "
            f"needs {', '.join(TRUTH_COLUMNS)}"
        )
    alive = frame["alive_at_end"].astype(str).str.strip().str.lower()
    bad = ~alive.isin(["true", "false", "1", "0"])
    if bad.any():
        raise InputError(
            f"truth file '{source}': alive_at_end is "
            f"{frame['alive_at_end'][bad].iloc[0]!r} in row {int(bad.idxmax()) + 2};"
            " write true or false"
        )
    frame["alive_at_end"] = alive.isin(["true", "1"])
    for col in ("purchases_next_90d", "spend_next_365d"):
        frame[col] = pd.to_numeric(frame[col], errors="raise")
    return frame


@dataclass
class EvaluationContext:
    """Inputs of the evaluators; ``cached(key, build)`` shares work between them."""

    tables: ChurnTables
    as_of: date
    first_day: date
    last_day: date
    horizon_days: int = 90
    truth: pd.DataFrame | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def create(
        cls,
        tables: ChurnTables,
        *,
        as_of: object = None,
        horizon_days: int = 90,
        truth: pd.DataFrame | None = None,
    ) -> EvaluationContext:
        """Check the inputs and fix the split day (see the module doc)."""
        horizon_days = check_horizon_days(horizon_days)
        tables.validate()
        first, last = history_span(tables.lines)
        day = (last + timedelta(days=1 - horizon_days)) if as_of is None else as_of_day(as_of)
        if day <= first:
            raise InputError(
                f"as_of {day} is on or before the first purchase ({first}); "
                "choose a later as_of so the models have history to fit on"
            )
        check_label_window(day, horizon_days, last)
        return cls(
            tables=tables,
            as_of=day,
            first_day=first,
            last_day=last,
            horizon_days=horizon_days,
            truth=truth,
        )

    @property
    def score_day(self) -> date:
        """The day after the data end: where predictions about the unseen future start."""
        return self.last_day + timedelta(days=1)

    def window(self) -> dict[str, Any]:
        """The card's ``data_window``."""
        return {
            "first_day": str(self.first_day),
            "last_day": str(self.last_day),
            "tables": list(self.tables.available()),
        }

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per context and key."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]
