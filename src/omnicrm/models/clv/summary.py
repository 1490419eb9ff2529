"""Per-customer purchase summaries (frequency, recency, T, monetary value) for CLV models.

The column convention is the one of the ``lifetimes`` package and of the papers
(Fader, Hardie & Lee 2005):

- ``frequency``: number of *repeat* purchase periods (the first purchase is not counted; several
  purchases on the same day are one purchase);
- ``recency``: time from the first to the last purchase (0 when ``frequency`` is 0);
- ``T``: time from the first purchase to the end of the observation period;
- ``monetary_value``: mean spend over the repeat purchase periods (0 when ``frequency`` is 0).

Times are continuous in the chosen unit: whole days between purchase *dates*, divided by 7 for
``time_unit="W"``. This is how the published CDNOW results are computed; rounding to whole weeks
(what ``lifetimes`` does with ``freq="W"``) gives different parameters.

Grain of every summary: one row per customer with at least one purchase on or before the
observation end. Checks: ``frequency >= 0``; ``0 <= recency <= T``; ``recency == 0`` when
``frequency == 0``.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({
...     "customer_id": ["a", "a", "a", "b"],
...     "ts": ["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-15", "2024-01-08"],
...     "amount": [10.0, 5.0, 20.0, 7.0],
... })
>>> rfm_summary(tx, customer_id_col="customer_id", datetime_col="ts",
...             monetary_value_col="amount", observation_period_end="2024-01-29")
  customer_id  frequency  recency    T  monetary_value
0           a          1      2.0  4.0            20.0
1           b          0      0.0  3.0             0.0
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from omnicrm.errors import InputError

TIME_UNITS: dict[str, int] = {"D": 1, "W": 7}
"""Supported time units and their length in days."""


def _days_per_unit(time_unit: str) -> int:
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise InputError(
            f"time_unit {time_unit!r} is not supported; use one of {sorted(TIME_UNITS)} "
            "('W' = weeks as days / 7, the unit of the published CLV results)"
        ) from None


def _require_columns(frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
    for role, col in columns.items():
        if col is not None and col not in frame.columns:
            raise InputError(
                f"{role} column {col!r} is not in the transactions (columns: "
                f"{list(frame.columns)}); pass {role}_col=<name of that column>"
            )


def purchase_days(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
) -> pd.DataFrame:
    """One row per (customer, purchase date) with the day's total spend."""
    _require_columns(
        transactions,
        {
            "customer_id": customer_id_col,
            "datetime": datetime_col,
            "monetary_value": monetary_value_col,
        },
    )
    frame = pd.DataFrame({"customer_id": transactions[customer_id_col].to_numpy()})
    try:
        ts = pd.to_datetime(transactions[datetime_col])
    except (ValueError, TypeError):
        ts = None
    if ts is None:  # e.g. ISO strings mixing dates and date-times
        try:
            ts = pd.to_datetime(transactions[datetime_col], format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"datetime column {datetime_col!r} has values that are not dates ({exc}); "
                "convert it with pandas.to_datetime(..., format=...) first"
            ) from exc
    if ts.isna().any():
        row = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise InputError(
            f"datetime column {datetime_col!r} is empty in row {row}; drop or fix such rows"
        )
    if frame["customer_id"].isna().any():
        row = int(np.flatnonzero(frame["customer_id"].isna().to_numpy())[0])
        raise InputError(
            f"customer_id column {customer_id_col!r} is empty in row {row}; anonymous sales "
            "cannot enter a customer model: drop them first"
        )
    if ts.dt.tz is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    frame["day"] = ts.dt.normalize().to_numpy()
    if monetary_value_col is not None:
        spend = pd.to_numeric(transactions[monetary_value_col], errors="coerce")
        if spend.isna().any():
            row = int(np.flatnonzero(spend.isna().to_numpy())[0])
            raise InputError(
                f"monetary_value column {monetary_value_col!r} is not a number in row {row} "
                f"(value {transactions[monetary_value_col].iloc[row]!r}); fix or drop that row"
            )
        frame["spend"] = spend.astype("float64").to_numpy()
    else:
        frame["spend"] = 0.0
    return frame.groupby(["customer_id", "day"], sort=True, as_index=False)["spend"].sum()


def _as_day(value: object, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name} {value!r} is not a date; pass e.g. '1997-09-30'") from exc
    if ts is pd.NaT:
        raise InputError(f"{name} is empty; pass the last observed day, e.g. '1997-09-30'")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _summarise_days(
    days: pd.DataFrame, end: pd.Timestamp, unit_days: int, with_monetary: bool
) -> pd.DataFrame:
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped["day"].size()
    total = grouped["spend"].sum()
    first_spend = days.loc[grouped["day"].idxmin(), ["customer_id", "spend"]].set_index(
        "customer_id"
    )["spend"]
    out = pd.DataFrame(
        {
            "customer_id": first.index,
            "frequency": (n_days - 1).to_numpy(dtype="int64"),
            "recency": ((last - first).dt.days / unit_days).to_numpy(dtype="float64"),
            "T": ((end - first).dt.days / unit_days).to_numpy(dtype="float64"),
        }
    )
    if with_monetary:
        repeat_spend = (total - first_spend.reindex(total.index)).to_numpy(dtype="float64")
        freq = out["frequency"].to_numpy()
        out["monetary_value"] = np.divide(
            repeat_spend, freq, out=np.zeros_like(repeat_spend), where=freq > 0
        )
    return out


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    observation_period_end: object,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Summarise transactions into one (frequency, recency, T[, monetary_value]) row per customer.

    Purchases on the same date are merged first (their spend is added). Only transactions dated
    on or before ``observation_period_end`` are used.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction (or order line).
    customer_id_col, datetime_col : str
        Names of the customer id and purchase time columns.
    monetary_value_col : str, optional
        Spend column; adds ``monetary_value`` (mean spend over repeat purchase days).
    observation_period_end : date-like
        Last observed day (inclusive); ``T`` is measured to it.
    time_unit : {"W", "D"}
        Weeks (days / 7, continuous) or days.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id, frequency, recency, T`` (+ ``monetary_value``), sorted by id.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": [1, 1], "day": ["2024-01-01", "2024-01-08"]})
    >>> rfm_summary(tx, customer_id_col="id", datetime_col="day",
    ...             observation_period_end="2024-01-15", time_unit="D")
       customer_id  frequency  recency     T
    0            1          1      7.0  14.0
    """
    unit_days = _days_per_unit(time_unit)
    end = _as_day(observation_period_end, "observation_period_end")
    days = purchase_days(transactions, customer_id_col, datetime_col, monetary_value_col)
    days = days[days["day"] <= end]
    if days.empty:
        raise InputError(
            f"no transactions on or before observation_period_end {end.date()}; "
            "check the date and the datetime column"
        )
    return _summarise_days(days, end, unit_days, monetary_value_col is not None)


def calibration_holdout_summary(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end: object,
    observation_period_end: object,
    monetary_value_col: str | None = None,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Calibration summary plus what each customer did in the holdout period.

    Returns the :func:`rfm_summary` of the calibration period (customers whose first purchase is
    on or before ``calibration_period_end``) plus ``frequency_holdout`` (purchase days in
    ``(calibration_period_end, observation_period_end]``) and ``duration_holdout`` (its length
    in ``time_unit``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": ["a", "a", "a"],
    ...                    "day": ["2024-01-01", "2024-01-08", "2024-01-20"]})
    >>> calibration_holdout_summary(tx, customer_id_col="id", datetime_col="day",
    ...     calibration_period_end="2024-01-15", observation_period_end="2024-01-29")
      customer_id  frequency  recency    T  frequency_holdout  duration_holdout
    0           a          1      1.0  2.0                  1               2.0
    """
    unit_days = _days_per_unit(time_unit)
    cal_end = _as_day(calibration_period_end, "calibration_period_end")
    obs_end = _as_day(observation_period_end, "observation_period_end")
    if obs_end <= cal_end:
        raise InputError(
            f"observation_period_end {obs_end.date()} must be after calibration_period_end "
            f"{cal_end.date()}: the holdout period would be empty"
        )
    days = purchase_days(transactions, customer_id_col, datetime_col, monetary_value_col)
    cal = days[days["day"] <= cal_end]
    if cal.empty:
        raise InputError(f"no transactions on or before calibration_period_end {cal_end.date()}")
    summary = _summarise_days(cal, cal_end, unit_days, monetary_value_col is not None)
    hold = days[(days["day"] > cal_end) & (days["day"] <= obs_end)]
    counts = hold.groupby("customer_id").size()
    summary["frequency_holdout"] = (
        counts.reindex(summary["customer_id"]).fillna(0).to_numpy(dtype="int64")
    )
    summary["duration_holdout"] = float((obs_end - cal_end).days / unit_days)
    return summary


def rfm_summary_expr(
    lines_table: ir.Table,
    *,
    as_of: dt.date | str,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    time_unit: str = "W",
) -> ir.Table:
    """The :func:`rfm_summary` of a warehouse table, as a lazy Ibis expression.

    Same rules as :func:`rfm_summary`: purchases on the same date are merged; rows dated on or
    before ``as_of`` (the last observed day) are used; times are whole days between dates
    (``ibis.date(as_of).delta(d, unit="day")``, identical on DuckDB, PostgreSQL and Spark),
    divided by 7 for weeks. Rows without a customer id are skipped (anonymous sales). Pass
    purchases only (e.g. ``lines.filter(~lines.is_return)``): a day's net spend is summed as is.

    Parameters
    ----------
    lines_table : ibis.expr.types.Table
        Transactions or order lines (e.g. the ``order_lines`` table).
    as_of : date or str
        Last observed day (inclusive).
    customer_id_col, datetime_col, monetary_value_col : str
        Column names; ``monetary_value_col=None`` leaves out ``monetary_value``.
    time_unit : {"W", "D"}
        Weeks (days / 7) or days.

    Returns
    -------
    ibis.expr.types.Table
        Lazy table ``customer_id, frequency, recency, T`` (+ ``monetary_value``).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({
    ...     "customer_id": ["a", "a"], "amount": [3.0, 4.0],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-08"])}))
    >>> rfm_summary_expr(t, as_of="2024-01-15").to_pandas()
      customer_id  frequency  recency    T  monetary_value
    0           a          1      1.0  2.0             4.0
    """
    unit_days = _days_per_unit(time_unit)
    cols = set(lines_table.columns)
    for role, col in (
        ("customer_id", customer_id_col),
        ("datetime", datetime_col),
        ("monetary_value", monetary_value_col),
    ):
        if col is not None and col not in cols:
            raise InputError(
                f"{role} column {col!r} is not in the table (columns: {sorted(cols)}); "
                f"pass {role}_col=<name of that column>"
            )
    end_day = _as_day(as_of, "as_of").date()
    end = ibis.date(end_day)
    t = lines_table
    day = t[datetime_col].date()
    spend = (
        t[monetary_value_col].cast("float64")
        if monetary_value_col is not None
        else ibis.literal(0.0)
    )
    daily = (
        t.filter(t[customer_id_col].notnull(), day <= end)
        .group_by(customer_id=t[customer_id_col].cast("string"), day=day)
        .aggregate(spend=spend.sum())
    )
    first_day = daily.day.min().over(group_by=daily.customer_id)
    daily = daily.mutate(is_first=daily.day == first_day)
    per_customer = daily.group_by("customer_id").aggregate(
        first=daily.day.min(),
        last=daily.day.max(),
        n_days=daily.day.count(),
        repeat_spend=daily.spend.sum(where=~daily.is_first),
    )
    frequency = (per_customer.n_days - 1).cast("int64")
    recency = per_customer["last"].delta(per_customer["first"], unit="day")
    age = end.delta(per_customer["first"], unit="day")
    columns = {
        "customer_id": per_customer.customer_id,
        "frequency": frequency,
        "recency": recency.cast("float64") / unit_days,
        "T": age.cast("float64") / unit_days,
    }
    if monetary_value_col is not None:
        columns["monetary_value"] = ibis.cases(
            (frequency > 0, per_customer.repeat_spend.fill_null(0.0) / frequency.cast("float64")),
            else_=0.0,
        )
    return per_customer.select(**columns).order_by("customer_id")
