"""Model-ready frames: churn features plus BG/NBD outputs, labelled at several origins.

An **origin** is an ``as_of`` day. At each origin the features use only data before it
(:func:`omnicrm.models.churn.features.churn_features`), BG/NBD is fitted on the purchases
before it and gives two more features (``p_alive`` and ``bgnbd_expected_purchases`` in the
horizon), and the label looks at the ``horizon_days`` from it
(:func:`omnicrm.models.churn.labels.churn_labels`). Origins are spaced ``step_days`` apart
(default: the horizon), backwards from the latest origin whose label window is fully observed,
so consecutive label windows never overlap. All origins come from one query
(:func:`omnicrm.models.churn.features.origin_features`: features, label and the BG/NBD
summary), fetched to pandas once; BG/NBD and Gamma-Gamma are then fitted per origin.

Examples
--------
>>> from datetime import date
>>> label_origins(date(2026, 6, 30), horizon_days=90, n_origins=3)
[datetime.date(2025, 10, 4), datetime.date(2026, 1, 2), datetime.date(2026, 4, 2)]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.data import (
    ChurnTables,
    as_of_day,
    check_horizon_days,
    check_label_window,
    history_span,
)
from omnicrm.models.churn.features import DISPLAY_COLUMNS, FEATURE_COLUMNS, origin_features
from omnicrm.models.clv.scoring import CLVFit, fit_clv_summary

BGNBD_FEATURES: tuple[str, ...] = ("p_alive", "bgnbd_expected_purchases")
"""Features from the BG/NBD model fitted at each origin."""

MODEL_FEATURES: tuple[str, ...] = (*FEATURE_COLUMNS, *BGNBD_FEATURES)
"""Every model input, in order."""

MIN_HISTORY_DAYS = 90
"""Fewest days of history an origin needs before it (BG/NBD needs repeat purchases)."""


def label_origins(
    last_day: date,
    *,
    horizon_days: int = 90,
    n_origins: int = 4,
    step_days: int | None = None,
    first_day: date | None = None,
    latest: date | None = None,
) -> list[date]:
    """Origins (oldest first) whose label windows end on or before ``last_day``.

    ``latest`` (default ``last_day + 1 - horizon_days``) is the newest origin; earlier ones are
    ``step_days`` (default ``horizon_days``) apart. With ``first_day``, origins with fewer than
    :data:`MIN_HISTORY_DAYS` of history are dropped.
    """
    horizon_days = check_horizon_days(horizon_days)
    step = horizon_days if step_days is None else step_days
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise InputError(f"step_days = {step_days!r} must be a whole number of days >= 1")
    if isinstance(n_origins, bool) or not isinstance(n_origins, int) or n_origins < 1:
        raise InputError(f"n_origins = {n_origins!r} must be a whole number >= 1")
    newest = last_day + timedelta(days=1 - horizon_days) if latest is None else latest
    check_label_window(newest, horizon_days, last_day)
    origins = [newest - timedelta(days=step * k) for k in range(n_origins)]
    if first_day is not None:
        origins = [o for o in origins if (o - first_day).days >= MIN_HISTORY_DAYS]
    return sorted(origins)


def origin_frames(
    tables: ChurnTables,
    origins: list[date],
    *,
    horizon_days: int = 90,
    labelled: bool = True,
    sample: float | None = None,
) -> tuple[pd.DataFrame, dict[date, CLVFit]]:
    """Frames of several origins from one query, with one BG/NBD + Gamma-Gamma fit per origin.

    Parameters
    ----------
    tables : ChurnTables
    origins : list of date
    horizon_days : int, default 90
    labelled : bool, default True
        Add ``purchases_in_window`` and ``churned`` (the label windows must be observed).
    sample : float, optional
        Keep this share (0 to 1] of the customers, drawn by a hash of ``customer_id`` (the same
        customers at every origin, the same draw at every run); default everyone.

    Returns
    -------
    (frame, fits)
        ``frame``: one row per origin and customer with a purchase before it, ordered by
        ``as_of`` then ``customer_id``; ``fits``: the CLV fit of each origin.
    """
    days = sorted({as_of_day(o) for o in origins})
    customers = None
    if sample is not None and sample < 1:
        customers = sampled_customers(tables.lines, sample)
    expr = origin_features(
        tables, days, horizon_days=horizon_days if labelled else None, customers=customers
    )
    data = expr.to_pyarrow().to_pandas()
    for col in ("as_of", *DISPLAY_COLUMNS):
        data[col] = pd.to_datetime(data[col])
    summary_cols = ["frequency_days", "recency_weeks", "T_weeks", "monetary_value"]
    p_alive = np.full(len(data), np.nan)
    expected = np.full(len(data), np.nan)
    fits: dict[date, CLVFit] = {}
    stamps = data["as_of"].to_numpy()
    for day in days:
        rows = np.flatnonzero(stamps == np.datetime64(day, "ns"))
        if len(rows) == 0:
            raise InputError(f"no customer has a purchase before as_of {day}; choose a later as_of")
        summary = pd.DataFrame(
            {
                "customer_id": data["customer_id"].to_numpy()[rows],
                "frequency": data["frequency_days"].to_numpy()[rows],
                "recency": data["recency_weeks"].to_numpy()[rows],
                "T": data["T_weeks"].to_numpy()[rows],
                "monetary_value": data["monetary_value"].to_numpy()[rows],
            }
        )
        fit = fit_clv_summary(summary, as_of=day, horizon_days=horizon_days)
        fits[day] = fit
        p_alive[rows] = fit.scores["p_alive"].to_numpy()
        expected[rows] = fit.scores[f"expected_purchases_{horizon_days}d"].to_numpy()
    frame = data.drop(columns=[*summary_cols, "purchases_in_window"])
    frame["p_alive"] = p_alive
    frame["bgnbd_expected_purchases"] = expected
    if labelled:
        frame["purchases_in_window"] = data["purchases_in_window"].astype("int64")
        frame["churned"] = frame["purchases_in_window"] == 0
    return frame, fits


def sampled_customers(lines: ibis.Table, share: float) -> ibis.Table:
    """Customers whose ``customer_id`` hashes into the first ``share`` of 1,000,000 buckets.

    A deterministic, backend-side simple random sample of customers (the hash differs
    between backends, so the sampled customers do too).
    """
    if not 0 < share <= 1:
        raise InputError(f"sample = {share!r} must be in (0, 1]")
    buckets = 1_000_000
    known = lines.filter(lines.customer_id.notnull())
    bucket = (known.customer_id.hash() % buckets).abs()
    return known.filter(bucket < max(1, round(share * buckets))).select("customer_id").distinct()


def origin_frame(
    tables: ChurnTables,
    as_of: date | datetime | str,
    *,
    horizon_days: int = 90,
    labelled: bool = True,
) -> tuple[pd.DataFrame, CLVFit]:
    """Features (+ BG/NBD outputs, + label when ``labelled``) of every customer at ``as_of``.

    Returns the frame (columns ``as_of, customer_id``, :data:`MODEL_FEATURES`, display columns
    and, when labelled, ``purchases_in_window, churned``) and the CLV fit it used.
    """
    day = as_of_day(as_of)
    frame, fits = origin_frames(tables, [day], horizon_days=horizon_days, labelled=labelled)
    return frame, fits[day]


def training_frame(
    tables: ChurnTables,
    origins: list[date],
    *,
    horizon_days: int = 90,
    sample: float | None = None,
    last_day: date | None = None,
) -> pd.DataFrame:
    """Labelled frames of all ``origins`` stacked (one row per customer and origin).

    ``sample`` keeps that share of the customers (see :func:`origin_frames`). ``last_day``
    is the last day with a sales line, when the caller already has it from
    :func:`~omnicrm.models.churn.data.history_span` (default: read it).

    Raises
    ------
    InputError
        When an origin's label window runs past the data.
    """
    tables.validate()
    if last_day is None:
        _, last_day = history_span(tables.lines)
    for origin in origins:
        check_label_window(origin, horizon_days, last_day)
    return origin_frames(tables, origins, horizon_days=horizon_days, sample=sample)[0]
