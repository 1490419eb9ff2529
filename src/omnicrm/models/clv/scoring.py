"""CLV columns for ``customer_scores``: P(alive), expected purchases and spend, 12-month CLV.

:func:`fit_clv` fits BG/NBD (purchases) and Gamma-Gamma (spend) on the warehouse's sales lines
before ``as_of`` and scores every customer; :func:`add_clv` is the same as a
:mod:`omnicrm.analytics.scores` step. ``as_of`` follows ``customer_scores``: only lines dated
before midnight (UTC) of the ``as_of`` day are used, so the CLV summary's inclusive observation
end is the day before.

Columns (grain: one row per customer with a purchase before ``as_of``; model estimates,
float64):

==========================  ===============================================================
``p_alive``                 BG/NBD probability that the customer is still active
``expected_purchases_90d``  expected purchase days in the next ``horizon_days`` (default 90)
``expected_spend``          Gamma-Gamma expected spend per purchase day
``clv_12m``                 discounted value of the next 12 months (``margin`` x spend)
==========================  ===============================================================

Examples
--------
>>> import ibis, numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> cid = np.repeat(np.arange(500), rng.geometric(rng.beta(1.0, 3.0, 500)))  # until dropout
>>> gap = rng.exponential(1.0, cid.size) * rng.gamma(1.0, 40.0, 500)[cid]  # days, per person
>>> tx = pd.DataFrame({"customer_id": cid.astype(str), "gap": gap})
>>> day = rng.integers(0, 200, 500)[cid] + tx.groupby("customer_id").gap.cumsum()
>>> day = day.clip(upper=999).round()
>>> lines = ibis.memtable(pd.DataFrame({
...     "order_id": np.arange(cid.size).astype(str), "customer_id": tx.customer_id,
...     "order_ts": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(day, "D"),
...     "quantity": 1.0, "amount": rng.gamma(4.0, 10.0, cid.size).round(2),
...     "is_return": False}))
>>> fit = fit_clv(lines, as_of="2024-11-01")
>>> list(fit.scores.columns[-4:])
['p_alive', 'expected_purchases_90d', 'expected_spend', 'clv_12m']
>>> bool((fit.scores.p_alive.between(0, 1)).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd

from omnicrm.analytics.rfm import SALES_COLUMNS, as_of_timestamp, require_columns
from omnicrm.errors import ConvergenceError, InputError
from omnicrm.models.clv.beta_geo import BetaGeoModel
from omnicrm.models.clv.gamma_gamma import GammaGammaModel
from omnicrm.models.clv.summary import rfm_summary_expr

CLV_COLUMNS: tuple[str, ...] = ("p_alive", "expected_purchases_90d", "expected_spend", "clv_12m")
"""Columns added by :func:`add_clv` (with the default 90-day horizon)."""

WEEKS_PER_MONTH = 52 / 12

FALLBACK_PENALIZER = 0.001
"""Penalty retried when an unpenalised fit does not converge (the ``lifetimes`` advice)."""


@dataclass(frozen=True)
class CLVFit:
    """Fitted models and scores of :func:`fit_clv`."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    purchase_model: BetaGeoModel
    spend_model: GammaGammaModel
    as_of: date


def purchase_lines(lines: ibis.Table) -> ibis.Table:
    """Lines that are purchases (not returns, positive quantity), with a customer id."""
    require_columns(lines, SALES_COLUMNS, "the sales lines table")
    return lines.filter(
        lines.customer_id.notnull(), ~lines.is_return.fill_null(False), lines.quantity > 0
    )


def clv_summary(lines: ibis.Table, *, as_of: date | datetime | str) -> pd.DataFrame:
    """The BG/NBD / Gamma-Gamma summary (weeks) of purchases before ``as_of`` (one query)."""
    day = as_of_timestamp(as_of).date()
    last_observed = day - timedelta(days=1)
    summary = rfm_summary_expr(purchase_lines(lines), as_of=last_observed).to_pandas()
    if summary.empty:
        raise InputError(
            f"no purchase by an identified customer before as_of {day}; choose a later as_of "
            "or load sales lines with a customer_id"
        )
    return summary


def fit_clv(
    lines: ibis.Table,
    *,
    as_of: date | datetime | str,
    horizon_days: int = 90,
    months: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    penalizer_coef: float | None = None,
) -> CLVFit:
    """Fit BG/NBD and Gamma-Gamma on purchases before ``as_of`` and score every customer.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines (``order_lines`` contract).
    as_of : date, datetime or str
        Scoring day; lines before its midnight (UTC) are used.
    horizon_days : int, default 90
        Horizon of ``expected_purchases_{horizon_days}d``.
    months : int, default 12
        CLV horizon in months (column ``clv_{months}m``).
    discount_rate : float, default 0.01
        Discount rate per month.
    margin : float, default 1
        Share of spend counted as value (1 = revenue).
    penalizer_coef : float, optional
        L2 penalty of both fits (see :class:`BetaGeoModel`). Default: none, and
        :data:`FALLBACK_PENALIZER` for a fit that does not converge without it (short
        histories, where BG/NBD's dropout parameters are weakly identified).

    Returns
    -------
    CLVFit
        ``scores`` has ``customer_id, frequency, recency, T, monetary_value, p_alive,
        expected_purchases_{horizon_days}d, expected_spend, clv_{months}m``.

    Raises
    ------
    InputError
        No purchases before ``as_of``, fewer than 10 customers, no repeat buyer.
    ConvergenceError
        A fit failed (the message says what to try).
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InputError(f"horizon_days = {horizon_days!r} must be a whole number of days >= 1")
    summary = clv_summary(lines, as_of=as_of)
    return fit_clv_summary(
        summary,
        as_of=as_of,
        horizon_days=horizon_days,
        months=months,
        discount_rate=discount_rate,
        margin=margin,
        penalizer_coef=penalizer_coef,
    )


def fit_clv_summary(
    summary: pd.DataFrame,
    *,
    as_of: date | datetime | str,
    horizon_days: int = 90,
    months: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    penalizer_coef: float | None = None,
) -> CLVFit:
    """:func:`fit_clv` on a summary already built (e.g. several origins in one query).

    ``summary`` has ``customer_id, frequency, recency, T, monetary_value`` in weeks, as
    :func:`clv_summary` returns it; the scores keep its row order.
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InputError(f"horizon_days = {horizon_days!r} must be a whole number of days >= 1")
    repeat = summary[(summary.frequency > 0) & (summary.monetary_value > 0)]
    bg = fit_with_fallback(BetaGeoModel, summary, penalizer_coef)
    gg = fit_with_fallback(GammaGammaModel, repeat, penalizer_coef)
    # a repeat buyer whose repeat days net to <= 0 (e.g. fully discounted) is valued at the
    # population mean spend, like a one-time buyer
    spent = summary.monetary_value > 0
    spend_input = summary.assign(
        frequency=np.where(spent, summary.frequency, 0),
        monetary_value=np.where(spent, summary.monetary_value, 0.0),
    )
    scores = summary.copy()
    scores["p_alive"] = bg.p_alive(summary).to_numpy()
    scores[f"expected_purchases_{horizon_days}d"] = bg.expected_purchases(
        horizon_days / 7, summary
    ).to_numpy()
    scores["expected_spend"] = gg.expected_spend(spend_input).to_numpy()
    scores[f"clv_{months}m"] = gg.clv(
        spend_input,
        bg,
        horizon=months,
        discount_rate=discount_rate,
        margin=margin,
        period=WEEKS_PER_MONTH,
    ).to_numpy()
    return CLVFit(
        scores=scores.reset_index(drop=True),
        summary=summary,
        purchase_model=bg,
        spend_model=gg,
        as_of=as_of_timestamp(as_of).date(),
    )


def fit_with_fallback(
    cls: type, summary: pd.DataFrame, penalizer_coef: float | None = None, **fit_args: object
):
    """Fit ``cls`` (a CLV model class); without a penalty, retry with :data:`FALLBACK_PENALIZER`.

    ``fit_args`` go to ``fit`` (e.g. ``weights=`` of a purchase model). Raises the retry's
    :class:`ConvergenceError` when both fail.
    """
    if penalizer_coef is not None:
        return cls(penalizer_coef=penalizer_coef).fit(summary, **fit_args)
    try:
        return cls().fit(summary, **fit_args)
    except ConvergenceError:
        return cls(penalizer_coef=FALLBACK_PENALIZER).fit(summary, **fit_args)


def add_clv(scores: ibis.Table, context: object) -> ibis.Table:
    """Step for :func:`omnicrm.analytics.scores.customer_scores`: join :data:`CLV_COLUMNS`.

    Use as ``customer_scores(lines, as_of=..., steps=(*DEFAULT_STEPS, add_clv))``; the
    context's ``lines`` and ``as_of`` are used with the default settings of :func:`fit_clv`.
    """
    fit = fit_clv(context.lines, as_of=context.as_of)  # type: ignore[attr-defined]
    values = ibis.memtable(
        fit.scores[["customer_id", *CLV_COLUMNS]].rename(columns={"customer_id": "clv_customer_id"})
    )
    joined = scores.left_join(values, scores.customer_id == values.clv_customer_id)
    return joined.drop("clv_customer_id")
