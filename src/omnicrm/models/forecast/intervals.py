"""Prediction intervals from out-of-sample errors (split conformal, pooled over the horizon).

For each series, the backtest gives ``n`` errors ``e = yhat - y`` of the chosen model (all
windows and horizon steps). The half-width of the ``L`` % interval is the
``k = ceil((n + 1) * L / 100)``-th smallest ``|e|`` (the largest when ``k > n``), the finite-
sample conformal quantile; the interval is ``[max(0, yhat - q), yhat + q]``. The same width is
used at every horizon step (the errors are pooled across steps). Series without a backtest use
their in-sample one-step naive errors ``|y_t - y_{t-1}|`` instead.

``sigma`` (root mean squared error of the same errors) is kept for safety-stock computations.

Examples
--------
>>> import pandas as pd
>>> err = pd.DataFrame({"unique_id": ["a"] * 4, "error": [1.0, -2.0, 3.0, -4.0]})
>>> conformal_widths(err, levels=(50,)).round(3).values.tolist()
[['a', 4, 3.0, 2.739]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omnicrm.errors import InputError


def check_levels(levels: Sequence[int | float]) -> tuple[int, ...]:
    """Validate interval levels (percent, 0 < L < 100) and return them sorted as integers."""
    try:
        out = tuple(sorted({int(v) for v in levels}))
    except (TypeError, ValueError):
        raise InputError(f"levels={levels!r} must be whole percentages such as (80, 95)") from None
    if any(v <= 0 or v >= 100 for v in out) or any(int(v) != v for v in levels):
        raise InputError(f"levels={levels!r}: each level must be a whole number in 1..99")
    return out


def conformal_widths(errors: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    """Half-widths per series: ``unique_id, n, q_<L>…, sigma`` from a frame of errors."""
    e = pd.DataFrame(
        {
            "unique_id": errors["unique_id"].to_numpy(),
            "abs": np.abs(errors["error"].to_numpy(dtype="float64")),
            "sq": errors["error"].to_numpy(dtype="float64") ** 2,
        }
    )
    e = e.sort_values(["unique_id", "abs"], kind="stable").reset_index(drop=True)
    pos = e.groupby("unique_id", sort=False).cumcount().to_numpy()
    g = e.groupby("unique_id", sort=True)
    n = g.size()
    out = pd.DataFrame({"unique_id": n.index.to_numpy(), "n": n.to_numpy().astype("int64")})
    n_row = n.reindex(e["unique_id"]).to_numpy()
    for level in levels:
        k = np.minimum(np.ceil((n_row + 1) * level / 100.0), n_row).astype("int64") - 1
        pick = e.loc[pos == k, ["unique_id", "abs"]].set_index("unique_id")["abs"]
        out[f"q_{level}"] = pick.reindex(out["unique_id"]).to_numpy()
    out["sigma"] = np.sqrt(g["sq"].mean().to_numpy())
    return out


def naive_errors(history: pd.DataFrame) -> pd.DataFrame:
    """In-sample one-step naive errors ``y_t - y_{t-1}`` of each series (``unique_id, error``).

    A series with a single point gets one error equal to its value (an honest, wide interval).
    """
    prev = history.groupby("unique_id", sort=False)["y"].shift(1)
    err = (history["y"] - prev).to_numpy()
    out = pd.DataFrame({"unique_id": history["unique_id"].to_numpy(), "error": err})
    single = history.groupby("unique_id", sort=False)["y"].transform("size").to_numpy() == 1
    out.loc[single, "error"] = history["y"].to_numpy()[single]
    return out.dropna()


def apply_intervals(
    forecast: pd.DataFrame, widths: pd.DataFrame, levels: Sequence[int]
) -> pd.DataFrame:
    """Add ``yhat_lo_<L>, yhat_hi_<L>`` columns (lower bounds clipped at 0)."""
    w = widths.set_index("unique_id")
    out = forecast.copy()
    yhat = out["yhat"].to_numpy(dtype="float64")
    for level in levels:
        q = w[f"q_{level}"].reindex(out["unique_id"]).fillna(0.0).to_numpy()
        out[f"yhat_lo_{level}"] = np.clip(yhat - q, 0.0, None)
        out[f"yhat_hi_{level}"] = yhat + q
    return out
