"""``ChurnModel``: LightGBM churn classifier, calibrated on a later time slice, with reasons.

The model learns P(no purchase in the ``horizon_days`` from ``as_of``) from a stacked frame of
labelled origins (:func:`omnicrm.models.churn.dataset.training_frame`). ``fit`` splits it in
time: the **latest** origin is held out for calibration and the classifier is trained on the
origins whose label windows end on or before it (``as_of + horizon_days <= calibration
origin``), so the calibrator sees customers the classifier never saw, later in time, exactly
as the model will be used. Each prediction can be explained by LightGBM's per-row
contributions (:meth:`ChurnModel.explain`).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from omnicrm.models.churn.dataset import MODEL_FEATURES
>>> rng = np.random.default_rng(0)
>>> def origin(day, n=600):
...     f = pd.DataFrame(rng.gamma(2.0, 20.0, (n, len(MODEL_FEATURES))), columns=MODEL_FEATURES)
...     churned = rng.random(n) < 1 / (1 + np.exp(-(f.recency_days - 40) / 10))
...     return f.assign(as_of=pd.Timestamp(day), customer_id=np.arange(n).astype(str),
...                     churned=churned)
>>> frame = pd.concat([origin("2025-01-01"), origin("2025-04-01"), origin("2025-07-01")])
>>> model = ChurnModel(n_estimators=50).fit(frame)
>>> model.training_origins_, model.calibration_origin_
(['2025-01-01', '2025-04-01'], '2025-07-01')
>>> p = model.predict_proba(frame)
>>> bool(p[frame.recency_days > 80].mean() > p[frame.recency_days < 20].mean())
True
"""

from __future__ import annotations

from typing import ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.base import JSONModel, check_is_fitted
from omnicrm.models.churn.calibration import apply_calibrator, check_method, fit_calibrator
from omnicrm.models.churn.data import check_horizon_days
from omnicrm.models.churn.dataset import MODEL_FEATURES
from omnicrm.models.churn.reasons import ReasonTemplates, reason_texts
from omnicrm.models.churn.treeshap import tree_contributions


class ChurnModel(JSONModel):
    """Churn early-warning classifier (LightGBM + calibration on a held-out time slice).

    Parameters
    ----------
    horizon_days : int, default 90
        Label window: churned = no purchase in the ``horizon_days`` from ``as_of``.
    calibration : {"isotonic", "platt"}, default "isotonic"
        How raw probabilities are calibrated on the latest origin.
    n_estimators, learning_rate, num_leaves, max_depth, min_child_samples : LightGBM settings
        Boosting rounds, shrinkage, leaves per tree, tree depth, fewest customers per leaf.
        The defaults keep the trees small (the larger 300 x 0.05 model scored the same on the
        demo retailer): TreeSHAP for the reasons costs trees x leaves x depth squared per
        distinct split pattern, and small trees have few patterns
        (:mod:`omnicrm.models.churn.treeshap`).
    min_customers : int, default 200
        Fewest training customers (rows) ``fit`` accepts.
    min_positives : int, default 20
        Fewest churned and fewest retained customers in the training and calibration slices.
    random_state : int, default 0
        Seed of LightGBM's bagging (results are deterministic).
    n_jobs : int, default 2
        LightGBM threads for predictions and contributions. Training uses one thread: on the
        shared 2-core machine two threads trained the 1M-customer sample 7x slower (4 s vs
        31 s; the threads wait for each other at every split), and one thread makes the fit
        the same everywhere.

    Attributes
    ----------
    feature_names_ : list of str
    booster_text_ : str
        The LightGBM model (``Booster.model_to_string``), so the model saves as JSON.
    calibrator_ : dict
        See :mod:`omnicrm.models.churn.calibration`.
    training_origins_, calibration_origin_ : list of str, str
    n_train_, n_calibration_ : int
    train_churn_rate_ : float
    """

    _fitted_attributes: ClassVar[tuple[str, ...]] = (
        "feature_names_",
        "booster_text_",
        "calibrator_",
        "training_origins_",
        "calibration_origin_",
        "n_train_",
        "n_calibration_",
        "train_churn_rate_",
    )

    def __init__(
        self,
        horizon_days: int = 90,
        calibration: str = "isotonic",
        n_estimators: int = 80,
        learning_rate: float = 0.15,
        num_leaves: int = 15,
        max_depth: int = 4,
        min_child_samples: int = 40,
        min_customers: int = 200,
        min_positives: int = 20,
        random_state: int = 0,
        n_jobs: int = 2,
    ):
        self.horizon_days = horizon_days
        self.calibration = calibration
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.min_customers = min_customers
        self.min_positives = min_positives
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fitting ------------------------------------------------------------------------------
    def _lgb_params(self) -> dict:
        for name in ("n_estimators", "num_leaves", "max_depth", "min_child_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} = {value!r} must be a whole number >= 1")
        if not 0 < self.learning_rate <= 1:
            raise InputError(f"learning_rate = {self.learning_rate!r} must be in (0, 1]")
        return {
            "objective": "binary",
            "learning_rate": float(self.learning_rate),
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": self.random_state,
            "deterministic": True,
            "num_threads": 1,
            "verbose": -1,
        }

    def fit(self, frame: pd.DataFrame) -> ChurnModel:
        """Train on all origins but the latest, calibrate on the latest.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns ``as_of``, ``churned`` and :data:`MODEL_FEATURES` (one row per customer
            and origin), e.g. from :func:`omnicrm.models.churn.dataset.training_frame`.

        Returns
        -------
        self
        """
        horizon = check_horizon_days(self.horizon_days)
        check_method(self.calibration)
        params = self._lgb_params()
        _require(frame, ("as_of", "churned", *MODEL_FEATURES))
        as_of = pd.to_datetime(frame["as_of"])
        origins = sorted(as_of.unique())
        if len(origins) < 2:
            raise InputError(
                f"fit needs labelled customers at two or more as_of origins (train on the "
                f"earlier, calibrate on the latest); got {len(origins)}: build the frame with "
                "training_frame(tables, label_origins(...))"
            )
        cal_origin = origins[-1]
        train_mask = (as_of + pd.Timedelta(days=horizon) <= cal_origin).to_numpy()
        cal_mask = (as_of == cal_origin).to_numpy()
        if not train_mask.any():
            raise InputError(
                f"no origin's {horizon}-day label window ends by the calibration origin "
                f"{cal_origin.date()}: space origins at least horizon_days apart"
            )
        y = frame["churned"].astype(bool).to_numpy()
        self._check_slice(y[train_mask], "training")
        self._check_slice(y[cal_mask], "calibration")
        x = frame.loc[:, list(MODEL_FEATURES)].to_numpy(dtype="float64")
        booster = lgb.train(
            params,
            lgb.Dataset(
                x[train_mask], y[train_mask].astype(float), feature_name=list(MODEL_FEATURES)
            ),
            num_boost_round=self.n_estimators,
        )
        raw_cal = booster.predict(x[cal_mask])
        self.calibrator_ = fit_calibrator(raw_cal, y[cal_mask], method=self.calibration)
        self.feature_names_ = list(MODEL_FEATURES)
        self.booster_text_ = booster.model_to_string()
        self._booster = booster
        self.training_origins_ = [
            str(pd.Timestamp(o).date()) for o in sorted(as_of[train_mask].unique())
        ]
        self.calibration_origin_ = str(pd.Timestamp(cal_origin).date())
        self.n_train_ = int(train_mask.sum())
        self.n_calibration_ = int(cal_mask.sum())
        self.train_churn_rate_ = float(y[train_mask].mean())
        return self

    def _check_slice(self, y: np.ndarray, name: str) -> None:
        if len(y) < self.min_customers:
            raise InputError(
                f"the {name} slice has {len(y)} customers, fewer than min_customers = "
                f"{self.min_customers}; use more origins, a longer history or a lower "
                "min_customers"
            )
        churned = int(y.sum())
        for count, what in ((churned, "churned"), (len(y) - churned, "retained")):
            if count < self.min_positives:
                raise InputError(
                    f"the {name} slice has {count} {what} customers, fewer than min_positives "
                    f"= {self.min_positives}; use more origins or a different horizon_days"
                )

    # -- predictions --------------------------------------------------------------------------
    def _model(self) -> lgb.Booster:
        check_is_fitted(self)
        booster = getattr(self, "_booster", None)
        if booster is None:
            booster = self._booster = lgb.Booster(model_str=self.booster_text_)
        return booster

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        self._model()
        _require(frame, tuple(self.feature_names_))
        return frame.loc[:, self.feature_names_].to_numpy(dtype="float64")

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated churn probabilities of the classifier."""
        return self._model().predict(self._matrix(frame), num_threads=self.n_jobs)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each customer makes no purchase in the horizon."""
        raw = self.predict_raw(frame)
        return apply_calibrator(self.calibrator_, raw)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-customer log-odds contribution of each feature (column ``bias`` = baseline).

        TreeSHAP as LightGBM's ``pred_contrib=True``, computed once per split pattern of each
        tree (:func:`omnicrm.models.churn.treeshap.tree_contributions`).
        """
        values = tree_contributions(
            self._model(), self._matrix(frame), num_threads=self.n_jobs, seed=self.random_state
        )
        return pd.DataFrame(values, columns=[*self.feature_names_, "bias"], index=frame.index)

    def feature_importance(self) -> pd.Series:
        """Total gain of each feature's splits, largest first."""
        gain = self._model().feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.feature_names_, name="gain").sort_values(ascending=False)

    def explain(
        self,
        frame: pd.DataFrame,
        *,
        lang: str = "en",
        top: int = 3,
        min_contribution: float = 0.05,
        templates: ReasonTemplates | None = None,
    ) -> pd.DataFrame:
        """Top reasons per customer (``churn_reasons``, ``churn_reasons_json``), row-aligned.

        See :func:`omnicrm.models.churn.reasons.reason_texts`.
        """
        contrib = self.contributions(frame).drop(columns="bias")
        out = reason_texts(
            contrib.reset_index(drop=True),
            frame.reset_index(drop=True),
            lang=lang,
            top=top,
            min_contribution=min_contribution,
            horizon_days=self.horizon_days,
            templates=templates,
        )
        out.index = frame.index
        return out


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise InputError(
            f"the frame lacks column(s) {shown}; build it with "
            "omnicrm.models.churn.dataset.training_frame(...) or origin_frame(...)"
        )
