"""Churn early warning: who will stop buying, how sure we are, and why.

Label: no purchase in the ``horizon_days`` (default 90) from ``as_of``. Features: RFM, spend
and order trends, inter-purchase gaps, channel mix, category breadth, returns, discount
reliance, feedback, behaviour events and the BG/NBD outputs, all from data before ``as_of``
(Ibis expressions over the warehouse, fetched once). Model: LightGBM, calibrated on a later
held-out origin, evaluated by rolling origins next to the BG/NBD baseline; reasons from
per-row contributions worded by a template table (English and Chinese). See
``docs/churn.md``.

Typical use::

    from omnicrm.models.churn import score_customers, risk_list, write_risk_list_csv
    scored = score_customers(con, as_of="2026-07-01")          # pandas, one row per customer
    write_risk_list_csv(risk_list(scored, top=500), "at_risk.csv")
"""

from omnicrm.models.churn.data import ChurnTables
from omnicrm.models.churn.dataset import (
    MODEL_FEATURES,
    label_origins,
    origin_frame,
    training_frame,
)
from omnicrm.models.churn.features import FEATURE_COLUMNS, churn_features
from omnicrm.models.churn.labels import churn_labels
from omnicrm.models.churn.metrics import brier, lift_at, pr_auc, roc_auc, score_metrics
from omnicrm.models.churn.model import ChurnModel
from omnicrm.models.churn.plots import plot_calibration, plot_lift, plot_risk_list
from omnicrm.models.churn.reasons import ReasonTemplates, reason_texts
from omnicrm.models.churn.scoring import (
    SCORE_COLUMNS,
    fit_churn_model,
    risk_list,
    score_customers,
    write_risk_list_csv,
)
from omnicrm.models.churn.validation import RollingEvaluation, rolling_origin_evaluation

__all__ = [
    "FEATURE_COLUMNS",
    "MODEL_FEATURES",
    "SCORE_COLUMNS",
    "ChurnModel",
    "ChurnTables",
    "ReasonTemplates",
    "RollingEvaluation",
    "brier",
    "churn_features",
    "churn_labels",
    "fit_churn_model",
    "label_origins",
    "lift_at",
    "origin_frame",
    "plot_calibration",
    "plot_lift",
    "plot_risk_list",
    "pr_auc",
    "reason_texts",
    "risk_list",
    "roc_auc",
    "rolling_origin_evaluation",
    "score_customers",
    "score_metrics",
    "training_frame",
    "write_risk_list_csv",
]
