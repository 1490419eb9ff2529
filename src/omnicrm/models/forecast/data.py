"""Validate and clean long-format demand series; classify them by demand pattern.

Input is long format like statsforecast: one row per series (``unique_id``) and period (``ds``)
with the demand ``y``; optional extra columns (price, promotion, holiday …) are exogenous
features. Column names are overridable. Cleaning never drops a series silently: every fix is
counted in the diagnostics table (one row per series).

Demand classes follow Syntetos, Boylan & Croston (2005): with ADI the average interval between
non-zero demands and CV² the squared coefficient of variation of the non-zero demand sizes,

============  ==============  ==============
class         ADI             CV²
============  ==============  ==============
smooth        < 1.32          < 0.49
erratic       < 1.32          >= 0.49
intermittent  >= 1.32         < 0.49
lumpy         >= 1.32         >= 0.49
============  ==============  ==============

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"unique_id": ["a"] * 3, "ds": pd.to_datetime(
...     ["2024-01-01", "2024-01-02", "2024-01-04"]), "y": [2.0, -1.0, 3.0]})
>>> clean, diag = prepare_series(df, freq="D", season_length=7)
>>> clean["y"].tolist()
[2.0, 0.0, 0.0, 3.0]
>>> diag.loc[0, ["gaps_filled", "negatives_clipped"]].astype(int).tolist()
[1, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.errors import InputError

FREQS: dict[str, str] = {"D": "D", "W": "W-MON"}
"""Supported frequencies -> pandas offsets (weeks start on Monday, as in the KPIs)."""

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
DEMAND_CLASSES: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy", "zero")


@dataclass(frozen=True)
class Columns:
    """Names of the id, time and target columns of a long-format frame."""

    id: str = "unique_id"
    time: str = "ds"
    target: str = "y"


def check_freq(freq: str) -> str:
    """Return the pandas offset of ``freq`` ("D" or "W"); raise InputError otherwise."""
    if freq not in FREQS:
        raise InputError(f"freq={freq!r} is not supported: use 'D' (daily) or 'W' (weekly)")
    return FREQS[freq]


def prepare_series(
    df: pd.DataFrame,
    *,
    freq: str = "D",
    season_length: int = 7,
    columns: Columns = Columns(),
    exog: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate, regularise and clean demand series.

    Parameters
    ----------
    df : DataFrame
        Long format: id, time and target columns plus optional exogenous columns.
    freq : {"D", "W"}
        Period of the series. Weekly timestamps are moved to the Monday of their week.
    season_length : int
        Periods per season (7 for daily data with a weekly cycle); series shorter than two
        seasons are flagged ``short_for_season``.
    columns : Columns
        Column names.
    exog : sequence of str, optional
        Exogenous columns to keep (default: every other column). Missing values in them, and
        on filled-in dates, become 0.

    Returns
    -------
    clean : DataFrame
        Columns ``unique_id, ds, y`` (renamed to the standard names) plus exogenous columns,
        one row per series and period from the series' first to the common last period, sorted.
        Missing periods are filled with ``y = 0``; negative demand (returns) is clipped to 0.
    diagnostics : DataFrame
        One row per series: ``unique_id, n_obs, first_ds, last_ds, gaps_filled,
        negatives_clipped, total_demand, all_zero, short_for_season, adi, cv2, demand_class``.

    Raises
    ------
    InputError
        Missing columns, empty frame, unparsable dates, non-numeric or missing demand,
        duplicate (series, period) rows, or a bad ``freq``/``season_length``.
    """
    check_freq(freq)
    if not isinstance(season_length, (int, np.integer)) or season_length < 1:
        raise InputError(f"season_length={season_length!r} must be an integer >= 1 (e.g. 7)")
    missing = [c for c in (columns.id, columns.time, columns.target) if c not in df.columns]
    if missing:
        raise InputError(
            f"demand frame lacks columns {missing}; it has {list(df.columns)}. Rename them or "
            "pass id_col/time_col/target_col"
        )
    if df.empty:
        raise InputError("demand frame is empty: it needs at least one row per series")
    extra = [c for c in df.columns if c not in (columns.id, columns.time, columns.target)]
    exog = list(extra if exog is None else exog)
    unknown = [c for c in exog if c not in df.columns]
    if unknown:
        raise InputError(f"exogenous columns {unknown} are not in the frame; it has {extra}")
    out = df[[columns.id, columns.time, columns.target, *exog]].rename(
        columns={columns.id: "unique_id", columns.time: "ds", columns.target: "y"}
    )
    out["unique_id"] = out["unique_id"].astype(str)
    try:
        ds = pd.to_datetime(out["ds"])
    except (ValueError, TypeError) as exc:
        raise InputError(f"column {columns.time!r} holds values that are not dates: {exc}") from exc
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_convert("UTC").dt.tz_localize(None)
    ds = ds.dt.normalize()
    if freq == "W":
        ds = ds - pd.to_timedelta(ds.dt.dayofweek, unit="D")
    out["ds"] = ds
    y = pd.to_numeric(out["y"], errors="coerce")
    bad = y.isna() & out["y"].notna()
    if bad.any():
        raise InputError(
            f"column {columns.target!r} holds non-numeric values, e.g. "
            f"{out.loc[bad, 'y'].iloc[0]!r}; demand must be a number"
        )
    if y.isna().any():
        first = out.loc[y.isna()].iloc[0]
        raise InputError(
            f"column {columns.target!r} is missing for series {first['unique_id']!r} on "
            f"{first['ds']:%Y-%m-%d}; use 0 for a period without sales"
        )
    out["y"] = y.astype("float64")
    for c in exog:
        out[c] = pd.to_numeric(out[c], errors="coerce")
        if out[c].isna().all() and df[c].notna().any():
            raise InputError(f"exogenous column {c!r} is not numeric; encode it as numbers")
    dup = out.duplicated(["unique_id", "ds"])
    if dup.any():
        row = out.loc[dup].iloc[0]
        raise InputError(
            f"series {row['unique_id']!r} has several rows for {row['ds']:%Y-%m-%d}; aggregate "
            "to one row per series and period first"
        )
    negatives = (out["y"] < 0).groupby(out["unique_id"]).sum()
    out["y"] = out["y"].clip(lower=0.0)

    # Regular grid per series: first period of the series .. last period of all series.
    end = out["ds"].max()
    starts = out.groupby("unique_id", sort=True)["ds"].min()
    step_days = 7 if freq == "W" else 1
    periods = ((end - starts).dt.days // step_days + 1).astype("int64")
    ids = np.repeat(starts.index.to_numpy(), periods.to_numpy())
    step = pd.Timedelta(days=step_days)
    within = np.arange(len(ids)) - np.repeat(
        np.cumsum(periods.to_numpy()) - periods.to_numpy(), periods.to_numpy()
    )
    grid = pd.DataFrame(
        {"unique_id": ids, "ds": np.repeat(starts.to_numpy(), periods.to_numpy()) + within * step}
    )
    observed = out.groupby("unique_id").size()
    clean = grid.merge(out, on=["unique_id", "ds"], how="left", sort=False)
    clean["y"] = clean["y"].fillna(0.0)
    for c in exog:
        clean[c] = clean[c].fillna(0.0)
    clean = clean.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)

    diag = describe_series(clean, season_length=season_length)
    diag["gaps_filled"] = (diag["n_obs"] - observed.reindex(diag["unique_id"]).to_numpy()).astype(
        "int64"
    )
    diag["negatives_clipped"] = negatives.reindex(diag["unique_id"]).to_numpy().astype("int64")
    order = [
        "unique_id",
        "n_obs",
        "first_ds",
        "last_ds",
        "gaps_filled",
        "negatives_clipped",
        "total_demand",
        "all_zero",
        "short_for_season",
        "adi",
        "cv2",
        "demand_class",
    ]
    return clean, diag[order]


def describe_series(df: pd.DataFrame, *, season_length: int = 7) -> pd.DataFrame:
    """Length, totals, ADI, CV² and demand class of each series of a clean frame.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 4,
    ...                    "ds": list(pd.date_range("2024-01-01", periods=4)) * 2,
    ...                    "y": [5, 5, 5, 5, 0, 9, 0, 1]})
    >>> describe_series(df)[["unique_id", "adi", "demand_class"]].values.tolist()
    [['a', 1.0, 'smooth'], ['b', 2.0, 'lumpy']]
    """
    g = df.groupby("unique_id", sort=True)
    y = df["y"].to_numpy(dtype="float64")
    nz = y > 0
    frame = pd.DataFrame(
        {"unique_id": df["unique_id"].to_numpy(), "nz": nz, "ynz": np.where(nz, y, np.nan)}
    )
    gz = frame.groupby("unique_id", sort=True)
    n_obs = g.size()
    n_nz = gz["nz"].sum()
    mean_nz = gz["ynz"].mean()
    std_nz = gz["ynz"].std(ddof=0)
    adi = (n_obs / n_nz.where(n_nz > 0)).astype("float64")
    cv2 = ((std_nz / mean_nz) ** 2).astype("float64")
    cls = np.select(
        [
            n_nz.to_numpy() == 0,
            (adi < ADI_CUTOFF) & (cv2 < CV2_CUTOFF),
            (adi < ADI_CUTOFF) & (cv2 >= CV2_CUTOFF),
            (adi >= ADI_CUTOFF) & (cv2 < CV2_CUTOFF),
        ],
        ["zero", "smooth", "erratic", "intermittent"],
        default="lumpy",
    )
    return pd.DataFrame(
        {
            "unique_id": n_obs.index.to_numpy(),
            "n_obs": n_obs.to_numpy().astype("int64"),
            "first_ds": g["ds"].min().to_numpy(),
            "last_ds": g["ds"].max().to_numpy(),
            "total_demand": g["y"].sum().to_numpy(),
            "all_zero": (n_nz.to_numpy() == 0),
            "short_for_season": n_obs.to_numpy() < 2 * season_length,
            "adi": adi.to_numpy(),
            "cv2": cv2.to_numpy(),
            "demand_class": cls,
        }
    )


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` periods after ``last``."""
    return pd.date_range(last, periods=h + 1, freq=check_freq(freq))[1:]
