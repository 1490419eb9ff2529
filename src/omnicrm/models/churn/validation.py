"""Rolling-origin validation of the churn model next to the BG/NBD baseline.

For each **test origin** (the latest ``n_test_origins`` origins of the frame), a fresh
:class:`~omnicrm.models.churn.model.ChurnModel` is fitted on the origins whose label windows
end on or before the test origin (``as_of + horizon_days <= test origin``; the latest of them
calibrates, the rest train) and scores the test origin's customers. No label window of the
training or calibration data overlaps the test window, and every feature is computed from data
before its own origin. The baselines are scored on the *same* customers from the BG/NBD model
fitted at the test origin:

- ``bgnbd_p_alive``: churn score ``1 - P(alive)``;
- ``bgnbd_expected``: churn score ``exp(-E[purchases in the horizon])`` (the Poisson chance of
  no purchase; ranks exactly as ``-E[purchases]``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from omnicrm.models.churn.dataset import MODEL_FEATURES
>>> rng = np.random.default_rng(0)
>>> def origin(day, n=600):
...     f = pd.DataFrame(rng.gamma(2.0, 20.0, (n, len(MODEL_FEATURES))), columns=MODEL_FEATURES)
...     f["p_alive"] = rng.random(n)
...     churned = rng.random(n) < 1 / (1 + np.exp(-(f.recency_days - 40) / 10))
...     return f.assign(as_of=pd.Timestamp(day), customer_id=np.arange(n).astype(str),
...                     churned=churned)
>>> days = ["2024-10-01", "2025-01-01", "2025-04-01", "2025-07-01"]
>>> frame = pd.concat([origin(d) for d in days])
>>> result = rolling_origin_evaluation(frame, ChurnModel(n_estimators=50), n_test_origins=1)
>>> dict(zip(result.metrics.model, result.metrics.roc_auc.round(1)))
{'churn': 0.9, 'bgnbd_p_alive': 0.5, 'bgnbd_expected': 0.5}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.churn.metrics import score_metrics
from omnicrm.models.churn.model import ChurnModel

BASELINES: tuple[str, ...] = ("bgnbd_p_alive", "bgnbd_expected")


@dataclass(frozen=True)
class RollingEvaluation:
    """Result of :func:`rolling_origin_evaluation`.

    ``metrics``: one row per test origin and model (``churn`` and :data:`BASELINES`) with
    ``customers, churn_rate, roc_auc, pr_auc, lift_top_decile, brier`` and the origins used.
    ``predictions``: the latest test origin's customers with ``churned``, ``churn_prob``,
    ``churn_raw`` and the baseline scores (for calibration and lift charts).
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame


def baseline_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Churn scores of the BG/NBD baselines (see the module doc)."""
    return {
        "bgnbd_p_alive": 1.0 - frame["p_alive"].to_numpy(dtype="float64"),
        "bgnbd_expected": np.exp(-frame["bgnbd_expected_purchases"].to_numpy(dtype="float64")),
    }


def rolling_origin_evaluation(
    frame: pd.DataFrame, model: ChurnModel, *, n_test_origins: int = 2
) -> RollingEvaluation:
    """Evaluate ``model``'s settings on the latest ``n_test_origins`` origins of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Labelled origins (:func:`omnicrm.models.churn.dataset.training_frame`).
    model : ChurnModel
        Settings to evaluate (a fresh copy is fitted per test origin; ``model`` is unchanged).
    n_test_origins : int, default 2
        How many of the latest origins are test origins.

    Raises
    ------
    InputError
        When a test origin lacks two earlier, non-overlapping origins to train and calibrate.
    """
    if (
        isinstance(n_test_origins, bool)
        or not isinstance(n_test_origins, int)
        or (n_test_origins < 1)
    ):
        raise InputError(f"n_test_origins = {n_test_origins!r} must be a whole number >= 1")
    as_of = pd.to_datetime(frame["as_of"])
    origins = sorted(as_of.unique())
    horizon = pd.Timedelta(days=model.horizon_days)
    rows, predictions = [], None
    for test_origin in origins[-n_test_origins:]:
        earlier = as_of + horizon <= test_origin
        if as_of[earlier].nunique() < 2:
            raise InputError(
                f"test origin {pd.Timestamp(test_origin).date()} has "
                f"{as_of[earlier].nunique()} earlier origin(s) whose label windows end before "
                "it; rolling-origin validation needs two (train + calibrate): add origins "
                "(n_origins) or test fewer (n_test_origins)"
            )
        fitted = ChurnModel(**model.get_params()).fit(frame[earlier.to_numpy()])
        test = frame[(as_of == test_origin).to_numpy()]
        y = test["churned"].astype(bool).to_numpy()
        scores = {"churn": fitted.predict_proba(test), **baseline_scores(test)}
        for name, score in scores.items():
            rows.append(
                {
                    "test_as_of": str(pd.Timestamp(test_origin).date()),
                    "model": name,
                    **score_metrics(y, score),
                    "training_origins": ", ".join(fitted.training_origins_),
                    "calibration_origin": fitted.calibration_origin_,
                }
            )
        predictions = test[["customer_id", "churned"]].assign(
            churn_prob=scores["churn"],
            churn_raw=fitted.predict_raw(test),
            **{name: scores[name] for name in BASELINES},
        )
    return RollingEvaluation(metrics=pd.DataFrame(rows), predictions=predictions)
