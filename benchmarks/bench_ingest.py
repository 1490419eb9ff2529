"""Benchmark: ``omnicrm ingest`` of order lines from CSV against DuckDB's own CSV load.

Baseline: ``CREATE TABLE t AS SELECT * FROM read_csv('file')`` in DuckDB (no validation, no
quarantine, no de-duplication). Candidate: :func:`omnicrm.ingest.ingest_files` into a fresh
DuckDB warehouse (parse, validate, quarantine, de-duplicate, commit atomically). Each timed run
happens in its own subprocess, so peak memory (``ru_maxrss``) is per run; the file is generated
once per size with a fixed seed by a vectorised pyarrow writer.

Usage::

    python benchmarks/bench_ingest.py --rows 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CHUNK_ROWS = 1_000_000
SEED = 20240501


def write_order_lines_csv(path: Path, rows: int, *, seed: int = SEED) -> Path:
    """Write ``rows`` realistic order lines (about 1% returns, a few bad rows) to ``path``."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    options = pacsv.WriteOptions(quoting_style="needed", include_header=False)
    with open(path, "wb") as f:
        f.write((",".join(_SCHEMA.names) + "\n").encode())
        with pacsv.CSVWriter(f, _SCHEMA, write_options=options) as writer:
            done = 0
            while done < rows:
                n = min(CHUNK_ROWS, rows - done)
                writer.write_table(_chunk(rng, done, n, start))
                done += n
    return path


_SCHEMA = pa.schema(
    [
        (c, pa.string())
        for c in (
            "order_id",
            "line_number",
            "order_ts",
            "customer_id",
            "store_id",
            "channel",
            "product_id",
            "quantity",
            "unit_price",
            "discount_amount",
            "amount",
            "promotion_id",
            "is_return",
        )
    ]
)


def _chunk(rng: np.random.Generator, offset: int, n: int, start: np.datetime64) -> pa.Table:
    idx = np.arange(offset, offset + n)
    order = idx // 3
    line = idx % 3 + 1
    seconds = (order * 37 + rng.integers(0, 30, n)).astype("timedelta64[s]")
    ts = pc.strftime(pa.array(start + seconds), format="%Y-%m-%d %H:%M:%S")
    qty = rng.integers(1, 6, n)
    qty = np.where(rng.random(n) < 0.01, -qty, qty)
    cents = rng.integers(50, 20_000, n)
    disc = np.where(rng.random(n) < 0.2, rng.integers(0, 100, n), 0)
    amount = qty * cents - np.where(qty > 0, disc, -disc)
    channels = np.array(["store", "online", "app", "mini_program"])
    bad = rng.random(n) < 0.001  # a few rows with an unparseable quantity

    def money(c: np.ndarray) -> pa.Array:
        sign = np.where(c < 0, "-", "")
        a = np.abs(c)
        return pc.binary_join_element_wise(
            pa.array(sign),
            pa.array(a // 100).cast(pa.string()),
            pc.utf8_lpad(pa.array(a % 100).cast(pa.string()), 2, "0"),
            "",
        )

    def with_dot(c: pa.Array) -> pa.Array:
        return pc.replace_substring_regex(c, r"(\d\d)$", r".\1")

    return pa.table(
        {
            "order_id": pc.binary_join_element_wise("O", pa.array(order).cast(pa.string()), ""),
            "line_number": pa.array(line).cast(pa.string()),
            "order_ts": ts,
            "customer_id": pc.binary_join_element_wise(
                "C", pa.array(rng.integers(0, 200_000, n)).cast(pa.string()), ""
            ),
            "store_id": pc.binary_join_element_wise(
                "S", pa.array(rng.integers(0, 300, n)).cast(pa.string()), ""
            ),
            "channel": pa.array(channels[rng.integers(0, 4, n)]),
            "product_id": pc.binary_join_element_wise(
                "P", pa.array(rng.integers(0, 20_000, n)).cast(pa.string()), ""
            ),
            "quantity": pc.if_else(pa.array(bad), "x", pa.array(qty).cast(pa.string())),
            "unit_price": with_dot(money(cents)),
            "discount_amount": with_dot(money(disc)),
            "amount": with_dot(money(amount)),
            "promotion_id": pc.if_else(pa.array(disc > 0), "PROMO1", pa.scalar(None, pa.string())),
            "is_return": pc.if_else(pa.array(qty < 0), "true", "false"),
        },
        schema=_SCHEMA,
    )


def _worker(kind: str, csv_path: str, workdir: str) -> None:
    """Run one load in this (fresh) process and print its time and peak memory as JSON."""
    wh = Path(workdir) / f"{kind}-{time.time_ns()}.duckdb"
    t0 = time.perf_counter()
    if kind == "duckdb":
        import duckdb  # the baseline is raw DuckDB on purpose

        con = duckdb.connect(str(wh))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
        con.close()
        extra = {}
    else:
        from omnicrm.ingest import ingest_files
        from omnicrm.warehouse import connect

        con = connect(f"duckdb:///{wh}")
        result = ingest_files(con, [csv_path], table="order_lines")
        con.disconnect()
        extra = {
            k: v for k, v in result.as_dict().items() if k in ("read", "loaded", "quarantined")
        }
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for p in Path(workdir).glob(wh.name + "*"):
        p.unlink()
    print(json.dumps({"seconds": seconds, "peak_mb": rss, **extra}))


def _run(kind: str, csv_path: Path, workdir: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(csv_path), str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print one line per figure and a summary table; return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", "--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "CSV", "DIR"))
    args = parser.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
        return {}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="omnicrm-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"order_lines_{args.rows}.csv"
    if not csv_path.exists():
        write_order_lines_csv(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 2**20
    figures: dict[str, dict] = {}
    for kind in ("duckdb", "omnicrm"):
        _run(kind, csv_path, workdir)  # warm-up (file cache, imports)
        runs = [_run(kind, csv_path, workdir) for _ in range(args.runs)]
        times = [r["seconds"] for r in runs]
        figures[kind] = {
            "median": statistics.median(times),
            "min": min(times),
            "max": max(times),
            "peak_mb": max(r["peak_mb"] for r in runs),
            **{k: v for k, v in runs[-1].items() if k not in ("seconds", "peak_mb")},
        }
    base, ours = figures["duckdb"], figures["omnicrm"]
    ratio = ours["median"] / base["median"]
    print(f"file: {args.rows:,} order lines, {size_mb:.0f} MB CSV")
    print(f"duckdb_read_csv_ctas: {base['median']:.2f} s (1.00 x baseline)")
    print(f"omnicrm_ingest: {ours['median']:.2f} s ({ratio:.2f} x baseline)")
    print(f"omnicrm_rows_per_second: {args.rows / ours['median']:,.0f} rows/s")
    print(f"duckdb_peak_memory: {base['peak_mb']:.0f} MB (1.00 x baseline)")
    print(
        f"omnicrm_peak_memory: {ours['peak_mb']:.0f} MB "
        f"({ours['peak_mb'] / base['peak_mb']:.2f} x baseline)"
    )
    print()
    print(f"{'load':<22}{'median s':>10}{'min-max s':>16}{'peak MB':>10}{'ratio':>8}")
    for name, f in (("duckdb read_csv CTAS", base), ("omnicrm ingest", ours)):
        print(
            f"{name:<22}{f['median']:>10.2f}{f['min']:>8.2f}-{f['max']:<7.2f}"
            f"{f['peak_mb']:>10.0f}{f['median'] / base['median']:>8.2f}"
        )
    if "read" in ours:
        print(
            f"omnicrm rows: read {ours['read']:,}, loaded {ours['loaded']:,}, "
            f"quarantined {ours['quarantined']:,}"
        )
    if args.workdir is None:
        csv_path.unlink()
        os.rmdir(workdir)
    return {"rows": args.rows, "size_mb": size_mb, "ratio": ratio, **figures}


if __name__ == "__main__":
    main(sys.argv[1:])
