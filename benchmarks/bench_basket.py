"""Benchmark: frequent itemsets + association rules, omnicrm (DuckDB) against mlxtend.

Data: ``--baskets`` baskets over ``--items`` SKUs, generated once with a fixed seed and numpy
only (vectorised): basket sizes 1 + Poisson(7), items drawn with Zipf popularity (p ∝ 1/rank),
plus planted pairs and triples added to 15% of the baskets.

Candidate: :func:`omnicrm.models.basket.frequent_itemsets` on a DuckDB warehouse table (the
baskets as ``(basket_id, item_id)`` rows), then :func:`~omnicrm.models.basket.association_rules`.
Baseline: ``mlxtend.frequent_patterns.fpgrowth`` on a one-hot frame, then mlxtend's
``association_rules``. mlxtend accepts a sparse DataFrame, which is what we give it, but
``fpgrowth`` calls ``df.values`` and so densifies it into an n_baskets x n_items bool array
(2 GB at the default size) — that is its peak memory.

Each side runs in its own subprocess (one warm-up, then ``--runs`` timed runs) so that its
``ru_maxrss`` is its own; the data are generated and written by a third subprocess, because a
process's ``ru_maxrss`` starts at the peak of the process that started it. Wall-clock and CPU
seconds (all threads, ``time.process_time``) are recorded for each run, the latter being less
sensitive to other jobs on a shared machine. The one-hot encoding for mlxtend is timed
separately and not counted in its run time (it is counted in its memory).

Memory is reported two ways for each side. Peak RSS (``ru_maxrss``) is exact but counts the
shared libraries' pages (libarrow, libduckdb, pandas, numpy) mapped in, and those vary with
no change of code: the same imports in the same virtualenv held 139 MB of them right after it
was installed and 83 MB an hour later. Peak private memory (anonymous pages: heap, arrays,
DuckDB's buffers) is sampled every millisecond by this process from the worker's
``/proc/<pid>/statm`` (the kernel keeps no high-water mark for it).

The script checks that both find identical itemsets (same sets, supports within 1e-12) and
rules, and exits non-zero otherwise.

Usage::

    python benchmarks/bench_basket.py --baskets 100000 --items 20000 --min-support 0.0005
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 20260401
TOLERANCE = 1e-12
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20


def generate_baskets(n_baskets: int, n_items: int, *, seed: int = SEED) -> dict[str, np.ndarray]:
    """(basket_id, item_id) rows: Zipf popularity plus planted pairs and triples.

    Examples
    --------
    >>> rows = generate_baskets(100, 50)
    >>> sorted(rows) == ["basket_id", "item_id"] and len(rows["basket_id"]) > 100
    True
    """
    rng = np.random.default_rng(seed)
    sizes = 1 + rng.poisson(7, n_baskets)
    popularity = 1.0 / np.arange(1, n_items + 1)
    popularity /= popularity.sum()
    drawn = rng.choice(n_items, size=int(sizes.sum()), p=popularity)
    owners = np.repeat(np.arange(n_baskets), sizes)
    # planted bundles among mid-popularity items: 150 groups of 2 or 3 items
    n_groups = max(1, min(150, n_items // 10))
    members = rng.choice(np.arange(min(100, n_items // 5), n_items), size=(n_groups, 3))
    width = np.where(np.arange(n_groups) % 2 == 0, 2, 3)
    lucky = np.flatnonzero(rng.random(n_baskets) < 0.15)
    group = rng.integers(0, n_groups, len(lucky))
    keep = np.arange(3)[None, :] < width[group][:, None]
    planted_items = members[group][keep]
    planted_owners = np.repeat(lucky, width[group])
    basket = np.concatenate([owners, planted_owners])
    item = np.concatenate([drawn, planted_items])
    labels = np.char.add("sku", np.char.zfill(np.arange(n_items).astype(str), 6))
    return {"basket_id": basket.astype(np.int64), "item_id": labels[item]}


def _write(rows: dict[str, np.ndarray], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(rows), path)


def _write_warehouse(data: Path, path: Path) -> None:
    """A DuckDB file holding the baskets as table ``baskets`` (written by DuckDB's own reader)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE baskets AS SELECT * FROM read_parquet(?)", [str(data)])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _statm_mb(statm: int) -> tuple[float, float] | None:
    """(private, shared) resident MB from an open ``/proc/<pid>/statm`` (None if it is gone).

    Private is the anonymous memory (heap, arrays, DuckDB's buffers); shared is the pages of
    mapped files, almost all of them the shared libraries' code (libarrow, libduckdb, numpy,
    pandas), which every process using them shares. One ``pread``: a few microseconds.
    """
    try:
        fields = os.pread(statm, 128, 0).split()
    except OSError:  # the process has ended
        return None
    if len(fields) < 3:
        return None
    resident, shared = int(fields[1]), int(fields[2])
    return (resident - shared) * PAGE_MB, shared * PAGE_MB


def _anon_mb() -> float | None:
    """This process's private resident MB now (None where ``/proc`` is missing).

    Examples
    --------
    >>> _anon_mb() is None or _anon_mb() > 0
    True
    """
    try:
        statm = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return None
    try:
        memory = _statm_mb(statm)
    finally:
        os.close(statm)
    return None if memory is None else memory[0]


# --- workers (each in its own process) ----------------------------------------------------------


def _worker_ours(data: Path, args: argparse.Namespace) -> tuple[dict, object, int]:
    from omnicrm.models.basket import association_rules, frequent_itemsets
    from omnicrm.warehouse import connect

    if args.warehouse_file:  # a DuckDB warehouse file the parent wrote: read as the CLI does
        con = connect(f"duckdb:///{args.warehouse_file}", read_only=True)
        imports_mb, imports_anon = _rss_mb(), _anon_mb()
        table = con.table("baskets")
    else:
        con = connect("duckdb://:memory:")
        imports_mb, imports_anon = _rss_mb(), _anon_mb()
        table = con.create_table("baskets", con.read_parquet(str(data)))
    ready_mb, ready_anon = _rss_mb(), _anon_mb()
    threads = con.con.execute("SELECT current_setting('threads')").fetchone()[0]

    def run():
        itemsets = frequent_itemsets(table, min_support=args.min_support, max_len=args.max_len)
        return itemsets, association_rules(itemsets)

    times, (itemsets, rules) = _timed(run, args.runs)
    found = {frozenset(k): s for k, s in zip(itemsets["itemset"], itemsets["support"], strict=True)}
    rule_keys = {
        (frozenset(a), frozenset(c)): v
        for a, c, v in zip(
            rules["antecedent"], rules["consequent"], rules["confidence"], strict=True
        )
    }
    stats = {
        **times,
        "imports_mb": imports_mb,
        "ready_mb": ready_mb,
        "imports_anon_mb": imports_anon,
        "ready_anon_mb": ready_anon,
        "encode_s": 0.0,
        "threads": threads,
        "from_file": bool(args.warehouse_file),
    }
    return stats, (found, rule_keys), len(rules)


def _worker_mlxtend(data: Path, args: argparse.Namespace) -> tuple[dict, object, int]:
    import warnings

    import pandas as pd
    import pyarrow.parquet as pq
    import scipy.sparse as sp
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    imports_mb, imports_anon = _rss_mb(), _anon_mb()
    rows = pq.read_table(data).to_pandas()
    ready_mb, ready_anon = _rss_mb(), _anon_mb()
    started = time.perf_counter()
    baskets = pd.factorize(rows["basket_id"])[0]
    items, labels = pd.factorize(rows["item_id"])
    onehot = sp.csr_matrix(
        (np.ones(len(rows), dtype=bool), (baskets, items)), shape=(baskets.max() + 1, len(labels))
    )
    onehot.data[:] = True  # repeated items sum to True already; keep it boolean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=[str(c) for c in labels])
    encode_s = time.perf_counter() - started
    n = len(frame)

    def run():
        itemsets = fpgrowth(
            frame, min_support=args.min_support, use_colnames=True, max_len=args.max_len
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            rules = association_rules(
                itemsets, num_itemsets=n, metric="confidence", min_threshold=0.0
            )
        return itemsets, rules

    times, (itemsets, rules) = _timed(run, args.runs)
    found = dict(zip(itemsets["itemsets"], itemsets["support"], strict=True))
    rule_keys = dict(
        zip(
            zip(rules["antecedents"], rules["consequents"], strict=True),
            rules["confidence"],
            strict=True,
        )
    )
    stats = {
        **times,
        "imports_mb": imports_mb,
        "ready_mb": ready_mb,
        "imports_anon_mb": imports_anon,
        "ready_anon_mb": ready_anon,
        "encode_s": encode_s,
    }
    return stats, (found, rule_keys), len(rules)


def _timed(run, runs: int) -> tuple[dict[str, list[float]], object]:
    """Wall-clock and CPU seconds (all threads of the process) of each timed run."""
    result = run()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {"wall": wall, "cpu": cpu}, result


WORKERS = {"ours": _worker_ours, "mlxtend": _worker_mlxtend}


def _write_in_subprocess(data: Path, args: argparse.Namespace) -> int:
    """Generate and write the data in a child process; return the number of rows.

    On Linux a process's ``ru_maxrss`` starts at the peak RSS of the process that started it
    (``execve`` records the replaced address space's high-water mark), so generating the data
    here would put this process's peak (about 235 MB at the default size) into both workers'
    figures. Kept out of this process, each worker's ``ru_maxrss`` is its own.
    """
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--baskets",
        str(args.baskets),
        "--items",
        str(args.items),
        "--write-data",
        str(data),
    ]
    if args.warehouse_file:
        command += ["--warehouse-file", str(args.warehouse_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"writing the data failed:\n{done.stderr[-4000:]}")
    return int(done.stdout.strip().splitlines()[-1])


def _run_worker(name: str, data: Path, out: Path, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        name,
        "--data",
        str(data),
        "--out",
        str(out),
        "--runs",
        str(args.runs),
        "--min-support",
        repr(args.min_support),
        "--max-len",
        str(args.max_len),
    ]
    if name == "ours" and args.warehouse_file:
        command += ["--warehouse-file", str(args.warehouse_file)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        peak_anon, peak_file = _watch(child)
        stdout.seek(0)
        stderr.seek(0)
        if child.returncode:
            raise SystemExit(f"{name} worker failed:\n{stderr.read()[-4000:]}")
        stats = json.loads(stdout.read().strip().splitlines()[-1])
    return stats | {"peak_anon_mb": peak_anon, "peak_file_mb": peak_file}


def _watch(child: subprocess.Popen, every_s: float = 0.001) -> tuple[float | None, float | None]:
    """Peak private (anonymous) and file-backed resident MB of a running child, sampled.

    The kernel keeps a high-water mark only for the total (``ru_maxrss``), so the private part
    is sampled from ``/proc/<pid>/statm`` (:func:`_statm_mb`) every ``every_s`` seconds by this
    otherwise idle process, which takes nothing from the child's interpreter.
    Both implementations allocate their large structures and hold them for far longer than a
    millisecond, so the sampled peak misses at most the growth within one interval.
    (None, None) where ``/proc`` is missing or the child ended before the first sample.
    """
    try:
        statm = os.open(f"/proc/{child.pid}/statm", os.O_RDONLY)
    except OSError:
        child.wait()
        return None, None
    peak_anon = peak_file = 0.0
    try:
        while child.poll() is None:
            memory = _statm_mb(statm)
            if memory is None:  # the child has just exited
                break
            peak_anon, peak_file = max(peak_anon, memory[0]), max(peak_file, memory[1])
            time.sleep(every_s)
    finally:
        os.close(statm)
        child.wait()
    if not peak_anon:  # the child ended before a sample: no figure rather than a zero
        return None, None
    return peak_anon, peak_file


def _compare(ours: tuple, theirs: tuple) -> tuple[bool, float, bool]:
    (our_sets, our_rules), (their_sets, their_rules) = ours, theirs
    same_sets = set(our_sets) == set(their_sets)
    worst = max(
        (abs(our_sets[k] - their_sets[k]) for k in our_sets if k in their_sets), default=0.0
    )
    same_rules = set(our_rules) == set(their_rules) and all(
        abs(our_rules[k] - their_rules[k]) <= TOLERANCE for k in our_rules
    )
    return same_sets and worst <= TOLERANCE, worst, same_rules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--min-support", type=float, default=0.0005)
    parser.add_argument("--max-len", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up")
    parser.add_argument(
        "--from-file",
        action="store_true",
        help="ours reads the baskets from a DuckDB warehouse file (the CLI's default kind of "
        "warehouse) instead of an in-memory DuckDB table loaded in its process",
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--warehouse-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write-data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.write_data:
        rows = generate_baskets(args.baskets, args.items)
        _write(rows, args.write_data)
        if args.warehouse_file:
            _write_warehouse(args.write_data, args.warehouse_file)
        print(len(rows["item_id"]))
        return 0
    if args.worker:
        stats, result, n_rules = WORKERS[args.worker](args.data, args)
        stats |= {"peak_mb": _rss_mb(), "n_itemsets": len(result[0]), "n_rules": n_rules}
        args.out.write_bytes(pickle.dumps(result))
        print(json.dumps(stats))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_basket_") as tmp:
        data = Path(tmp) / "baskets.parquet"
        if args.from_file:
            args.warehouse_file = Path(tmp) / "warehouse.duckdb"
        n_rows = _write_in_subprocess(data, args)
        print(
            f"data: {args.baskets} baskets, {args.items} items, {n_rows} rows, "
            f"min_support {args.min_support}, max_len {args.max_len}",
            flush=True,
        )
        stats, results = {}, {}
        load_before = os.getloadavg()
        for name in ("ours", "mlxtend"):
            out = Path(tmp) / f"{name}.pkl"
            stats[name] = _run_worker(name, data, out, args)
            results[name] = pickle.loads(out.read_bytes())
    load_after = os.getloadavg()
    same_sets, worst, same_rules = _compare(results["ours"], results["mlxtend"])
    _report(stats, same_sets, worst, same_rules)
    print(
        f"load average (1, 5, 15 min): {_load(load_before)} before, {_load(load_after)} after; "
        f"DuckDB threads: {stats['ours']['threads']}"
    )
    return 0 if same_sets and same_rules else 1


def _load(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _report(stats: dict, same_sets: bool, worst: float, same_rules: bool) -> None:
    ours, base = stats["ours"], stats["mlxtend"]
    med = {k: statistics.median(v["wall"]) for k, v in stats.items()}
    cpu = {k: statistics.median(v["cpu"]) for k, v in stats.items()}

    def span(s: dict, key: str) -> str:
        return f"{min(s[key]):.3f}-{max(s[key]):.3f}"

    lines = [
        (
            "time omnicrm (duckdb)",
            med["ours"],
            "s",
            med["ours"] / med["mlxtend"],
            f"min-max {span(ours, 'wall')}",
        ),
        (
            "time mlxtend fpgrowth+rules",
            med["mlxtend"],
            "s",
            1.0,
            f"min-max {span(base, 'wall')}; one-hot encoding {base['encode_s']:.3f} s not counted",
        ),
        (
            "cpu omnicrm (duckdb)",
            cpu["ours"],
            "s",
            cpu["ours"] / cpu["mlxtend"],
            f"min-max {span(ours, 'cpu')}; all threads",
        ),
        ("cpu mlxtend fpgrowth+rules", cpu["mlxtend"], "s", 1.0, f"min-max {span(base, 'cpu')}"),
        (
            "peak memory omnicrm",
            ours["peak_mb"],
            "MB",
            ours["peak_mb"] / base["peak_mb"],
            f"{ours['imports_mb']:.0f} MB after imports and connecting, "
            f"{ours['ready_mb']:.0f} MB with the data "
            f"({'DuckDB file, read on demand' if ours['from_file'] else 'in-memory table'})",
        ),
        (
            "peak memory mlxtend",
            base["peak_mb"],
            "MB",
            1.0,
            f"{base['imports_mb']:.0f} MB after imports, {base['ready_mb']:.0f} MB with the data",
        ),
    ]
    private = ours["peak_anon_mb"] is not None and base["peak_anon_mb"] is not None
    if private:
        lines += [
            (
                "peak private memory omnicrm",
                ours["peak_anon_mb"],
                "MB",
                ours["peak_anon_mb"] / base["peak_anon_mb"],
                f"anonymous pages, sampled every 1 ms; {ours['imports_anon_mb']:.0f} MB after "
                f"imports and connecting, {ours['ready_anon_mb']:.0f} MB with the data",
            ),
            (
                "peak private memory mlxtend",
                base["peak_anon_mb"],
                "MB",
                1.0,
                f"{base['imports_anon_mb']:.0f} MB after imports, "
                f"{base['ready_anon_mb']:.0f} MB with the data",
            ),
        ]
    for name, value, unit, ratio, note in lines:
        print(f"{name}: {value:.3f} {unit} ({ratio:.3f} x baseline)  [{note}]")
    grown = {k: v["peak_mb"] - v["ready_mb"] for k, v in stats.items()}
    less_private = (
        f", {base['peak_anon_mb'] / ours['peak_anon_mb']:.1f}x less peak private memory"
        if private
        else ""
    )
    print(
        f"speed-up: {med['mlxtend'] / med['ours']:.1f}x wall, "
        f"{cpu['mlxtend'] / cpu['ours']:.1f}x cpu; memory: "
        f"{base['peak_mb'] / ours['peak_mb']:.1f}x less peak RSS{less_private}, "
        f"{grown['mlxtend'] / max(grown['ours'], 1e-9):.1f}x less RSS above the loaded state"
    )
    print(
        f"memory floor: 1/10 of mlxtend's peak RSS is {base['peak_mb'] / 10:.0f} MB; ours holds "
        f"{ours['imports_mb']:.0f} MB after imports and connecting, before any basket is read"
    )
    if private:
        print(
            f"shared-library pages in RSS (file-backed, at most): {ours['peak_file_mb']:.0f} MB "
            f"ours, {base['peak_file_mb']:.0f} MB mlxtend (shared with every process using "
            "those libraries; included in peak RSS, not in private memory)"
        )
    print(
        f"identical itemsets: {'yes' if same_sets else 'NO'} ({ours['n_itemsets']} ours, "
        f"{base['n_itemsets']} mlxtend, max support difference {worst:.1e})"
    )
    print(
        f"identical rules: {'yes' if same_rules else 'NO'} ({ours['n_rules']} ours, "
        f"{base['n_rules']} mlxtend)"
    )
    print()
    print(
        f"| {'implementation':<26} | {'median s':>8} | {'min-max s':>13} | {'cpu s':>7} "
        f"| {'peak RSS MB':>11} | {'private MB':>10} |"
    )
    print(f"|{'-' * 28}|{'-' * 10}|{'-' * 15}|{'-' * 9}|{'-' * 13}|{'-' * 12}|")
    for label, key in (("omnicrm (DuckDB)", "ours"), ("mlxtend fpgrowth + rules", "mlxtend")):
        s = stats[key]
        anon = "n/a" if s["peak_anon_mb"] is None else f"{s['peak_anon_mb']:.0f}"
        print(
            f"| {label:<26} | {med[key]:>8.3f} | {span(s, 'wall'):>13} | {cpu[key]:>7.3f} "
            f"| {s['peak_mb']:>11.0f} | {anon:>10} |"
        )


if __name__ == "__main__":
    sys.exit(main())
