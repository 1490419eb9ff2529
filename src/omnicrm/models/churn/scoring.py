"""Score every customer: CLV columns, churn probability and reasons; the risk list.

:func:`score_customers` is the one call the ``omnicrm analyze`` orchestration needs. It
returns a pandas frame keyed by ``customer_id`` or, given the ``customer_scores`` Ibis table,
that table with the new columns left-joined:

========================  ===============================================================
``p_alive``               BG/NBD probability the customer is still active
``expected_purchases_90d`` BG/NBD expected purchase days in the next 90 days
``expected_spend``        Gamma-Gamma expected spend per purchase day
``clv_12m``               discounted value of the next 12 months
``churn_prob``            calibrated P(no purchase in the next ``horizon_days``)
``churn_reasons``         top reasons, joined by ``" · "`` (empty when none stands out)
``churn_reasons_json``    the same as a JSON list of ``{feature, contribution, text}``
``value_at_risk``         ``clv_12m x churn_prob``
========================  ===============================================================

Grain: one row per customer with a purchase before ``as_of`` (as ``customer_scores``).
Without a fitted ``model``, one is fitted on origins whose label windows end by ``as_of``
(nothing on or after ``as_of`` is read).

Examples
--------
>>> import pandas as pd
>>> scored = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv_12m": [100.0, 900.0, 50.0],
...                        "churn_prob": [0.9, 0.5, 0.2], "churn_reasons": ["x", "y", ""]})
>>> risk_list(scored)[["customer_id", "value_at_risk"]].values.tolist()
[['b', 450.0], ['a', 90.0], ['c', 10.0]]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import ibis
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.data import ChurnTables, as_of_day, check_horizon_days, history_span
from omnicrm.models.churn.dataset import label_origins, origin_frame, training_frame
from omnicrm.models.churn.model import ChurnModel
from omnicrm.models.clv.scoring import CLV_COLUMNS

SCORE_COLUMNS: tuple[str, ...] = (
    *CLV_COLUMNS,
    "churn_prob",
    "churn_reasons",
    "churn_reasons_json",
    "value_at_risk",
)
"""Columns :func:`score_customers` adds (with the default 90-day horizon)."""

RISK_COLUMNS: tuple[str, ...] = (
    "rank",
    "customer_id",
    "value_at_risk",
    "churn_prob",
    "clv_12m",
    "p_alive",
    "churn_reasons",
)


MAX_TRAINING_CUSTOMERS = 100_000
"""Default cap on the customers the churn model is trained on (a random sample above it)."""


def fit_churn_model(
    tables: ChurnTables,
    *,
    as_of: date | datetime | str,
    horizon_days: int = 90,
    n_origins: int = 5,
    model: ChurnModel | None = None,
    max_customers: int | None = MAX_TRAINING_CUSTOMERS,
) -> ChurnModel:
    """Fit a churn model for scoring at ``as_of`` on the latest ``n_origins`` usable origins.

    The newest origin is ``as_of - horizon_days`` (or earlier when the data end first), so
    every label window closes by ``as_of``. With more than ``max_customers`` customers, the
    model is trained and calibrated on a random sample of about that many (the same customers
    at every origin; see :func:`omnicrm.models.churn.dataset.sampled_customers`); ``None``
    trains on everyone.
    """
    horizon_days = check_horizon_days(horizon_days)
    first, last, population = history_span(tables.lines, customers=True)
    day = as_of_day(as_of)
    newest = min(day, last + timedelta(days=1)) - timedelta(days=horizon_days)
    origins = label_origins(
        last, horizon_days=horizon_days, n_origins=n_origins, first_day=first, latest=newest
    )
    if len(origins) < 2:
        raise InputError(
            f"as_of {day} leaves {len(origins)} origin(s) with {horizon_days} days of outcome "
            f"and 90 days of history before it; the churn model needs two: choose an as_of "
            f"on or after {first + timedelta(days=90 + 2 * horizon_days)}"
        )
    sample = None
    if max_customers is not None and population > max_customers:
        sample = max_customers / population
    frame = training_frame(tables, origins, horizon_days=horizon_days, sample=sample, last_day=last)
    settings = model.get_params() if model is not None else {}
    settings["horizon_days"] = horizon_days
    return ChurnModel(**settings).fit(frame)


def score_customers(
    tables: ChurnTables | ibis.BaseBackend,
    *,
    as_of: date | datetime | str,
    scores: ibis.Table | None = None,
    model: ChurnModel | None = None,
    lang: str = "en",
    top_reasons: int = 3,
) -> pd.DataFrame | ibis.Table:
    """CLV and churn columns (:data:`SCORE_COLUMNS`) for every customer at ``as_of``.

    Parameters
    ----------
    tables : ChurnTables or ibis backend
        The warehouse (a connection from :func:`omnicrm.warehouse.connect` works).
    as_of : date, datetime or str
        Scoring day; data before its midnight (UTC) are used.
    scores : ibis.Table, optional
        ``customer_scores`` (:func:`omnicrm.analytics.scores.customer_scores`); when given
        the result is this table with the columns left-joined on ``customer_id``.
    model : ChurnModel, optional
        A fitted model; default: fit one (:func:`fit_churn_model`) with default settings.
        An unfitted model's settings are used for that fit.
    lang : {"en", "zh"}
        Language of ``churn_reasons``.
    top_reasons : int, default 3
        Reasons per customer.

    Returns
    -------
    pandas.DataFrame or ibis.Table
    """
    if not isinstance(tables, ChurnTables):
        tables = ChurnTables.from_connection(tables)
    day = as_of_day(as_of)
    if model is None or not hasattr(model, "booster_text_"):
        horizon = model.horizon_days if model is not None else 90
        model = fit_churn_model(tables, as_of=day, horizon_days=horizon, model=model)
    frame, clv = origin_frame(tables, day, horizon_days=model.horizon_days, labelled=False)
    reasons = model.explain(frame, lang=lang, top=top_reasons)
    horizon_col = f"expected_purchases_{model.horizon_days}d"
    # the frame and the CLV scores hold the same customers in the same order (one query)
    out = clv.scores[["customer_id", "p_alive", horizon_col, "expected_spend", "clv_12m"]]
    out = out.reset_index(drop=True).assign(
        churn_prob=model.predict_proba(frame),
        churn_reasons=reasons["churn_reasons"].to_numpy(),
        churn_reasons_json=reasons["churn_reasons_json"].to_numpy(),
    )
    out["value_at_risk"] = out["clv_12m"] * out["churn_prob"]
    if not out["customer_id"].is_monotonic_increasing:  # SQL collations differ
        out = out.sort_values("customer_id", kind="stable").reset_index(drop=True)
    if scores is None:
        return out
    values = ibis.memtable(out.rename(columns={"customer_id": "_score_customer_id"}))
    joined = scores.left_join(values, scores.customer_id == values._score_customer_id)
    return joined.drop("_score_customer_id")


def risk_list(scored: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Customers by value at risk (``clv_12m x churn_prob``), largest first.

    Parameters
    ----------
    scored : pandas.DataFrame
        Output of :func:`score_customers` (or any frame with ``customer_id, clv_12m,
        churn_prob``; ``churn_reasons`` and ``p_alive`` are kept when present).
    top : int, optional
        Keep the first ``top`` rows.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (1 = most value at risk) and the columns of :data:`RISK_COLUMNS` present.
    """
    if isinstance(scored, ibis.Table):
        scored = scored.to_pandas()
    missing = [c for c in ("customer_id", "clv_12m", "churn_prob") if c not in scored.columns]
    if missing:
        raise InputError(
            f"the scored table lacks {', '.join(missing)}; pass the output of score_customers(...)"
        )
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(f"top = {top!r} must be a whole number >= 1")
    frame = scored.dropna(subset=["clv_12m", "churn_prob"]).assign(
        value_at_risk=lambda f: f["clv_12m"] * f["churn_prob"]
    )
    frame = frame.sort_values(
        ["value_at_risk", "customer_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame = frame[[c for c in RISK_COLUMNS if c in frame.columns]]
    return frame if top is None else frame.head(top)


def write_risk_list_csv(risk: pd.DataFrame, path: str | Path) -> Path:
    """Write a risk list as UTF-8 CSV (with BOM, so Excel shows Chinese reasons); money to 2dp."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        risk.round({"value_at_risk": 2, "clv_12m": 2, "churn_prob": 4, "p_alive": 4}).to_csv(
            path, index=False, encoding="utf-8-sig"
        )
    except OSError as exc:
        raise InputError(
            f"cannot write the risk list to '{path}' ({exc.strerror}); choose a writable path"
        ) from None
    return path
