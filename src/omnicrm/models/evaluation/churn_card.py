"""Model card of the churn early warning, next to the BG/NBD baseline on the same split.

Split: labelled origins every ``horizon_days`` back from the split day ``as_of`` (the test
origin); the model is trained on the origins before it, calibrated on the latest of those and
tested on ``as_of`` (rolling-origin scheme of :mod:`omnicrm.models.churn.validation`; label
windows of train, calibration and test never overlap). With a truth file, a model fitted on
origins up to the data end scores the day after it and is compared with who really dropped
out and who really made no purchase in the next 90 days.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.calibration import calibration_table
from omnicrm.models.churn.dataset import label_origins, origin_frame, training_frame
from omnicrm.models.churn.metrics import roc_auc
from omnicrm.models.churn.model import ChurnModel
from omnicrm.models.churn.plots import lift_table
from omnicrm.models.churn.validation import BASELINES, rolling_origin_evaluation
from omnicrm.models.evaluation.card import ModelCard
from omnicrm.models.evaluation.context import EvaluationContext

N_ORIGINS = 5
"""Origins built for the churn card (test + calibration + up to three for training)."""

METRIC_NAMES = ("customers", "churn_rate", "roc_auc", "pr_auc", "lift_top_decile", "brier")


def _frame(ctx: EvaluationContext, latest) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        origins = label_origins(
            ctx.last_day,
            horizon_days=ctx.horizon_days,
            n_origins=N_ORIGINS,
            first_day=ctx.first_day,
            latest=latest,
        )
        if len(origins) < 3:
            raise InputError(
                f"the churn card needs three origins {ctx.horizon_days} days apart up to as_of "
                f"{latest} (train, calibrate, test), each with 90 days of history; the data "
                f"allow {len(origins)}: choose a later as_of, a shorter --horizon-days or load "
                "a longer history"
            )
        return training_frame(ctx.tables, origins, horizon_days=ctx.horizon_days)

    return ctx.cached(f"churn_frame:{latest}", build)


def churn_card(ctx: EvaluationContext) -> ModelCard:
    """Card of :class:`omnicrm.models.churn.ChurnModel` (see the module doc)."""
    frame = _frame(ctx, ctx.as_of)
    settings = ChurnModel(horizon_days=ctx.horizon_days)
    result = rolling_origin_evaluation(frame, settings, n_test_origins=1)
    rows = result.metrics.set_index("model")
    first = rows.iloc[0]
    pred = result.predictions
    y = pred["churned"].to_numpy()
    card = ModelCard(
        name="churn",
        title=f"Churn early warning (no purchase in {ctx.horizon_days} days)",
        data_window={**ctx.window(), "rows": len(frame)},
        split={
            "test_as_of": first["test_as_of"],
            "training_origins": first["training_origins"].split(", "),
            "calibration_origin": first["calibration_origin"],
            "label_window_days": ctx.horizon_days,
            "scheme": "rolling origin; label windows of train, calibration and test do not overlap",
        },
        metrics={k: rows.loc["churn", k] for k in METRIC_NAMES},
        baselines={b: {k: rows.loc[b, k] for k in METRIC_NAMES} for b in BASELINES},
        details={
            "calibration": calibration_table(y, pred["churn_prob"]).to_dict("records"),
            "calibration_raw": calibration_table(y, pred["churn_raw"]).to_dict("records"),
            "lift": lift_table(y, pred["churn_prob"]).to_dict("records"),
            "lift_bgnbd_p_alive": lift_table(y, pred["bgnbd_p_alive"]).to_dict("records"),
        },
        notes=[
            "churned = no purchase (returns excluded) in the label window",
            "bgnbd_p_alive ranks by 1 - P(alive); bgnbd_expected by exp(-E[purchases])",
            "probabilities calibrated (isotonic) on the calibration origin",
        ],
    )
    latest = ctx.score_day - timedelta(days=ctx.horizon_days)
    final = ChurnModel(horizon_days=ctx.horizon_days).fit(_frame(ctx, latest))
    card.parameters = {
        "top_features_by_gain": final.feature_importance().head(10).round(1).to_dict(),
        "calibration": final.calibrator_["method"],
    }
    if ctx.truth is not None:
        scored, _ = ctx.cached(
            "churn_score_frame",
            lambda: origin_frame(
                ctx.tables, ctx.score_day, horizon_days=ctx.horizon_days, labelled=False
            ),
        )
        t = scored.merge(ctx.truth, on="customer_id", how="inner")
        prob = final.predict_proba(t)
        dead = ~t["alive_at_end"].to_numpy()
        none90 = (t["purchases_next_90d"] == 0).to_numpy()
        card.ground_truth = {
            "customers": len(t),
            "scored_at": str(ctx.score_day),
            "auc_dead_by_churn_prob": roc_auc(dead, prob),
            "auc_dead_by_1_minus_p_alive": roc_auc(dead, 1 - t["p_alive"].to_numpy()),
            "auc_no_purchase_90d_by_churn_prob": roc_auc(none90, prob),
            "auc_no_purchase_90d_by_1_minus_p_alive": roc_auc(none90, 1 - t["p_alive"].to_numpy()),
            "auc_no_purchase_90d_by_bgnbd_expected": roc_auc(
                none90, np.exp(-t["bgnbd_expected_purchases"].to_numpy())
            ),
            "mean_churn_prob": float(prob.mean()),
            "true_no_purchase_90d_share": float(none90.mean()),
        }
    return card
