"""Run every benchmark script (``benchmarks/bench_*.py``), each in its own process.

Each script measures itself against a baseline run in the same process and prints one line per
figure (``name: value unit (ratio x baseline)``) and a summary table. This runner only sequences
them, so that one script's peak memory does not leak into another's.

Usage: ``python benchmarks/run_all.py [--only NAME ...] [-- extra args for every script]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[Path]:
    """Benchmark scripts in name order."""
    return sorted(HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="*", default=[], help="run only these benchmarks (e.g. ingest clv)"
    )
    parser.add_argument(
        "extra", nargs=argparse.REMAINDER, help="arguments passed to every script after --"
    )
    args = parser.parse_args(argv)
    extra = [a for a in args.extra if a != "--"]
    scripts = [s for s in discover() if not args.only or s.stem.removeprefix("bench_") in args.only]
    if not scripts:
        print(
            f"no benchmark matches {args.only}; available: "
            f"{[s.stem.removeprefix('bench_') for s in discover()]}",
            file=sys.stderr,
        )
        return 2
    failures = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *extra])
        print(
            f"=== {script.stem}: exit {code} in {time.perf_counter() - started:.0f} s ===",
            flush=True,
        )
        if code:
            failures.append(script.stem)
    if failures:
        print(f"\nfailed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
