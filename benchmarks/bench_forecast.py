"""Benchmark: end-to-end demand forecasting (backtest + model choice + forecast) at scale.

Data: ``--series`` daily series of ``--days`` days, generated once with a fixed seed and numpy
only (vectorised): a per-series level (log-normal), a weekday profile, a yearly cycle, a linear
trend, promotions on ~4% of the days (lift x1.5-2.5, known in advance) and Poisson noise;
``--intermittent`` of the series (default 30%) sell on only 5-40% of the days.

Protocol: the last ``--horizon`` days are held out. The candidate,
:class:`omnicrm.models.forecast.DemandForecaster` (``models=("auto",)``: seasonal_naive,
seasonal_es, croston, tsb, adida, lgbm and their combination; ``--windows`` backtest windows;
promotions as exogenous feature, known in advance),
is fitted on the rest and forecasts the hold-out. The baseline, in the same process, is the
seasonal naive forecast of the same history. Accuracy is the mean over series of the hold-out
MASE (scale: in-sample seasonal naive, m = 7), reported as the ratio candidate / baseline
(target <= 0.8); WAPE is pooled over all series.

Timing: one warm-up at a small size (imports, thread pools, first calls), then ``--runs`` timed
runs of the full pipeline; median and min-max of wall-clock time, CPU seconds of this process
and its children, and peak memory (``ru_maxrss`` of this process and of its worker children).

Usage::

    python benchmarks/bench_forecast.py --series 10000 --days 730
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np
import pandas as pd

SEED = 20260522
MODELS = ("auto",)


def generate(
    n_series: int, n_days: int, *, intermittent: float = 0.3, seed: int = SEED
) -> pd.DataFrame:
    """Long frame ``unique_id, ds, y, promo`` of synthetic daily demand.

    Examples
    --------
    >>> df = generate(10, 30)
    >>> df.shape, sorted(df.columns)
    ((300, 4), ['ds', 'promo', 'unique_id', 'y'])
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)[None, :]
    ds = pd.date_range("2024-01-01", periods=n_days)
    level = rng.lognormal(mean=1.6, sigma=0.8, size=(n_series, 1))
    weekday = 1 + rng.uniform(0.1, 0.6, (n_series, 1)) * np.where(
        (ds.dayofweek.to_numpy() >= 5)[None, :], 1.0, -0.3
    )
    yearly = 1 + rng.uniform(0, 0.3, (n_series, 1)) * np.sin(
        2 * np.pi * (t / 365.25 + rng.uniform(0, 1, (n_series, 1)))
    )
    trend = 1 + rng.normal(0, 0.25, (n_series, 1)) * t / n_days
    promo = rng.random((n_series, n_days)) < 0.04
    lift = np.where(promo, rng.uniform(1.5, 2.5, (n_series, 1)), 1.0)
    lam = level * weekday * yearly * np.clip(trend, 0.2, None) * lift
    sparse = rng.random(n_series) < intermittent
    p_sale = rng.uniform(0.05, 0.4, n_series)
    occurs = rng.random((n_series, n_days)) < p_sale[:, None]
    lam = np.where(sparse[:, None], np.where(occurs, lam / 3 + 0.5, 0.0), lam)
    y = rng.poisson(lam).astype("float64")
    ids = np.char.add("s", np.char.zfill(np.arange(n_series).astype(str), 5))
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, n_days),
            "ds": np.tile(ds.to_numpy(), n_series),
            "y": y.ravel(),
            "promo": promo.ravel().astype("float64"),
        }
    )


def holdout_mase(
    history: pd.DataFrame, truth: pd.DataFrame, forecast: pd.DataFrame, m: int = 7
) -> tuple[float, float]:
    """Mean over series of the hold-out MASE, and the pooled WAPE."""
    h = history.sort_values(["unique_id", "ds"])
    d = (h["y"] - h.groupby("unique_id")["y"].shift(m)).abs()
    scale = d.groupby(h["unique_id"]).mean()
    j = truth.merge(forecast[["unique_id", "ds", "yhat"]], on=["unique_id", "ds"])
    e = (j["yhat"] - j["y"]).abs()
    mae = e.groupby(j["unique_id"]).mean()
    mase = (mae / scale.reindex(mae.index).where(lambda s: s > 0)).dropna()
    return float(mase.mean()), float(e.sum() / j["y"].sum())


def run_once(
    df: pd.DataFrame, *, h: int, windows: int, n_jobs: int, input_size: int | None
) -> dict[str, float]:
    """Fit on all but the last ``h`` days, forecast them; return timings and accuracy."""
    from omnicrm.models.forecast import DemandForecaster
    from omnicrm.models.forecast.engine import stat_forecast

    last = df["ds"].max()
    cut = last - pd.Timedelta(days=h)
    hist, fut = df[df["ds"] <= cut], df[df["ds"] > cut]
    t0 = time.perf_counter()
    base = stat_forecast(
        hist[["unique_id", "ds", "y"]], "seasonal_naive", h=h, season_length=7, freq="D"
    )
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    f = DemandForecaster(
        h=h, models=MODELS, n_windows=windows, n_jobs=n_jobs, input_size=input_size
    ).fit(hist, X_df=fut[["unique_id", "ds", "promo"]])
    fc = f.predict()
    t_cand = time.perf_counter() - t0
    truth = fut[["unique_id", "ds", "y"]]
    m_c, w_c = holdout_mase(hist, truth, fc)
    m_b, w_b = holdout_mase(hist, truth, base)
    by_class = {}
    cls = f.selection_.set_index("unique_id")["demand_class"]
    for group, members in (
        ("smooth", ("smooth", "erratic")),
        ("intermittent", ("intermittent", "lumpy")),
    ):
        ids = cls.index[cls.isin(members)]
        if len(ids):
            sub = (hist[hist["unique_id"].isin(ids)], truth[truth["unique_id"].isin(ids)])
            by_class[group] = holdout_mase(*sub, fc)[0] / holdout_mase(*sub, base)[0]
    chosen = f.selection_["model"].value_counts(normalize=True).round(3).to_dict()
    return {
        "time_candidate": t_cand,
        "time_baseline": t_base,
        "mase_candidate": m_c,
        "mase_baseline": m_b,
        "wape_candidate": w_c,
        "wape_baseline": w_b,
        "chosen": chosen,
        "by_class": by_class,
    }


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=10_000, help="number of series (the size)")
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--horizon", type=int, default=28)
    p.add_argument("--windows", type=int, default=2)
    p.add_argument("--intermittent", type=float, default=0.3)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="LightGBM threads (more only helps on otherwise idle cores)",
    )
    p.add_argument(
        "--input-size",
        type=int,
        default=365,
        help="most recent days per series used to train LightGBM",
    )
    a = p.parse_args(argv)

    t0 = time.perf_counter()
    df = generate(a.series, a.days, intermittent=a.intermittent)
    t_gen = time.perf_counter() - t0
    print(
        f"data: {a.series} series x {a.days} days = {len(df):,} rows "
        f"(generated in {t_gen:.1f} s); hold-out {a.horizon} days, {a.windows} windows"
    )
    warm = df[df["unique_id"].isin(df["unique_id"].unique()[: min(a.series, 50)])]
    run_once(warm, h=a.horizon, windows=a.windows, n_jobs=a.jobs, input_size=a.input_size)

    results, cpus = [], []
    for _ in range(a.runs):
        c0 = _cpu()
        results.append(
            run_once(df, h=a.horizon, windows=a.windows, n_jobs=a.jobs, input_size=a.input_size)
        )
        cpus.append(_cpu() - c0)
    tc = [r["time_candidate"] for r in results]
    tb = [r["time_baseline"] for r in results]
    r = results[0]
    ratio = r["mase_candidate"] / r["mase_baseline"]
    own, kids = _peak_mb()
    med_c, med_b = statistics.median(tc), statistics.median(tb)
    print(
        f"time end-to-end (backtest + choice + forecast): {med_c:.1f} s "
        f"(min {min(tc):.1f}, max {max(tc):.1f}; {med_c / med_b:.0f} x baseline)"
    )
    print(
        f"time seasonal naive forecast (baseline): {med_b:.2f} s "
        f"(min {min(tb):.2f}, max {max(tb):.2f}; 1.00 x baseline)"
    )
    print(f"cpu seconds per run: {statistics.median(cpus):.1f} s")
    print(f"hold-out MASE omnicrm: {r['mase_candidate']:.4f} ({ratio:.3f} x baseline)")
    print(f"hold-out MASE seasonal naive: {r['mase_baseline']:.4f} (1.000 x baseline)")
    print(
        f"hold-out WAPE omnicrm: {r['wape_candidate']:.4f} "
        f"({r['wape_candidate'] / r['wape_baseline']:.3f} x baseline)"
    )
    print(f"peak memory: {own:.0f} MB (largest worker process {kids:.0f} MB)")
    print(f"models chosen (share of series): {r['chosen']}")
    for group, ratio_c in r["by_class"].items():
        print(f"hold-out MASE ratio on {group} series: {ratio_c:.3f} x baseline")
    print()
    print(
        f"| figure | omnicrm | seasonal naive | ratio |\n|---|---|---|---|\n"
        f"| time (s, median of {a.runs}) | {med_c:.1f} | {med_b:.2f} | {med_c / med_b:.0f} |\n"
        f"| hold-out MASE | {r['mase_candidate']:.4f} | {r['mase_baseline']:.4f} | "
        f"{ratio:.3f} |\n"
        f"| hold-out WAPE | {r['wape_candidate']:.4f} | {r['wape_baseline']:.4f} | "
        f"{r['wape_candidate'] / r['wape_baseline']:.3f} |"
    )
    target = "met" if ratio <= 0.8 else "NOT met"
    print(
        f"accuracy target MASE ratio <= 0.8: {target}; time target < 300 s: "
        f"{'met' if med_c < 300 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
