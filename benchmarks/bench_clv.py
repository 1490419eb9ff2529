"""Benchmark: BG/NBD + Gamma-Gamma fits, omnicrm vs lifetimes, on synthetic customers.

Customers are drawn from the BG/NBD generative process (numpy, fixed seed, vectorised) with the
CDNOW parameters: first purchases spread over 12 weeks, observed to day 272 (39 weeks), times
in whole days expressed in weeks (days / 7), as ``rfm_summary`` produces them; spend per
transaction from the Gamma-Gamma process. Each library is timed in its own subprocess (one
warm-up fit, then ``--runs`` timed fits) so that its peak memory (``ru_maxrss``) is its own.

    python benchmarks/bench_clv.py --size 1000000
    python benchmarks/bench_clv.py --size 1000000 --lifetimes-size 200000

With ``--lifetimes-size`` smaller than ``--size`` the peer fits the first customers only;
speed ratios are then per customer, and the parameters are compared with an omnicrm fit on
that same subsample.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BG_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, FHL 2005
GG_PARAMS = {"p": 6.25, "q": 3.74, "v": 15.44}  # CDNOW, Fader & Hardie 2013


def simulate(size: int, seed: int = 42) -> pd.DataFrame:
    """Per-customer summaries drawn from BG/NBD (purchases) and Gamma-Gamma (spend)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BG_PARAMS.values()
    birth_day = rng.integers(0, 84, size)
    age_days = 272 - birth_day
    lam = rng.gamma(r, 1 / alpha, size)
    p = rng.beta(a, b, size)
    # Poisson purchases while alive; the customer drops out right after purchase J ~ Geom(p).
    events = rng.poisson(lam * age_days / 7)
    x = np.minimum(events, rng.geometric(p))
    # the x-th of `events` uniform purchase times is Beta(x, events - x + 1) distributed
    last = rng.beta(np.maximum(x, 1), events - x + 1)
    recency_days = np.where(x > 0, np.floor(age_days * last), 0)
    nu = rng.gamma(GG_PARAMS["q"], 1 / GG_PARAMS["v"], size)
    spend = rng.gamma(GG_PARAMS["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1)
    monetary = np.where(x > 0, np.maximum(np.round(spend, 2), 0.01), 0.0)
    return pd.DataFrame(
        {
            "frequency": x.astype("int64"),
            "recency": recency_days / 7,
            "T": age_days / 7,
            "monetary_value": monetary,
        }
    )


# -- workers (each runs in its own process) -----------------------------------------------------
def _fit_omnicrm(frame: pd.DataFrame) -> tuple[dict, dict, float, float]:
    from omnicrm.models.clv import BetaGeoModel, GammaGammaModel

    t0 = time.perf_counter()
    bg = BetaGeoModel().fit(frame)
    t1 = time.perf_counter()
    gg = GammaGammaModel().fit(frame[frame["frequency"] > 0])
    t2 = time.perf_counter()
    return bg.params_, gg.params_, t1 - t0, t2 - t1


def _fit_lifetimes(frame: pd.DataFrame) -> tuple[dict, dict, float, float]:
    import warnings

    warnings.simplefilter("ignore")  # lifetimes' own deprecation noise, in this process only
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
    t1 = time.perf_counter()
    repeat = frame[frame["frequency"] > 0]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    t2 = time.perf_counter()
    return bg.params_.to_dict(), gg.params_.to_dict(), t1 - t0, t2 - t1


def _worker(library: str, data: Path, runs: int, rows: int) -> None:
    frame = pd.read_parquet(data).iloc[:rows]
    fit = _fit_omnicrm if library == "omnicrm" else _fit_lifetimes
    fit(frame)  # warm-up
    bg_times, gg_times = [], []
    for _ in range(runs):
        bg_params, gg_params, bg_s, gg_s = fit(frame)
        bg_times.append(bg_s)
        gg_times.append(gg_s)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": len(frame),
                "bg": bg_times,
                "gg": gg_times,
                "peak_mb": peak_mb,
                "bg_params": bg_params,
                "gg_params": gg_params,
            }
        )
    )


def _run_worker(library: str, data: Path, runs: int, rows: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        library,
        "--data",
        str(data),
        "--runs",
        str(runs),
        "--size",
        str(rows),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{library} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------
def _stats(values: list[float]) -> tuple[float, float, float]:
    return float(np.median(values)), float(min(values)), float(max(values))


def _max_rel_diff(ours: dict, theirs: dict) -> float:
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers")
    parser.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up")
    parser.add_argument(
        "--lifetimes-size",
        type=int,
        default=None,
        help="customers given to lifetimes (default: all)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--worker", choices=["omnicrm", "lifetimes"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.data, args.runs, args.size)
        return 0

    peer_size = min(args.lifetimes_size or args.size, args.size)
    frame = simulate(args.size, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.parquet"
        frame.to_parquet(data)
        ours = _run_worker("omnicrm", data, args.runs, args.size)
        peer = _run_worker("lifetimes", data, args.runs, peer_size)
    if peer_size == args.size:
        same = ours
    else:  # compare parameters on the peer's subsample
        from omnicrm.models.clv import BetaGeoModel, GammaGammaModel

        sub = frame.iloc[:peer_size]
        same = {
            "bg_params": BetaGeoModel().fit(sub).params_,
            "gg_params": GammaGammaModel().fit(sub[sub["frequency"] > 0]).params_,
        }

    print(
        f"customers: {args.size:,} (lifetimes: {peer_size:,}); repeat buyers: "
        f"{int((frame['frequency'] > 0).sum()):,}; runs: {args.runs} after one warm-up"
    )
    rows = []
    scale = args.size / peer_size  # per-customer ratio when the peer saw fewer customers
    ours_total = [a + b for a, b in zip(ours["bg"], ours["gg"], strict=True)]
    peer_total = [a + b for a, b in zip(peer["bg"], peer["gg"], strict=True)]
    for label, mine, theirs in (
        ("bgnbd_fit", ours["bg"], peer["bg"]),
        ("gamma_gamma_fit", ours["gg"], peer["gg"]),
        ("total_fit", ours_total, peer_total),
    ):
        m_med, m_lo, m_hi = _stats(mine)
        t_med, t_lo, t_hi = _stats(theirs)
        ratio = t_med * scale / m_med
        print(
            f"{label}_omnicrm: {m_med:.3f} s (min-max {m_lo:.3f}-{m_hi:.3f}) "
            f"({ratio:.1f}x faster than lifetimes)"
        )
        print(f"{label}_lifetimes: {t_med:.3f} s (min-max {t_lo:.3f}-{t_hi:.3f}) (1.0x baseline)")
        rows.append((label, m_med, t_med, ratio))
    mem_ratio = ours["peak_mb"] / peer["peak_mb"]
    print(f"peak_memory_omnicrm: {ours['peak_mb']:.0f} MB ({mem_ratio:.2f}x lifetimes)")
    print(f"peak_memory_lifetimes: {peer['peak_mb']:.0f} MB (1.0x baseline)")
    bg_diff = _max_rel_diff(same["bg_params"], peer["bg_params"])
    gg_diff = _max_rel_diff(same["gg_params"], peer["gg_params"])
    print(f"bgnbd_param_max_rel_diff: {bg_diff:.2e} (target < 1e-3)")
    print(f"gamma_gamma_param_max_rel_diff: {gg_diff:.2e} (target < 1e-3)")

    print()
    print(
        f"| fit | omnicrm median s | lifetimes median s | speed-up "
        f"{'(per customer) ' if scale != 1 else ''}|"
    )
    print("|---|---:|---:|---:|")
    for label, m_med, t_med, ratio in rows:
        print(f"| {label} | {m_med:.3f} | {t_med:.3f} | {ratio:.1f}x |")
    print()
    print("| parameter | true | omnicrm | lifetimes |")
    print("|---|---:|---:|---:|")
    for key, true in (BG_PARAMS | GG_PARAMS).items():
        mine = (same["bg_params"] | same["gg_params"])[key]
        theirs = (peer["bg_params"] | peer["gg_params"])[key]
        print(f"| {key} | {true} | {mine:.5g} | {theirs:.5g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
