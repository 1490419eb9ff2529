"""The forecasting models omnicrm can run, as data: name -> how to build it and where it fits.

Local statistical models come from statsforecast and are fitted per series; ``lgbm`` is one
global LightGBM model (mlforecast) trained on every series at once with lags, rolling means,
calendar, holiday, price and promotion features.

=================  ======================================================  ==================
name               model                                                   candidate for
=================  ======================================================  ==================
seasonal_naive     value of the same period one season ago (baseline)      every class
naive              last value                                              every class
seasonal_es        seasonal exponential smoothing, alpha optimised         smooth, erratic
ses                simple exponential smoothing, alpha optimised           smooth, erratic
ets                ETS(A,N,A) — additive error and season, no trend        smooth, erratic
croston            Croston's method, optimised smoothing (SBC 2005)        intermittent, lumpy
tsb                Teunter-Syntetos-Babai (2011), alpha_d = alpha_p = 0.1  intermittent, lumpy
adida              ADIDA temporal aggregation (Nikolopoulos et al. 2011)   intermittent, lumpy
lgbm               global LightGBM on lags/rolling/calendar/exogenous      every class
combo              mean of the other candidates run on the series          every class
                   (baseline excluded; Bates & Granger 1969, M4 2018)
=================  ======================================================  ==================

``AUTO`` is what ``models=("auto",)`` means. It leaves out ``ets``: even a fixed-form
ETS costs about 60 ms per series and window, while ``seasonal_es`` is ~100x cheaper and
captures the same weekly profile; ask for ``"ets"`` explicitly on small series sets.

Examples
--------
>>> expand_models(("auto",))
('seasonal_naive', 'seasonal_es', 'croston', 'tsb', 'adida', 'lgbm', 'combo')
>>> MODELS["croston"].classes
('intermittent', 'lumpy')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from omnicrm.errors import InputError

ALL_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
_SMOOTH = ("smooth", "erratic")
_SPARSE = ("intermittent", "lumpy")


def _seasonal_naive(m: int) -> Any:
    from statsforecast.models import SeasonalNaive

    return SeasonalNaive(season_length=m, alias="seasonal_naive")


def _naive(m: int) -> Any:
    from statsforecast.models import Naive

    return Naive(alias="naive")


def _seasonal_es(m: int) -> Any:
    from statsforecast.models import SeasonalExponentialSmoothingOptimized

    return SeasonalExponentialSmoothingOptimized(season_length=m, alias="seasonal_es")


def _ses(m: int) -> Any:
    from statsforecast.models import SimpleExponentialSmoothingOptimized

    return SimpleExponentialSmoothingOptimized(alias="ses")


def _ets(m: int) -> Any:
    from statsforecast.models import AutoETS

    return AutoETS(model="ANA", season_length=m, alias="ets")


def _croston(m: int) -> Any:
    from statsforecast.models import CrostonOptimized

    return CrostonOptimized(alias="croston")


def _tsb(m: int) -> Any:
    from statsforecast.models import TSB

    return TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb")


def _adida(m: int) -> Any:
    from statsforecast.models import ADIDA

    return ADIDA(alias="adida")


@dataclass(frozen=True)
class ModelSpec:
    """One model: how to build it and which demand classes it competes on.

    Parameters
    ----------
    name : str
        Name used in every output (``model`` column).
    kind : {"stat", "ml", "combo"}
        Local statsforecast model, the global mlforecast model, or the combination.
    classes : tuple of str
        Demand classes for which it is a candidate in automatic selection.
    build : callable, optional
        ``season_length -> statsforecast model`` (stat models only).
    fallback : str, optional
        Non-seasonal model used instead when a series is shorter than two seasons.
    """

    name: str
    kind: str
    classes: tuple[str, ...]
    build: Callable[[int], Any] | None = None
    fallback: str | None = None


MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec("seasonal_naive", "stat", ALL_CLASSES, _seasonal_naive, fallback="naive"),
        ModelSpec("naive", "stat", ALL_CLASSES, _naive),
        ModelSpec("seasonal_es", "stat", _SMOOTH, _seasonal_es, fallback="ses"),
        ModelSpec("ses", "stat", _SMOOTH, _ses),
        ModelSpec("ets", "stat", _SMOOTH, _ets, fallback="ses"),
        ModelSpec("croston", "stat", _SPARSE, _croston),
        ModelSpec("tsb", "stat", _SPARSE, _tsb),
        ModelSpec("adida", "stat", _SPARSE, _adida),
        ModelSpec("lgbm", "ml", ALL_CLASSES),
        ModelSpec("combo", "combo", ALL_CLASSES),
    )
}
"""Every model by name."""

BASELINE = "seasonal_naive"
"""Always backtested; every accuracy figure is also given as a ratio to it."""

AUTO: tuple[str, ...] = (
    "seasonal_naive",
    "seasonal_es",
    "croston",
    "tsb",
    "adida",
    "lgbm",
    "combo",
)
"""What ``models=("auto",)`` expands to."""

SHORT_SERIES_MODEL: dict[str, str] = {
    "smooth": "seasonal_naive",
    "erratic": "seasonal_naive",
    "intermittent": "tsb",
    "lumpy": "tsb",
}
"""Model for series too short to backtest, by demand class (seasonal ones fall back)."""


def expand_models(models: Sequence[str]) -> tuple[str, ...]:
    """Resolve ``"auto"`` and check names; the baseline is always included first.

    Raises
    ------
    InputError
        An unknown model name, or an empty list.
    """
    if isinstance(models, str):
        models = (models,)
    if not models:
        raise InputError("models is empty: give model names or ('auto',)")
    names: list[str] = [BASELINE]
    for m in models:
        expanded = AUTO if m == "auto" else (m,)
        for name in expanded:
            if name not in MODELS:
                raise InputError(
                    f"unknown model {name!r}: choose from 'auto', {', '.join(map(repr, MODELS))}"
                )
            if name not in names:
                names.append(name)
    return tuple(names)


COMBO = "combo"


def combine(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Rows of the ``combo`` model: mean ``yhat`` of the non-baseline models per ``keys``.

    Only series with at least two member models get a combination.
    """
    members = frame[~frame["model"].isin((BASELINE, COMBO))]
    g = members.groupby(list(keys), sort=False)
    out = g.agg(yhat=("yhat", "mean"), n=("model", "nunique")).reset_index()
    if "y" in members:
        out["y"] = g["y"].first().to_numpy()
    out = out[out["n"] >= 2].drop(columns="n")
    out["model"] = COMBO
    return out


def season_model(name: str, n_obs: int, season_length: int) -> str:
    """The model that actually runs for a series of ``n_obs`` periods (seasonal fallback)."""
    spec = MODELS[name]
    if spec.fallback and n_obs < 2 * season_length:
        return spec.fallback
    return name
