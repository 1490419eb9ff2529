"""KPI anomaly alerts: daily values checked against forecast intervals.

For each KPI series (e.g. revenue overall, orders of store S1), the days to check are
forecast from the history before them only — a backtest-style forecast with origin the day
before the first checked day (:class:`DemandForecaster` with cheap seasonal models, selected
per series by backtest, conformal intervals). A checked value outside the 80 % interval is a
``warning``, outside the 95 % interval a ``critical`` alert (levels are settings).

Each alert has a stable id (a hash of metric, scope, day and severity): computing the alerts
again gives the same ids, so they are stored and delivered once; an escalation from warning to
critical is a new alert.

Examples
--------
>>> import numpy as np, pandas as pd
>>> days = pd.date_range("2026-03-01", periods=70)
>>> value = 1000.0 + 300 * (days.dayofweek == 5) + np.tile([0, 8, -8, 4, -4], 14)
>>> value[-2] = 500.0
>>> kpis = pd.DataFrame({"metric": "revenue", "scope": "all", "ds": days, "value": value})
>>> a = detect_anomalies(kpis, check_days=2, units={"revenue": "yuan"})
>>> a[["severity", "direction"]].values.tolist()
[['critical', 'below']]
>>> a["message"].iloc[0]
'revenue 500 yuan on 2026-05-08 is 50% below the expected 1,000 yuan (95% interval 990–1,010)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.forecast.forecaster import DemandForecaster

DEFAULT_MODELS: tuple[str, ...] = ("seasonal_naive", "seasonal_es", "ses")
SEVERITIES: tuple[str, ...] = ("warning", "critical")
ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id",
    "metric",
    "scope",
    "ds",
    "severity",
    "direction",
    "actual",
    "expected",
    "lo_warning",
    "hi_warning",
    "lo_critical",
    "hi_critical",
    "deviation_pct",
    "message",
)


def alert_id(metric: str, scope: str, day: pd.Timestamp, severity: str) -> str:
    """Stable id of an alert (32 hex digits).

    Examples
    --------
    >>> alert_id("revenue", "all", pd.Timestamp("2026-06-01"), "critical")[:8]
    '129d054f'
    """
    key = f"{metric}|{scope}|{pd.Timestamp(day):%Y-%m-%d}|{severity}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def explain(
    metric: str,
    scope: str,
    day: pd.Timestamp,
    actual: float,
    expected: float,
    lo: float,
    hi: float,
    level: int,
    unit: str = "",
) -> str:
    """One sentence saying what happened, by how much, and against which interval."""
    u = f" {unit}" if unit else ""
    where = "" if scope == "all" else f" ({scope})"
    if expected != 0:
        pct = abs(actual - expected) / abs(expected) * 100
        how = f"{pct:.0f}% {'below' if actual < expected else 'above'} the expected"
    else:
        how = f"{'below' if actual < expected else 'above'} the expected"
    return (
        f"{metric}{where} {_fmt(actual)}{u} on {pd.Timestamp(day):%Y-%m-%d} is {how} "
        f"{_fmt(expected)}{u} ({level}% interval {_fmt(lo)}–{_fmt(hi)})"
    )


def detect_anomalies(
    kpis: pd.DataFrame,
    *,
    check_days: int = 1,
    levels: Sequence[int] = (80, 95),
    models: Sequence[str] = DEFAULT_MODELS,
    season_length: int = 7,
    n_windows: int = 4,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Alerts for the last ``check_days`` days of every KPI series.

    Parameters
    ----------
    kpis : DataFrame
        ``metric, scope, ds, value``: one row per KPI series and day (missing days count as 0).
    check_days : int
        Days at the end of each series to check; they are forecast from the days before.
    levels : (int, int)
        Interval levels (percent) for ``warning`` and ``critical``.
    models : sequence of str
        Candidate models (cheap seasonal ones by default).
    season_length, n_windows : int
        Season of the KPI (7: weekly cycle) and backtest windows used to choose models and to
        calibrate the intervals.
    units : mapping, optional
        Unit per metric for the messages, e.g. ``{"revenue": "yuan"}``.

    Returns
    -------
    DataFrame
        Columns :data:`ALERT_COLUMNS`, one row per day outside the ``warning`` interval.
        ``deviation_pct`` is ``100 * (actual - expected) / expected`` (NaN when expected is 0).
    """
    need = {"metric", "scope", "ds", "value"}
    if not need <= set(kpis.columns):
        raise InputError(
            f"KPI frame lacks columns {sorted(need - set(kpis.columns))}; it needs "
            "metric, scope, ds, value"
        )
    if not isinstance(check_days, (int, np.integer)) or check_days < 1:
        raise InputError(f"check_days={check_days!r} must be an integer >= 1")
    if len(levels) != 2 or not 0 < levels[0] < levels[1] < 100:
        raise InputError(
            f"levels={tuple(levels)!r} must be two increasing percentages, "
            "e.g. (80, 95) for warning and critical"
        )
    if kpis.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    k = kpis.copy()
    k["unique_id"] = k["metric"].astype(str) + "|" + k["scope"].astype(str)
    k["ds"] = pd.to_datetime(k["ds"]).dt.normalize()
    k["value"] = pd.to_numeric(k["value"], errors="coerce").fillna(0.0)
    last = k["ds"].max()
    first_checked = last - pd.Timedelta(days=check_days - 1)
    hist = k[k["ds"] < first_checked][["unique_id", "ds", "value"]]
    if hist.empty:
        raise InputError(
            f"no KPI history before {first_checked:%Y-%m-%d}: the checked days "
            "need earlier days to be forecast from"
        )
    f = DemandForecaster(
        h=check_days,
        models=models,
        season_length=season_length,
        levels=tuple(levels),
        n_windows=n_windows,
        step_size=1,
        target_col="value",
    ).fit(hist)
    fc = f.predict()
    lo_w, hi_w = f"yhat_lo_{levels[0]}", f"yhat_hi_{levels[0]}"
    lo_c, hi_c = f"yhat_lo_{levels[1]}", f"yhat_hi_{levels[1]}"
    checked = k[k["ds"] >= first_checked][["unique_id", "metric", "scope", "ds", "value"]]
    j = checked.merge(fc, on=["unique_id", "ds"], how="inner")
    actual = j["value"].to_numpy(dtype="float64")
    outside_c = (actual < j[lo_c]) | (actual > j[hi_c])
    outside_w = (actual < j[lo_w]) | (actual > j[hi_w])
    j["severity"] = np.where(outside_c, "critical", np.where(outside_w, "warning", ""))
    j = j[j["severity"] != ""].copy()
    if j.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    j["direction"] = np.where(j["value"] < j["yhat"], "below", "above")
    exp = j["yhat"].to_numpy(dtype="float64")
    j["deviation_pct"] = np.round(100 * (j["value"] - exp) / np.where(exp != 0, exp, np.nan), 1)
    units = units or {}
    msgs, ids = [], []
    for r in j.itertuples(index=False):  # one row per alert, a handful per day
        crit = r.severity == "critical"
        lo, hi = (
            (getattr(r, lo_c), getattr(r, hi_c)) if crit else (getattr(r, lo_w), getattr(r, hi_w))
        )
        msgs.append(
            explain(
                r.metric,
                r.scope,
                r.ds,
                r.value,
                r.yhat,
                lo,
                hi,
                levels[1] if crit else levels[0],
                units.get(r.metric, ""),
            )
        )
        ids.append(alert_id(r.metric, r.scope, r.ds, r.severity))
    out = pd.DataFrame(
        {
            "alert_id": ids,
            "metric": j["metric"].to_numpy(),
            "scope": j["scope"].to_numpy(),
            "ds": j["ds"].to_numpy(),
            "severity": j["severity"].to_numpy(),
            "direction": j["direction"].to_numpy(),
            "actual": j["value"].to_numpy(),
            "expected": exp,
            "lo_warning": j[lo_w].to_numpy(),
            "hi_warning": j[hi_w].to_numpy(),
            "lo_critical": j[lo_c].to_numpy(),
            "hi_critical": j[hi_c].to_numpy(),
            "deviation_pct": j["deviation_pct"].to_numpy(),
            "message": msgs,
        }
    )
    order = {"critical": 0, "warning": 1}
    return out.sort_values(
        ["ds", "severity", "metric", "scope"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        kind="stable",
    ).reset_index(drop=True)
