"""Model-ready frames: churn features plus BG/NBD outputs, labelled at several origins.

An **origin** is an ``as_of`` day. At each origin the features use only data before it
(:func:`omnicrm.models.churn.features.churn_features`), BG/NBD is fitted on the purchases
before it and gives two more features (``p_alive`` and ``bgnbd_expected_purchases`` in the
horizon), and the label looks at the ``horizon_days`` from it
(:func:`omnicrm.models.churn.labels.churn_labels`). Origins are spaced ``step_days`` apart
(default: the horizon), backwards from the latest origin whose label window is fully observed,
so consecutive label windows never overlap. Each origin costs one feature query, one label
query and one summary query; the result is fetched to pandas once per origin.

Examples
--------
>>> from datetime import date
>>> label_origins(date(2026, 6, 30), horizon_days=90, n_origins=3)
[datetime.date(2025, 10, 4), datetime.date(2026, 1, 2), datetime.date(2026, 4, 2)]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.data import (
    ChurnTables,
    as_of_day,
    check_horizon_days,
    check_label_window,
    history_span,
)
from omnicrm.models.churn.features import FEATURE_COLUMNS, churn_features
from omnicrm.models.churn.labels import churn_labels
from omnicrm.models.clv.scoring import CLVFit, fit_clv

BGNBD_FEATURES: tuple[str, ...] = ("p_alive", "bgnbd_expected_purchases")
"""Features from the BG/NBD model fitted at each origin."""

MODEL_FEATURES: tuple[str, ...] = (*FEATURE_COLUMNS, *BGNBD_FEATURES)
"""Every model input, in order."""

MIN_HISTORY_DAYS = 90
"""Fewest days of history an origin needs before it (BG/NBD needs repeat purchases)."""


def label_origins(last_day: date, *, horizon_days: int = 90, n_origins: int = 4,
                  step_days: int | None = None, first_day: date | None = None,
                  latest: date | None = None) -> list[date]:
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


def origin_frame(tables: ChurnTables, as_of: date | datetime | str, *, horizon_days: int = 90,
                 labelled: bool = True) -> tuple[pd.DataFrame, CLVFit]:
    """Features (+ BG/NBD outputs, + label when ``labelled``) of every customer at ``as_of``.

    Returns the frame (columns ``as_of, customer_id``, :data:`MODEL_FEATURES`, display columns
    and, when labelled, ``purchases_in_window, churned``) and the CLV fit it used.
    """
    day = as_of_day(as_of)
    features = churn_features(tables, as_of=day).to_pandas()
    if features.empty:
        raise InputError(f"no customer has a purchase before as_of {day}; choose a later as_of")
    clv = fit_clv(tables.lines, as_of=day, horizon_days=horizon_days)
    bg = clv.scores[["customer_id", "p_alive", f"expected_purchases_{horizon_days}d"]].rename(
        columns={f"expected_purchases_{horizon_days}d": "bgnbd_expected_purchases"})
    frame = features.merge(bg, on="customer_id", how="left", validate="one_to_one")
    if labelled:
        labels = churn_labels(tables.lines, as_of=day, horizon_days=horizon_days).to_pandas()
        frame = frame.merge(labels, on="customer_id", how="left", validate="one_to_one")
        frame["purchases_in_window"] = frame["purchases_in_window"].fillna(0).astype("int64")
        frame["churned"] = frame["purchases_in_window"] == 0
    frame.insert(0, "as_of", pd.Timestamp(day))
    # a fixed row order: LightGBM's bagging draws rows by position
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return frame, clv


def training_frame(tables: ChurnTables, origins: list[date], *,
                   horizon_days: int = 90) -> pd.DataFrame:
    """Labelled frames of all ``origins`` stacked (one row per customer and origin).

    Raises
    ------
    InputError
        When an origin's label window runs past the data.
    """
    tables.validate()
    _, last_day = history_span(tables.lines)
    for origin in origins:
        check_label_window(origin, horizon_days, last_day)
    frames = [origin_frame(tables, o, horizon_days=horizon_days)[0] for o in origins]
    return pd.concat(frames, ignore_index=True)
