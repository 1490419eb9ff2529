"""Safety stock, reorder point and suggested order quantity per product x store.

For a series with daily (or weekly) forecasts ``yhat_1..yhat_h``, forecast-error standard
deviation per period ``sigma``, lead time ``L`` days and review period ``R`` days, with ``P``
the protection interval in periods (``(L + R) / days_per_period``, may be fractional):

- lead-time demand ``mu = yhat_1 + … + yhat_floor(P) + (P - floor(P)) * yhat_(floor(P)+1)``
  (the actual forecasts, not an average, so promotions and weekdays inside the lead time count);
- safety stock ``SS = z(service_level) * sigma * sqrt(P)`` (forecast errors independent
  across periods; ``z`` is the standard normal quantile of the cycle service level, i.e. the
  probability of no stock-out during a replenishment cycle);
- reorder point ``ROP = mu + SS``;
- suggested order ``max(0, ROP - on_hand - on_order)`` rounded **up** to whole packs.

``sigma`` comes from the backtest errors of the chosen model (``sigma_source="residuals"``,
root mean squared out-of-sample error per period; the default) or from the forecast interval
(``"interval"``: ``(yhat_hi_L - yhat) / z(L)`` on the first period, with the widest level).

Lead time, review period, service level and pack size are data: a default and per-category
overrides, e.g. in TOML::

    [default]
    lead_time_days = 7
    service_level = 0.95

    [category.Dairy]
    lead_time_days = 2
    service_level = 0.98

Examples
--------
>>> import pandas as pd
>>> fc = pd.DataFrame({"unique_id": ["a"] * 3, "ds": pd.date_range("2024-01-01", periods=3),
...                    "yhat": [10.0, 20.0, 30.0]})
>>> sig = pd.DataFrame({"unique_id": ["a"], "sigma": [2.0]})
>>> pol = StockPolicies(StockPolicy(lead_time_days=2, service_level=0.5))
>>> s = stock_suggestions(fc, sig, policies=pol,
...                       on_hand=pd.DataFrame({"unique_id": ["a"], "on_hand": [12]}))
>>> s[["lead_time_demand", "safety_stock", "reorder_point", "order_quantity"]].values.tolist()
[[30.0, 0.0, 30.0, 18.0]]
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from omnicrm.errors import InputError


@dataclass(frozen=True)
class StockPolicy:
    """Replenishment settings of one category (or the default).

    Parameters
    ----------
    lead_time_days : float
        Days from order to shelf (> 0).
    service_level : float
        Target probability of no stock-out per cycle (0.5 <= level < 1).
    review_period_days : float
        Days between order decisions (0 = continuous review).
    pack_size : float
        Orders are whole multiples of it (> 0).
    """

    lead_time_days: float = 7
    service_level: float = 0.95
    review_period_days: float = 0
    pack_size: float = 1

    def __post_init__(self) -> None:
        checks = (
            ("lead_time_days", self.lead_time_days > 0, "> 0"),
            ("service_level", 0.5 <= self.service_level < 1, "between 0.5 and 1 (e.g. 0.95)"),
            ("review_period_days", self.review_period_days >= 0, ">= 0"),
            ("pack_size", self.pack_size > 0, "> 0"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise InputError(f"stock policy {name}={getattr(self, name)!r} must be {rule}")


@dataclass(frozen=True)
class StockPolicies:
    """A default policy and per-category overrides."""

    default: StockPolicy = StockPolicy()
    by_category: Mapping[str, StockPolicy] = field(default_factory=dict)

    def for_category(self, category: str | None) -> StockPolicy:
        """The policy of ``category`` (the default when it has none)."""
        return self.by_category.get(category, self.default) if category else self.default


def _policy(base: StockPolicy, raw: Any, where: str) -> StockPolicy:
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a table of settings, got {raw!r}")
    known = {f.name for f in fields(StockPolicy)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"{where}: unknown settings {unknown}; known: {sorted(known)}")
    for k, v in raw.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise InputError(f"{where}.{k} = {v!r} must be a number")
    return replace(base, **raw)


def load_policies(path: str | Path) -> StockPolicies:
    """Read stock policies from a TOML file (``[default]`` and ``[category.<name>]`` tables)."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"stock policy file '{path}' does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"stock policy file '{path}' is not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"default", "category"})
    if unknown:
        raise InputError(f"{path}: unknown tables {unknown}; use [default] and [category.<name>]")
    default = _policy(StockPolicy(), doc.get("default", {}), f"{path} [default]")
    cats = doc.get("category", {})
    return StockPolicies(
        default, {str(k): _policy(default, v, f"{path} [category.{k}]") for k, v in cats.items()}
    )


def stock_suggestions(
    forecast: pd.DataFrame,
    sigma: pd.DataFrame,
    *,
    policies: StockPolicies = StockPolicies(),
    categories: pd.DataFrame | None = None,
    on_hand: pd.DataFrame | None = None,
    freq: str = "D",
    sigma_source: str = "residuals",
) -> pd.DataFrame:
    """Safety stock, reorder point and order quantity per series.

    Parameters
    ----------
    forecast : DataFrame
        ``unique_id, ds, yhat`` (+ ``yhat_hi_<L>`` for ``sigma_source="interval"``), e.g.
        :meth:`DemandForecaster.predict`.
    sigma : DataFrame
        ``unique_id, sigma`` (e.g. ``DemandForecaster.selection_``); unused for "interval".
    policies : StockPolicies
        Lead times, service levels, review periods and pack sizes.
    categories : DataFrame, optional
        ``unique_id, category`` to pick per-category policies.
    on_hand : DataFrame, optional
        ``unique_id, on_hand`` and optionally ``on_order`` (missing series: 0).
    freq : {"D", "W"}
        Period of the forecast.
    sigma_source : {"residuals", "interval"}

    Returns
    -------
    DataFrame
        ``unique_id, category, lead_time_days, review_period_days, service_level, z,
        protection_periods, sigma, lead_time_demand, safety_stock, reorder_point, on_hand,
        on_order, order_quantity`` (quantities rounded to 3 decimals; orders to whole packs).
    """
    if freq not in ("D", "W"):
        raise InputError(f"freq={freq!r} must be 'D' or 'W'")
    if sigma_source not in ("residuals", "interval"):
        raise InputError(f"sigma_source={sigma_source!r} must be 'residuals' or 'interval'")
    days = 7 if freq == "W" else 1
    fc = forecast.sort_values(["unique_id", "ds"], kind="stable")
    ids = pd.Index(fc["unique_id"].unique())
    cat = (
        categories.set_index("unique_id")["category"].reindex(ids)
        if categories is not None
        else pd.Series(None, index=ids, dtype=object)
    )
    pol = [policies.for_category(c if isinstance(c, str) else None) for c in cat]
    lt = np.array([p.lead_time_days for p in pol], dtype="float64")
    rp = np.array([p.review_period_days for p in pol], dtype="float64")
    sl = np.array([p.service_level for p in pol], dtype="float64")
    pack = np.array([p.pack_size for p in pol], dtype="float64")
    periods = (lt + rp) / days
    horizon = fc.groupby("unique_id", sort=False).size().reindex(ids).to_numpy()
    if (np.ceil(periods) > horizon).any():
        i = int(np.argmax(np.ceil(periods) > horizon))
        raise InputError(
            f"series {ids[i]!r}: lead time + review period ({lt[i]:g} + {rp[i]:g} days) is "
            f"longer than the forecast horizon ({horizon[i]} periods); forecast further ahead"
        )
    # lead-time demand: whole periods plus the fraction of the next one (vectorised)
    step = fc.groupby("unique_id", sort=False).cumcount().to_numpy()  # 0-based period
    p_row = pd.Series(periods, index=ids).reindex(fc["unique_id"]).to_numpy()
    weight = np.clip(p_row - step, 0.0, 1.0)
    mu = pd.Series(fc["yhat"].to_numpy() * weight).groupby(fc["unique_id"].to_numpy()).sum()
    mu = mu.reindex(ids).to_numpy()
    z = norm.ppf(sl)
    if sigma_source == "residuals":
        s = sigma.set_index("unique_id")["sigma"].reindex(ids)
        if s.isna().any():
            raise InputError(
                f"no sigma for series {s[s.isna()].index[0]!r}; pass the "
                "forecaster's selection_ (unique_id, sigma)"
            )
        s = s.to_numpy(dtype="float64")
    else:
        his = [c for c in fc.columns if c.startswith("yhat_hi_")]
        if not his:
            raise InputError("sigma_source='interval' needs yhat_hi_<level> columns")
        widest = max(his, key=lambda c: int(c.rsplit("_", 1)[1]))
        level = int(widest.rsplit("_", 1)[1])
        first = fc.groupby("unique_id", sort=False).first().reindex(ids)
        s = ((first[widest] - first["yhat"]) / norm.ppf(0.5 + level / 200)).to_numpy()
    ss = z * s * np.sqrt(periods)
    rop = mu + ss
    oh = pd.DataFrame(index=ids, data={"on_hand": 0.0, "on_order": 0.0})
    if on_hand is not None:
        given = on_hand.set_index("unique_id")
        for c in ("on_hand", "on_order"):
            if c in given:
                oh[c] = given[c].reindex(ids).fillna(0).astype("float64")
    short = np.maximum(rop - oh["on_hand"].to_numpy() - oh["on_order"].to_numpy(), 0.0)
    # round up to whole packs; tolerate float noise of 1e-9 packs
    packs = np.ceil(np.round(short / pack, 9))
    return pd.DataFrame(
        {
            "unique_id": ids,
            "category": cat.to_numpy(),
            "lead_time_days": lt,
            "review_period_days": rp,
            "service_level": sl,
            "z": np.round(z, 6),
            "protection_periods": periods,
            "sigma": np.round(s, 6),
            "lead_time_demand": np.round(mu, 3),
            "safety_stock": np.round(ss, 3),
            "reorder_point": np.round(rop, 3),
            "on_hand": oh["on_hand"].to_numpy(),
            "on_order": oh["on_order"].to_numpy(),
            "order_quantity": packs * pack,
        }
    )


def z_value(service_level: float) -> float:
    """Standard normal quantile of a service level (``z(0.95) = 1.6449``)."""
    if not 0 < service_level < 1:
        raise InputError(f"service_level={service_level!r} must be between 0 and 1")
    return float(norm.ppf(service_level))


__all__ = ["StockPolicies", "StockPolicy", "load_policies", "stock_suggestions", "z_value"]
