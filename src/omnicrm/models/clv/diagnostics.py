"""How well a fitted purchase model tracks reality: holdout comparisons and sales tracking.

- :func:`conditional_expectations`: customers grouped by calibration frequency (0, 1, ...,
  ``max_frequency``+); for each group the mean number of purchases actually made in the holdout
  period and the mean the model expected (Fader, Hardie & Lee 2005, Figure 4).
- :func:`repeat_purchase_tracking`: repeat purchases per period (e.g. week) of a cohort, actual
  and expected, with their cumulative sums (FHL 2005, Figures 2-3). The model's expectation for
  the cohort is ``sum_i E[X(tau - b_i)]`` over customers born (first purchase) at ``b_i``,
  using the population-level ``expected_purchases_new_customer``: customers born on the same
  day share it, so it is evaluated once per (birth day, period).
  :func:`tracking_from_day_counts` is the same from counts per day (births and repeat
  purchases, e.g. aggregated in the warehouse).
- :func:`plot_conditional_expectations`, :func:`plot_tracking`: plotly figures of those tables
  (for the report; nothing is written to disk here).

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.clv import BetaGeoModel
>>> m = BetaGeoModel()
>>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
>>> m.log_likelihood_, m.n_customers_ = 0.0, 1
>>> tx = pd.DataFrame({"id": ["a", "a", "b"],
...                    "day": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-02"])})
>>> t = repeat_purchase_tracking(m, tx, customer_id_col="id", datetime_col="day",
...                              start="2024-01-01", end="2024-01-14")
>>> t[["period", "actual", "actual_cumulative"]].to_dict("list")
{'period': [1, 2], 'actual': [0, 1], 'actual_cumulative': [0, 1]}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from omnicrm.errors import InputError
from omnicrm.models.clv.inputs import numeric_column, weight_column
from omnicrm.models.clv.purchase import PurchaseModel
from omnicrm.models.clv.summary import _as_day, _days_per_unit, purchase_days


def conditional_expectations(
    model: PurchaseModel,
    cal_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    weights: str | None = None,
) -> pd.DataFrame:
    """Actual vs expected mean holdout purchases by calibration frequency.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted on the calibration columns of ``cal_holdout``.
    cal_holdout : pandas.DataFrame
        From :func:`omnicrm.models.clv.calibration_holdout_summary`, or the same grouped by
        its columns with the customers of each row in the ``weights`` column.
    max_frequency : int, default 7
        Frequencies at or above it are pooled into one ``"7+"`` group.
    weights : str, optional
        Column with how many customers each row stands for (default: one each). The model's
        expectation depends on a customer only through ``(frequency, recency, T)``, so it is
        computed once per row.

    Returns
    -------
    pandas.DataFrame
        One row per frequency group: ``frequency`` (label), ``customers``, ``actual``,
        ``expected`` (means over the group's customers; empty groups have none).
    """
    if max_frequency < 1:
        raise InputError(f"max_frequency = {max_frequency!r} must be >= 1")
    actual = numeric_column(cal_holdout, "frequency_holdout")
    durations = np.unique(numeric_column(cal_holdout, "duration_holdout"))
    if len(durations) != 1:
        raise InputError(
            "duration_holdout differs between customers; build cal_holdout with "
            "calibration_holdout_summary(...), which gives every customer the same holdout"
        )
    counts = np.ones(len(actual)) if weights is None else weight_column(cal_holdout, weights)
    expected = model.expected_purchases(float(durations[0]), cal_holdout).to_numpy()
    x = numeric_column(cal_holdout, "frequency")
    group = np.minimum(x, max_frequency).astype("int64")
    size = max_frequency + 1
    customers = np.bincount(group, weights=counts, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.bincount(group, weights=counts * actual, minlength=size) / customers
        mean_expected = np.bincount(group, weights=counts * expected, minlength=size) / customers
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return pd.DataFrame(
        {
            "frequency": labels,
            "customers": customers.astype("int64"),
            "actual": mean_actual,
            "expected": mean_expected,
        }
    )


def repeat_purchase_tracking(
    model: PurchaseModel,
    transactions: pd.DataFrame,
    *,
    customer_id_col: str,
    datetime_col: str,
    start: object,
    end: object,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Repeat purchases per period of a cohort, actual vs the model's expectation.

    Customers are those whose first purchase falls in ``[start, end]``; period ``k`` covers the
    days ``[start + (k - 1) u, start + k u)`` with ``u`` the unit length in days, up to ``end``
    (inclusive; the last period may be shorter). A repeat purchase is a purchase day other than
    the customer's first (same-day purchases merged), as in the fitted summaries.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period`` (1, 2, ...), ``period_start``, ``actual``, ``expected``,
        ``actual_cumulative``, ``expected_cumulative``.
    """
    first_day = _as_day(start, "start")
    last_day = _as_day(end, "end")
    if last_day < first_day:
        raise InputError(f"end {last_day.date()} is before start {first_day.date()}")
    days = purchase_days(transactions, customer_id_col, datetime_col, None)
    days = days[(days["day"] >= first_day) & (days["day"] <= last_day)]
    if days.empty:
        raise InputError(
            f"no transactions between start {first_day.date()} and end {last_day.date()}"
        )
    day = days["day"].to_numpy()
    birth = pd.Series(day).groupby(days["customer_id"].to_numpy()).transform("min").to_numpy()
    births = pd.Series(day[day == birth]).value_counts()
    repeats = pd.Series(day[day > birth]).value_counts()
    return tracking_from_day_counts(
        model, births=births, repeats=repeats, start=first_day, end=last_day, time_unit=time_unit
    )


def tracking_from_day_counts(
    model: PurchaseModel,
    *,
    births: pd.Series,
    repeats: pd.Series,
    start: object,
    end: object,
    time_unit: str = "W",
) -> pd.DataFrame:
    """:func:`repeat_purchase_tracking` from a cohort's purchase counts per day.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        A fitted purchase model.
    births : pandas.Series
        Customers of the cohort by the day of their first purchase (index: days, values:
        counts); every customer born on a day has the same expectation, so the model's curve
        is evaluated once per (birth day, period).
    repeats : pandas.Series
        The cohort's repeat purchase days (purchase days other than a customer's first) by
        day.
    start, end : date-like
        First and last day tracked; counts on other days are ignored.
    time_unit : {"W", "D"}
        Period length.

    Returns
    -------
    pandas.DataFrame
        As :func:`repeat_purchase_tracking`.

    Examples
    --------
    >>> import pandas as pd
    >>> from omnicrm.models.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> m.log_likelihood_, m.n_customers_ = 0.0, 1
    >>> t = tracking_from_day_counts(
    ...     m, births=pd.Series([2], index=pd.to_datetime(["2024-01-01"])),
    ...     repeats=pd.Series([1], index=pd.to_datetime(["2024-01-09"])),
    ...     start="2024-01-01", end="2024-01-14")
    >>> t["actual"].tolist()
    [0, 1]
    """
    unit = _days_per_unit(time_unit)
    first_day = _as_day(start, "start")
    last_day = _as_day(end, "end")
    if last_day < first_day:
        raise InputError(f"end {last_day.date()} is before start {first_day.date()}")
    n_days = int((last_day - first_day).days) + 1
    n_periods = -(-n_days // unit)

    def by_day(counts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        index = pd.DatetimeIndex(pd.to_datetime(counts.index))
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        offset = np.asarray((index.normalize() - first_day).days, dtype="int64")
        keep = (offset >= 0) & (offset < n_days)
        return offset[keep], counts.to_numpy(dtype="float64")[keep]

    repeat_day, repeat_count = by_day(repeats)
    birth_day, birth_count = by_day(births)
    if birth_count.sum() == 0:
        raise InputError(
            f"no first purchase between start {first_day.date()} and end {last_day.date()}"
        )
    actual = np.bincount(repeat_day // unit, weights=repeat_count, minlength=n_periods)
    birth_days, inverse = np.unique(birth_day, return_inverse=True)
    counts = np.bincount(inverse, weights=birth_count)
    # last day of each period (the model's T is measured to the last observed day)
    period_last = np.minimum(np.arange(1, n_periods + 1) * unit - 1, n_days - 1)
    elapsed = np.clip(period_last[None, :] - birth_days[:, None], 0, None) / unit
    cumulative = counts @ np.asarray(
        model.expected_purchases_new_customer(elapsed.ravel())
    ).reshape(elapsed.shape)
    actual = np.rint(actual).astype("int64")
    return pd.DataFrame(
        {
            "period": np.arange(1, n_periods + 1),
            "period_start": first_day + pd.to_timedelta(np.arange(n_periods) * unit, unit="D"),
            "actual": actual,
            "expected": np.diff(cumulative, prepend=0.0),
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": cumulative,
        }
    )


def plot_conditional_expectations(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Line chart of :func:`conditional_expectations` (actual vs model by frequency)."""
    for col in ("frequency", "actual", "expected"):
        if col not in table.columns:
            raise InputError(f"table has no column {col!r}; pass conditional_expectations(...)")
    fig = go.Figure()
    fig.add_scatter(x=table["frequency"], y=table["actual"], mode="lines+markers", name="Actual")
    fig.add_scatter(
        x=table["frequency"],
        y=table["expected"],
        mode="lines+markers",
        name="Model",
        line={"dash": "dash"},
    )
    fig.update_layout(
        title=title or "Holdout purchases by calibration frequency",
        xaxis_title="Purchases in calibration period (repeat)",
        yaxis_title="Mean purchases in holdout period",
        template="plotly_white",
    )
    return fig


def plot_tracking(
    table: pd.DataFrame,
    *,
    cumulative: bool = True,
    calibration_end: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Line chart of :func:`repeat_purchase_tracking` (cumulative or per period).

    ``calibration_end`` (a period number) draws a vertical line where the holdout starts.
    """
    suffix = "_cumulative" if cumulative else ""
    for col in ("period", "actual" + suffix, "expected" + suffix):
        if col not in table.columns:
            raise InputError(f"table has no column {col!r}; pass repeat_purchase_tracking(...)")
    fig = go.Figure()
    fig.add_scatter(x=table["period"], y=table["actual" + suffix], mode="lines", name="Actual")
    fig.add_scatter(
        x=table["period"],
        y=table["expected" + suffix],
        mode="lines",
        name="Model",
        line={"dash": "dash"},
    )
    if calibration_end is not None:
        fig.add_vline(x=calibration_end, line_dash="dot", line_color="grey")
    kind = "Cumulative repeat purchases" if cumulative else "Repeat purchases per period"
    fig.update_layout(
        title=title or kind, xaxis_title="Period", yaxis_title=kind, template="plotly_white"
    )
    return fig
