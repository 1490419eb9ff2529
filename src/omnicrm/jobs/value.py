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
from omnicrm.models.clv import BetaGeoModel
from omnicrm.models.clv.diagnostics import conditional_expectations, tracking_from_day_counts
from omnicrm.models.clv.scoring import fit_clv, fit_with_fallback, purchase_lines

Unify = Callable[[ibis.Table], ibis.Table]


def churn_and_clv(
    con: BaseBackend,
    lines: ibis.Table,
    scores: ibis.Table,
    *,
    as_of: dt.datetime,
    unify: Unify,
    lang: str = "en",
    notes: list[str] | None = None,
) -> ibis.Table:
    """``scores`` with the CLV and churn columns left-joined (a churn model is fitted here).

    ``lines`` are the unified sales lines; ``unify`` maps a table's ``customer_id`` to the
    unified id, applied to ``events`` and ``feedback`` so that every feature describes the
    same person as the scores. When the history is too short to train the churn model (it
    needs two labelled origins) or the models cannot be fitted, the columns that can be
    computed are filled (CLV without churn, or neither), the others stay empty, and the reason
    is appended to ``notes`` — the rest of the analysis goes on.
    """
    present = set(con.list_tables())
    optional = {
        name: unify(con.table(name)) if name in present else None for name in ("events", "feedback")
    }
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
        clv = pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="string"),
                **{c: pd.Series(dtype="float64") for c in CLV_COLUMNS},
            }
        )
    columns = clv[["customer_id", *CLV_COLUMNS]].rename(columns={"customer_id": "_clv_id"})
    values = ibis.memtable(columns)
    joined = scores.left_join(values, scores.customer_id == values._clv_id)
    return joined.drop("_clv_id").mutate(
        churn_prob=ibis.null("float64"),
        churn_reasons=ibis.null("string"),
        churn_reasons_json=ibis.null("string"),
        value_at_risk=ibis.null("float64"),
    )


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

    The purchase days are summarised in the warehouse (two aggregate queries, a few thousand
    rows back): the calibration/holdout summary grouped by ``(frequency, recency, T,
    frequency_holdout)`` with its customer count, and the tracking cohort's first and repeat
    purchase days counted per day. BG/NBD is fitted on the grouped summary (the likelihood is
    a sum over customers, so the fit is the one on every customer), and the results equal
    :func:`~omnicrm.models.clv.calibration_holdout_summary`,
    :func:`~omnicrm.models.clv.diagnostics.conditional_expectations` and
    :func:`~omnicrm.models.clv.diagnostics.repeat_purchase_tracking` on the purchase lines.

    Returns
    -------
    (holdout, tracking) : tuple of pandas.DataFrame
        ``holdout``: ``frequency`` (calibration repeat purchases, 7 = 7+), ``customers``,
        ``actual``, ``expected`` mean holdout purchases, plus ``calibration_end``.
        ``tracking``: ``period`` (week), ``period_start``, ``actual``, ``expected`` and their
        cumulative sums, plus ``calibration_end``.
    """
    purchases = purchase_lines(lines).filter(lambda t: t.order_ts < as_of)
    first = purchases.aggregate(first=purchases.order_ts.min().date()).execute()["first"].iloc[0]
    if pd.isna(first):
        raise InputError(f"no purchase by an identified customer before as_of {as_of.date()}")
    first_order = pd.Timestamp(first).to_pydatetime().replace(tzinfo=as_of.tzinfo)
    last_day = (as_of - dt.timedelta(days=1)).date()
    calibration_end = last_day - dt.timedelta(days=holdout_days(first_order, as_of))
    days = purchases.select("customer_id", day=purchases.order_ts.date()).distinct()
    summary = _calibration_holdout(days, calibration_end, last_day)
    model = fit_with_fallback(BetaGeoModel, summary, weights="customers")
    holdout = conditional_expectations(model, summary, weights="customers")
    holdout["frequency"] = holdout["frequency"].astype(str)
    holdout["calibration_end"] = pd.Timestamp(calibration_end)
    births, repeats = _cohort_day_counts(days, calibration_end)
    tracking = tracking_from_day_counts(
        model, births=births, repeats=repeats, start=first_order.date(), end=last_day
    )
    tracking["calibration_end"] = pd.Timestamp(calibration_end)
    return holdout, tracking


def _calibration_holdout(
    days: ibis.Table, calibration_end: dt.date, last_day: dt.date
) -> pd.DataFrame:
    """The :func:`~omnicrm.models.clv.calibration_holdout_summary` (weeks) of the customers
    with a first purchase by ``calibration_end``, grouped, with ``customers`` per row."""
    cal_end = ibis.date(calibration_end)
    in_cal = days.day <= cal_end
    per = days.group_by("customer_id").aggregate(
        first=days.day.min(),
        last=days.day.max(where=in_cal),
        n_cal=days.count(where=in_cal),
        n_hold=days.count(where=~in_cal & (days.day <= ibis.date(last_day))),
    )
    per = per.filter(per["first"] <= cal_end)
    grouped = per.group_by(
        frequency=(per.n_cal - 1).cast("int64"),
        recency_days=per["last"].delta(per["first"], unit="day").cast("int64"),
        T_days=cal_end.delta(per["first"], unit="day").cast("int64"),
        frequency_holdout=per.n_hold.cast("int64"),
    ).aggregate(customers=per.count().cast("int64"))
    # a fixed row order: the optimiser's path (and, on data that hardly identify BG/NBD's
    # dropout, whether the fit needs the penalised retry) must not depend on hash order
    grouped = grouped.order_by(
        ["frequency", "recency_days", "T_days", "frequency_holdout"]
    ).execute()
    if grouped.empty:
        raise InputError(f"no purchase on or before the calibration end {calibration_end}")
    return pd.DataFrame(
        {
            "frequency": grouped["frequency"].to_numpy("int64"),
            "recency": grouped["recency_days"].to_numpy("float64") / 7,
            "T": grouped["T_days"].to_numpy("float64") / 7,
            "frequency_holdout": grouped["frequency_holdout"].to_numpy("int64"),
            "duration_holdout": float((last_day - calibration_end).days / 7),
            "customers": grouped["customers"].to_numpy("int64"),
        }
    )


def _cohort_day_counts(days: ibis.Table, calibration_end: dt.date) -> tuple[pd.Series, pd.Series]:
    """First purchases and repeat purchase days per day of the customers whose first
    purchase is on or before ``calibration_end`` (the tracking cohort)."""
    first = days.day.min().over(group_by=days.customer_id)
    marked = days.mutate(first=first)
    cohort = marked.filter(marked["first"] <= ibis.date(calibration_end))
    counts = (
        cohort.group_by("day")
        .aggregate(
            births=cohort.count(where=cohort.day == cohort["first"]),
            repeats=cohort.count(where=cohort.day > cohort["first"]),
        )
        .execute()
    )
    index = pd.to_datetime(counts["day"])
    return (
        pd.Series(counts["births"].to_numpy("int64"), index=index),
        pd.Series(counts["repeats"].to_numpy("int64"), index=index),
    )
