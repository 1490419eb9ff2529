"""Customer value steps of ``omnicrm analyze``: CLV and churn columns, and CLV diagnostics.

* :func:`churn_and_clv` joins ``p_alive, expected_purchases_90d, expected_spend, clv_12m,
  churn_prob, churn_reasons, value_at_risk`` onto the customer scores (models in
  :mod:`omnicrm.models.clv` and :mod:`omnicrm.models.churn`), on unified customers.
* :func:`clv_diagnostics` refits BG/NBD on a calibration period and compares it with the holdout
  that follows: actual vs expected holdout purchases by calibration frequency
  (``clv_holdout``) and weekly repeat purchases actual vs model (``clv_tracking``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.errors import ConvergenceError, InputError
from omnicrm.models.churn import ChurnTables, score_customers
from omnicrm.models.clv import BetaGeoModel, calibration_holdout_summary
from omnicrm.models.clv.diagnostics import conditional_expectations, repeat_purchase_tracking
from omnicrm.models.clv.scoring import fit_clv, fit_with_fallback, purchase_lines

Unify = Callable[[ibis.Table], ibis.Table]


def churn_and_clv(con: BaseBackend, lines: ibis.Table, scores: ibis.Table, *,
                  as_of: dt.datetime, unify: Unify, lang: str = "en",
                  notes: list[str] | None = None) -> ibis.Table:
    """``scores`` with the CLV and churn columns left-joined (a churn model is fitted here).

    ``lines`` are the unified sales lines; ``unify`` maps a table's ``customer_id`` to the
    unified id, applied to ``events`` and ``feedback`` so that every feature describes the
    same person as the scores. When the history is too short to train the churn model (it
    needs two labelled origins) or the models cannot be fitted, the columns that can be
    computed are filled (CLV without churn, or neither), the others stay empty, and the reason
    is appended to ``notes`` — the rest of the analysis goes on.
    """
    present = set(con.list_tables())
    optional = {name: unify(con.table(name)) if name in present else None
                for name in ("events", "feedback")}
    products = con.table("products") if "products" in present else None
    tables = ChurnTables(lines=lines, products=products, **optional)
    try:
        return score_customers(tables, as_of=as_of, scores=scores, lang=lang)
    except (InputError, ConvergenceError) as exc:
        _note(notes, f"churn model skipped: {exc}")
    try:
        clv = fit_clv(lines, as_of=as_of).scores
    except (InputError, ConvergenceError) as exc:
        _note(notes, f"CLV models skipped: {exc}")
        clv = pd.DataFrame({"customer_id": pd.Series(dtype="string"),
                            **{c: pd.Series(dtype="float64") for c in CLV_COLUMNS}})
    columns = clv[["customer_id", *CLV_COLUMNS]].rename(columns={"customer_id": "_clv_id"})
    values = ibis.memtable(columns)
    joined = scores.left_join(values, scores.customer_id == values._clv_id)
    return joined.drop("_clv_id").mutate(
        churn_prob=ibis.null("float64"), churn_reasons=ibis.null("string"),
        churn_reasons_json=ibis.null("string"), value_at_risk=ibis.null("float64"))


CLV_COLUMNS = ("p_alive", "expected_purchases_90d", "expected_spend", "clv_12m")


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def holdout_days(first_order: dt.datetime, as_of: dt.datetime) -> int:
    """Holdout length: a third of the history, between 4 and 26 weeks (whole weeks).

    Examples
    --------
    >>> import datetime as dt
    >>> holdout_days(dt.datetime(2024, 7, 1), dt.datetime(2026, 7, 1))
    182
    """
    third = (as_of - first_order).days // 3
    return 7 * max(4, min(26, third // 7))


def clv_diagnostics(lines: ibis.Table, *, as_of: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibration/holdout table and weekly tracking table of a BG/NBD fit.

    Returns
    -------
    (holdout, tracking) : tuple of pandas.DataFrame
        ``holdout``: ``frequency`` (calibration repeat purchases, 7 = 7+), ``customers``,
        ``actual``, ``expected`` mean holdout purchases, plus ``calibration_end``.
        ``tracking``: ``period`` (week), ``period_start``, ``actual``, ``expected`` and their
        cumulative sums, plus ``calibration_end``.
    """
    purchases = purchase_lines(lines).filter(lambda t: t.order_ts < as_of)
    daily = purchases.select("customer_id", day=purchases.order_ts.date()).distinct().execute()
    daily["day"] = pd.to_datetime(daily["day"])
    first_order = daily["day"].min().to_pydatetime().replace(tzinfo=as_of.tzinfo)
    last_day = (as_of - dt.timedelta(days=1)).date()
    calibration_end = last_day - dt.timedelta(days=holdout_days(first_order, as_of))
    summary = calibration_holdout_summary(
        daily, customer_id_col="customer_id", datetime_col="day",
        calibration_period_end=calibration_end, observation_period_end=last_day)
    model = fit_with_fallback(BetaGeoModel, summary)
    holdout = conditional_expectations(model, summary)
    holdout["frequency"] = holdout["frequency"].astype(str)
    holdout["calibration_end"] = pd.Timestamp(calibration_end)
    tracking = _extend_tracking(model, daily, first_order.date(), calibration_end, last_day)
    tracking["calibration_end"] = pd.Timestamp(calibration_end)
    return holdout, tracking


def _extend_tracking(model: BetaGeoModel, daily: pd.DataFrame, start: dt.date,
                     calibration_end: dt.date, end: dt.date) -> pd.DataFrame:
    """Weekly tracking of the calibration cohort (first purchase by ``calibration_end``)
    through the holdout, up to ``end``."""
    first = daily.groupby("customer_id")["day"].transform("min")
    cohort = daily[first <= pd.Timestamp(calibration_end)]
    return repeat_purchase_tracking(model, cohort, customer_id_col="customer_id",
                                    datetime_col="day", start=start, end=end)
