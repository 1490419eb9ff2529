"""Model cards of the CLV models: BG/NBD, Pareto/NBD and Gamma-Gamma.

Split: each model is fitted on purchases before the split day ``as_of`` and judged on the
**holdout**, from ``as_of`` to the last day of the data (purchase days as in the fit: returns
excluded, same-day purchases merged).

- Purchase models (``bgnbd``, ``pareto_nbd``): per-customer holdout purchases, expected vs
  actual: mean absolute error, RMSE, Spearman rank correlation, and the **tracking error**
  (expected total - actual total) / actual total. Baseline ``naive_rate``: each customer keeps
  their calibration repeat rate, ``frequency / T x holdout length``. The conditional
  expectations by calibration frequency (FHL 2005, Figure 4) go to ``details``.
- ``gamma_gamma``: expected spend per purchase day vs the actual mean in the holdout for
  repeat buyers who bought again (MAE), against their own calibration mean and the population
  mean; and the rank correlation of predicted holdout spend (BG/NBD x Gamma-Gamma) with actual.
- With a truth file, each card adds ``ground_truth`` from a fit on *all* the data scored on
  the unseen future: AUC of ``1 - P(alive)`` against not alive at the end, AUC of the chance of
  no purchase against no purchase in the next 90 days, and (Gamma-Gamma) Spearman of
  ``clv_12m`` with the true next-365-day spend next to last year's spend as a baseline.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from omnicrm.analytics.rfm import as_of_timestamp
from omnicrm.models.churn.metrics import roc_auc
from omnicrm.models.clv.beta_geo import BetaGeoModel
from omnicrm.models.clv.diagnostics import conditional_expectations
from omnicrm.models.clv.gamma_gamma import GammaGammaModel
from omnicrm.models.clv.pareto_nbd import ParetoNBDModel
from omnicrm.models.clv.purchase import PurchaseModel
from omnicrm.models.clv.scoring import (
    WEEKS_PER_MONTH,
    clv_summary,
    fit_with_fallback,
    purchase_lines,
)
from omnicrm.models.evaluation.card import ModelCard
from omnicrm.models.evaluation.context import EvaluationContext

PURCHASE_MODELS: dict[str, tuple[str, type[PurchaseModel]]] = {
    "bgnbd": ("BG/NBD purchase model", BetaGeoModel),
    "pareto_nbd": ("Pareto/NBD purchase model", ParetoNBDModel),
}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def holdout_outcomes(lines: ibis.Table, start: date, end: date) -> pd.DataFrame:
    """Purchase days and purchase spend per customer from ``start`` to ``end`` (inclusive)."""
    bought = purchase_lines(lines)
    lo, hi = as_of_timestamp(start), as_of_timestamp(end + timedelta(days=1))
    window = bought.filter(bought.order_ts >= lo, bought.order_ts < hi)
    out = window.group_by("customer_id").aggregate(
        holdout_purchases=window.order_ts.date().nunique(),
        holdout_spend=window.amount.cast("float64").sum(),
    )
    return out.to_pandas()


def cal_holdout(ctx: EvaluationContext) -> pd.DataFrame:
    """Calibration summary at ``as_of`` plus holdout purchases and spend (cached)."""

    def build() -> pd.DataFrame:
        summary = clv_summary(ctx.tables.lines, as_of=ctx.as_of)
        outcome = holdout_outcomes(ctx.tables.lines, ctx.as_of, ctx.last_day)
        frame = summary.merge(outcome, on="customer_id", how="left")
        frame["holdout_purchases"] = frame["holdout_purchases"].fillna(0).astype("int64")
        frame["holdout_spend"] = frame["holdout_spend"].fillna(0.0)
        # the conditional_expectations() column names
        frame["frequency_holdout"] = frame["holdout_purchases"]
        frame["duration_holdout"] = holdout_weeks(ctx)
        return frame

    return ctx.cached("cal_holdout", build)


def holdout_weeks(ctx: EvaluationContext) -> float:
    return ((ctx.last_day - ctx.as_of).days + 1) / 7


def _split(ctx: EvaluationContext) -> dict:
    return {
        "fit_on": f"purchases before {ctx.as_of}",
        "holdout": f"{ctx.as_of} to {ctx.last_day}",
        "holdout_weeks": round(holdout_weeks(ctx), 2),
        "time_unit": "weeks",
    }


def _count_metrics(expected: np.ndarray, actual: np.ndarray) -> dict:
    err = expected - actual
    total = float(actual.sum())
    return {
        "mae_purchases": float(np.mean(np.abs(err))),
        "rmse_purchases": float(np.sqrt(np.mean(err**2))),
        "spearman": spearman(expected, actual),
        "expected_total": float(expected.sum()),
        "actual_total": total,
        "tracking_error_pct": float(100 * (expected.sum() - total) / total) if total else None,
    }


def full_fit(ctx: EvaluationContext, name: str) -> tuple[pd.DataFrame, object]:
    """A model fitted on all the data (summary at the day after the data end), cached."""

    def build() -> tuple[pd.DataFrame, object]:
        summary = ctx.cached(
            "full_summary", lambda: clv_summary(ctx.tables.lines, as_of=ctx.score_day)
        )
        if name == "gamma_gamma":
            repeat = summary[(summary.frequency > 0) & (summary.monetary_value > 0)]
            return summary, fit_with_fallback(GammaGammaModel, repeat)
        return summary, fit_with_fallback(PURCHASE_MODELS[name][1], summary)

    return ctx.cached(f"full_fit:{name}", build)


def _truth_frame(ctx: EvaluationContext, summary: pd.DataFrame) -> pd.DataFrame:
    return summary.merge(ctx.truth, on="customer_id", how="inner")


def purchase_card(ctx: EvaluationContext, name: str) -> ModelCard:
    """Card of a purchase model (``bgnbd`` or ``pareto_nbd``)."""
    title, cls = PURCHASE_MODELS[name]
    data = cal_holdout(ctx)
    model = fit_with_fallback(cls, data)
    weeks = holdout_weeks(ctx)
    actual = data["holdout_purchases"].to_numpy(dtype="float64")
    expected = model.expected_purchases(weeks, data).to_numpy()
    T = data["T"].to_numpy()
    naive = (
        np.divide(data["frequency"].to_numpy(dtype="float64"), T, out=np.zeros(len(T)), where=T > 0)
        * weeks
    )
    card = ModelCard(
        name=name,
        title=title,
        data_window={**ctx.window(), "customers": len(data)},
        split=_split(ctx),
        metrics=_count_metrics(expected, actual),
        baselines={"naive_rate": _count_metrics(naive, actual)},
        parameters={
            **model.params_,
            "log_likelihood": model.log_likelihood_,
            "penalizer_coef": model.penalizer_coef,
        },
        details={
            "conditional_expectations": conditional_expectations(model, data).to_dict("records")
        },
        notes=[
            "purchases are purchase days (same-day orders merged, returns excluded)",
            "naive_rate: each customer's calibration repeat rate x holdout length",
        ],
    )
    if ctx.truth is not None:
        summary, full = full_fit(ctx, name)
        t = _truth_frame(ctx, summary)
        p_alive = full.p_alive(t).to_numpy()
        e90 = full.expected_purchases(90 / 7, t).to_numpy()
        card.ground_truth = {
            "customers": len(t),
            "auc_dead_by_1_minus_p_alive": roc_auc(~t["alive_at_end"], 1 - p_alive),
            "auc_no_purchase_90d_by_expected": roc_auc(t["purchases_next_90d"] == 0, np.exp(-e90)),
            "spearman_expected_vs_purchases_90d": spearman(e90, t["purchases_next_90d"]),
            "true_alive_share": float(t["alive_at_end"].mean()),
            "mean_p_alive": float(p_alive.mean()),
        }
    return card


def bgnbd_card(ctx: EvaluationContext) -> ModelCard:
    """Card of BG/NBD."""
    return purchase_card(ctx, "bgnbd")


def pareto_nbd_card(ctx: EvaluationContext) -> ModelCard:
    """Card of Pareto/NBD."""
    return purchase_card(ctx, "pareto_nbd")


def _past_year_spend(ctx: EvaluationContext) -> pd.DataFrame:
    start = ctx.score_day - timedelta(days=365)
    out = holdout_outcomes(ctx.tables.lines, start, ctx.last_day)
    return out.rename(columns={"holdout_spend": "spend_last_365d"})[
        ["customer_id", "spend_last_365d"]
    ]


def _top_decile_capture(score: np.ndarray, value: np.ndarray) -> float:
    """Share of the total ``value`` held by the top 10% of customers by ``score``."""
    top = max(1, int(np.ceil(len(score) * 0.1)))
    chosen = np.argsort(-score, kind="stable")[:top]
    total = value.sum()
    return float(value[chosen].sum() / total) if total else float("nan")


def gamma_gamma_card(ctx: EvaluationContext) -> ModelCard:
    """Card of Gamma-Gamma (spend per purchase) and of the CLV built on it."""
    data = cal_holdout(ctx)
    repeat = data[(data.frequency > 0) & (data.monetary_value > 0)]
    gg = fit_with_fallback(GammaGammaModel, repeat)
    bg = fit_with_fallback(BetaGeoModel, data)
    judged = repeat[repeat.holdout_purchases > 0]
    actual_mean = (judged.holdout_spend / judged.holdout_purchases).to_numpy()
    expected = gg.expected_spend(judged).to_numpy()
    population = float(repeat.monetary_value.mean())
    weeks = holdout_weeks(ctx)
    spent = data.monetary_value > 0
    spend_input = data.assign(
        frequency=np.where(spent, data.frequency, 0),
        monetary_value=np.where(spent, data.monetary_value, 0.0),
    )
    predicted_spend = (
        bg.expected_purchases(weeks, data).to_numpy() * gg.expected_spend(spend_input).to_numpy()
    )
    T = data["T"].to_numpy()
    naive_spend = (
        np.divide(
            data.frequency.to_numpy(dtype="float64") * data.monetary_value,
            T,
            out=np.zeros(len(T)),
            where=T > 0,
        )
        * weeks
    )
    actual_spend = data.holdout_spend.to_numpy()
    card = ModelCard(
        name="gamma_gamma",
        title="Gamma-Gamma spend model (and CLV)",
        data_window={**ctx.window(), "customers": len(data), "repeat_buyers": len(repeat)},
        split=_split(ctx),
        metrics={
            "customers_judged": len(judged),
            "mae_spend_per_purchase": float(np.mean(np.abs(expected - actual_mean))),
            "spearman_holdout_spend": spearman(predicted_spend, actual_spend),
            "corr_frequency_monetary": float(
                np.corrcoef(repeat.frequency, repeat.monetary_value)[0, 1]
            ),
        },
        baselines={
            "own_calibration_mean": {
                "mae_spend_per_purchase": float(
                    np.mean(np.abs(judged.monetary_value.to_numpy() - actual_mean))
                )
            },
            "population_mean": {
                "mae_spend_per_purchase": float(np.mean(np.abs(population - actual_mean)))
            },
            "naive_rate": {"spearman_holdout_spend": spearman(naive_spend, actual_spend)},
        },
        parameters={**gg.params_, "log_likelihood": gg.log_likelihood_},
        notes=[
            "judged: repeat buyers of the calibration period who bought in the holdout",
            "spearman_holdout_spend ranks BG/NBD x Gamma-Gamma predicted holdout spend",
            "the model assumes spend is independent of frequency: "
            "corr_frequency_monetary should be near 0",
        ],
    )
    if ctx.truth is not None:
        summary, gg_full = full_fit(ctx, "gamma_gamma")
        _, bg_full = full_fit(ctx, "bgnbd")
        spent = summary.monetary_value > 0
        spend_input = summary.assign(
            frequency=np.where(spent, summary.frequency, 0),
            monetary_value=np.where(spent, summary.monetary_value, 0.0),
        )
        clv = gg_full.clv(
            spend_input, bg_full, horizon=12, discount_rate=0.01, margin=1.0, period=WEEKS_PER_MONTH
        )
        t = _truth_frame(ctx, summary.assign(clv_12m=clv.to_numpy()))
        t = t.merge(_past_year_spend(ctx), on="customer_id", how="left").fillna(
            {"spend_last_365d": 0.0}
        )
        future = t["spend_next_365d"].to_numpy(dtype="float64")
        card.ground_truth = {
            "customers": len(t),
            "spearman_clv_12m_vs_spend_next_365d": spearman(t["clv_12m"], future),
            "top_decile_capture_clv_12m": _top_decile_capture(t["clv_12m"].to_numpy(), future),
            "baseline_spearman_last_365d_spend": spearman(t["spend_last_365d"], future),
            "baseline_top_decile_capture_last_365d": _top_decile_capture(
                t["spend_last_365d"].to_numpy(), future
            ),
        }
    return card
