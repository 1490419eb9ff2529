"""Benchmark: fit + score of every recommender for ``--customers`` customers (default 100k).

Data: :func:`omnicrm.models.recommend.simulate.simulate_interactions` — staples re-bought on
personal cycles, Zipf-like exploration and complementary pairs — generated vectorised with a
fixed seed (``--items`` items over ``--days`` days).

For each recommender (global popularity, repeat purchase, item-kNN, implicit ALS, hybrid) the
script runs one warm-up fit + score, then ``--runs`` timed runs, and reports the median and
min–max of the fit time and of the score time (top ``--k`` with reasons for every customer),
plus the CPU seconds of the median run (all threads; less sensitive to other jobs on a shared
machine). Baseline: the simplest recommender written directly in pandas — the ``k`` items
with most distinct buyers (``drop_duplicates`` + ``value_counts``), the same list for every
customer, no reasons — so each figure is also a ratio to it.
Each recommender runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own;
the target is fit + score under 60 s per recommender at 100k customers.

Usage::

    python benchmarks/bench_recommend.py --customers 100000 --items 3000 --days 120
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

MODELS: tuple[str, ...] = ("popularity", "repeat", "knn", "als", "hybrid")
TARGET_SECONDS = 60.0


def _make(name: str):
    from omnicrm.models.recommend import (
        ALSRecommender,
        HybridRecommender,
        ItemKNNRecommender,
        PopularityRecommender,
        RepeatPurchaseRecommender,
    )

    return {
        "popularity": PopularityRecommender,
        "repeat": RepeatPurchaseRecommender,
        "knn": ItemKNNRecommender,
        "als": ALSRecommender,
        "hybrid": HybridRecommender,
    }[name]()


def _data(args: argparse.Namespace):
    from omnicrm.models.recommend.simulate import simulate_interactions

    return simulate_interactions(
        customers=args.customers, items=args.items, days=args.days, staples=3, seed=args.seed
    )


def _baseline(frame, k: int) -> None:
    """The simplest recommender in plain pandas: the k items with most buyers, for everyone."""
    import numpy as np

    buyers = frame.drop_duplicates(["customer_id", "item_id"])["item_id"].value_counts()
    top = buyers.index.to_numpy()[:k]
    users = frame["customer_id"].unique()
    np.broadcast_to(top, (len(users), len(top))).copy()


def _worker(args: argparse.Namespace) -> dict:
    """Run inside a subprocess: time one recommender (or the baseline)."""
    frame = _data(args)
    customers = frame["customer_id"].unique()
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fits, scores, cpus = [], [], []
    for run in range(args.runs + 1):  # first run is the warm-up
        c0, t0 = time.process_time(), time.perf_counter()
        if args.worker == "baseline":
            _baseline(frame, args.k)
            t1 = time.perf_counter()
        else:
            model = _make(args.worker).fit(frame)
            t1 = time.perf_counter()
            recs = model.recommend(customers, args.k)
            assert len(recs) == len(customers) * args.k
        t2, c2 = time.perf_counter(), time.process_time()
        if run:
            fits.append(t1 - t0)
            scores.append(t2 - t1)
            cpus.append(c2 - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "name": args.worker,
        "fit": fits,
        "score": scores,
        "cpu": cpus,
        "rows": len(frame),
        "customers": len(customers),
        "peak_mb": peak / 1024,
        "loaded_mb": loaded / 1024,
    }


def _run(name: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--customers",
        str(args.customers),
        "--items",
        str(args.items),
        "--days",
        str(args.days),
        "--k",
        str(args.k),
        "--runs",
        str(args.runs),
        "--seed",
        str(args.seed),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=3_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args)))
        return 0
    names = [m for m in args.models.split(",") if m]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    base = _run("baseline", args)
    base_total = statistics.median(f + s for f, s in zip(base["fit"], base["score"], strict=True))
    print(
        f"data: {base['rows']:,} interactions, {base['customers']:,} customers, "
        f"{args.items:,} items, {args.days} days; k={args.k}; {args.runs} timed runs "
        "after one warm-up"
    )
    print(f"time baseline (pandas global top-k): {base_total:.3f} s")
    results = []
    for name in names:
        r = _run(name, args)
        total = [f + s for f, s in zip(r["fit"], r["score"], strict=True)]
        med = statistics.median(total)
        r["total_median"] = med
        results.append(r)
        ratio = med / base_total if base_total > 0 else float("inf")
        print(
            f"time fit {name}: {statistics.median(r['fit']):.2f} s "
            f"(min {min(r['fit']):.2f}, max {max(r['fit']):.2f})"
        )
        print(
            f"time score {name}: {statistics.median(r['score']):.2f} s "
            f"(min {min(r['score']):.2f}, max {max(r['score']):.2f})"
        )
        print(f"time fit+score {name}: {med:.2f} s ({ratio:.0f}x baseline)")
        print(f"cpu fit+score {name}: {statistics.median(r['cpu']):.2f} s")
        print(f"peak memory {name}: {r['peak_mb']:.0f} MB (data loaded: {r['loaded_mb']:.0f} MB)")
    print()
    print(
        f"{'model':<12}{'fit s':>9}{'score s':>9}{'total s':>9}{'cpu s':>8}{'peak MB':>9}"
        f"  under {TARGET_SECONDS:.0f} s"
    )
    for r in results:
        ok = "yes" if r["total_median"] < TARGET_SECONDS else "NO"
        print(
            f"{r['name']:<12}{statistics.median(r['fit']):>9.2f}"
            f"{statistics.median(r['score']):>9.2f}{r['total_median']:>9.2f}"
            f"{statistics.median(r['cpu']):>8.2f}{r['peak_mb']:>9.0f}  {ok}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
