"""Small synthetic demand sets shared by the forecasting tests (fitted once per session)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.models.forecast import DemandForecaster

START = pd.Timestamp("2024-01-01")


def weekly_series(
    uid: str,
    n: int,
    *,
    base: float = 10.0,
    peak: float = 6.0,
    seed: int = 0,
    start: pd.Timestamp = START,
) -> pd.DataFrame:
    """A smooth daily series with a Saturday peak and Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    lam = base + peak * ((start.dayofweek + t) % 7 == 5)
    return pd.DataFrame(
        {
            "unique_id": uid,
            "ds": pd.date_range(start, periods=n),
            "y": rng.poisson(lam).astype(float),
        }
    )


def sparse_series(uid: str, n: int, *, p: float = 0.15, seed: int = 0) -> pd.DataFrame:
    """An intermittent daily series: demand on ~p of the days, sizes 1-3."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < p, rng.integers(1, 4, n), 0).astype(float)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(START, periods=n), "y": y})


@pytest.fixture(scope="session")
def mixed_frame() -> pd.DataFrame:
    """4 smooth + 3 intermittent series of 140 days, one short series and one all-zero."""
    parts = [weekly_series(f"smooth{i}", 140, base=8 + 4 * i, seed=i) for i in range(4)]
    parts += [sparse_series(f"sparse{i}", 140, seed=10 + i) for i in range(3)]
    parts.append(
        pd.DataFrame(
            {
                "unique_id": "short",
                "ds": pd.date_range(START + pd.Timedelta(days=134), periods=6),
                "y": [3.0, 4, -2, 5, 4, 6],
            }
        )
    )
    parts.append(
        pd.DataFrame({"unique_id": "zero", "ds": pd.date_range(START, periods=140), "y": 0.0})
    )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="session")
def fitted(mixed_frame: pd.DataFrame) -> DemandForecaster:
    """Auto selection (without LightGBM, for speed) on the mixed frame."""
    models = ("seasonal_naive", "seasonal_es", "croston", "tsb", "adida")
    return DemandForecaster(h=14, models=models, n_windows=2).fit(mixed_frame)
