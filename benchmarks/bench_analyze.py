"""Benchmark: ``omnicrm analyze`` on 10M order lines / 1M customers vs one hand-written SQL.

Data: order lines, customers, identities and products drawn with numpy at a fixed seed
(vectorised; string ids built by pyarrow compute) and bulk-inserted as Arrow tables into the
contract tables of a DuckDB warehouse file (``ensure_table`` then ``insert``; not through CSV
ingest). Two years of sales, ~3.3 lines per order, customers of lognormal activity, 8% anonymous
orders, six channels (220 physical stores and four digital storefronts), 20k products in 60
categories, ~3% return lines, ~20% promoted lines. Every customer has a member card; half have a
phone, and 6% of those share the phone of another customer, so identity resolution merges a few
percent of the records.

Baseline, in the same process and run: one hand-written DuckDB SQL computing the RFM aggregate
per customer (recency days, ``count(DISTINCT order_id)`` of purchase orders, ``sum(amount)``)
over ``order_lines``, written with ``CREATE TABLE … AS``.

Timed (one warm-up each, then ``--runs`` runs of the two alternating, so that both see the same
load on a shared machine; median and min-max of the wall-clock time, and the median CPU time of
the process, which moves less with the load of other jobs):

- ``rfm_sql_baseline``: the SQL above.
- ``customer_scores_step``: the ``customer scores`` step of analyze alone: RFM metrics, scores,
  segment, value tier and lifecycle stage, written to a table, from the lines that analyze
  materialises once in its first step (identity-resolved, with the UTC date of each line; here a
  temporary table made by the same expression, whose one-off cost is printed as
  ``resolved_lines``: in analyze it belongs to the identities step).

Before them, ``run_analyze`` end to end, ``--analyze-runs`` times (default 1, not warmed up: a
full run takes minutes on a shared 2-core machine), with the time of each step;
``--no-churn`` leaves out the CLV and churn models. Peak memory is the process's ``ru_maxrss``
(it includes the data generation, which is reported separately as ``peak_rss_after_load``).

    python benchmarks/bench_analyze.py --lines 10000000 --customers 1000000
    python benchmarks/bench_analyze.py --warehouse /tmp/bench.duckdb   # keep/reuse the data
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAYS = 730
CHANNELS = np.array(["store", "online", "app", "mini_program", "marketplace", "unmanned"])
CHANNEL_P = np.array([0.55, 0.15, 0.12, 0.10, 0.05, 0.03])
DIGITAL_STORES = {"online": "WEB", "app": "APP", "mini_program": "MINI", "marketplace": "MKT"}
N_STORES, N_UNMANNED, N_PRODUCTS, N_CATEGORIES = 200, 20, 20_000, 60
ANONYMOUS_SHARE, RETURN_SHARE, PROMO_SHARE = 0.08, 0.03, 0.20
PHONE_SHARE, SHARED_PHONE_SHARE = 0.5, 0.06


# -- data -------------------------------------------------------------------------------------
def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _decimal(unscaled: np.ndarray, scale: int) -> pa.Array:
    """Exact DECIMAL(18, scale) from its unscaled integers (the 128-bit words, no float)."""
    unscaled = np.asarray(unscaled, dtype="int64")
    words = np.empty((len(unscaled), 2), dtype="<i8")
    words[:, 0] = unscaled
    words[:, 1] = np.where(unscaled < 0, -1, 0)  # two's complement sign extension
    return pa.Array.from_buffers(
        pa.decimal128(18, scale), len(unscaled), [None, pa.py_buffer(words.tobytes())]
    )


def _money(cents: np.ndarray) -> pa.Array:
    """DECIMAL(18, 2) from integer cents."""
    return _decimal(cents, 2)


def _timestamps(seconds: np.ndarray) -> pa.Array:
    base = int(START.timestamp()) * 1_000_000
    return pa.array(base + seconds.astype("int64") * 1_000_000, pa.timestamp("us", tz="UTC"))


def generate(con, lines: int, customers: int, seed: int = 7, chunk: int = 2_000_000) -> dict:
    """Write ``order_lines``, ``customers``, ``identities`` and ``products``; return row counts."""
    from omnicrm.schema import get_table
    from omnicrm.warehouse import ensure_table

    rng = np.random.default_rng(seed)
    for name in ("order_lines", "customers", "identities", "products"):
        con.drop_table(name, force=True)
        ensure_table(con, get_table(name))

    # products: lognormal list prices, categories under departments
    pid = np.arange(N_PRODUCTS)
    category = rng.integers(0, N_CATEGORIES, N_PRODUCTS)
    price = np.clip(np.round(rng.lognormal(7.0, 0.9, N_PRODUCTS)), 50, 500_000).astype("int64")
    launch = np.datetime64("2020-01-01") + rng.integers(0, 1400, N_PRODUCTS)
    con.insert(
        "products",
        pa.table(
            {
                "product_id": _ids("P", pid, 6),
                "name": _ids("Product ", pid, 6),
                "department": _ids("D", category % 8, 2),
                "category": _ids("CAT", category, 3),
                "subcategory": _ids("SUB", category * 4 + pid % 4, 4),
                "brand": _ids("B", pid % 500, 4),
                "unit_price": _money(price),
                "unit_cost": _money(price * 6 // 10),
                "launch_date": pa.array(launch, pa.date32()),
            }
        ),
    )

    # customers and their identifiers
    cid = np.arange(customers)
    signup = rng.integers(-365 * 86_400, DAYS * 86_400, customers)
    is_member = rng.random(customers) < 0.4
    con.insert(
        "customers",
        pa.table(
            {
                "customer_id": _ids("C", cid, 8),
                "name": pa.nulls(customers, pa.string()),
                "phone": pa.nulls(customers, pa.string()),
                "email": pa.nulls(customers, pa.string()),
                "gender": pa.array(np.array(["F", "M", "U"])[rng.integers(0, 3, customers)]),
                "birth_date": pa.nulls(customers, pa.date32()),
                "city": _ids("City", rng.integers(0, 50, customers), 2),
                "region": _ids("R", rng.integers(0, 10, customers), 2),
                "signup_ts": _timestamps(signup),
                "signup_channel": pa.array(CHANNELS[rng.choice(6, customers, p=CHANNEL_P)]),
                "is_member": pa.array(is_member),
                "member_tier": pa.array(np.where(is_member, "silver", None)),
            }
        ),
    )
    holders = np.flatnonzero(rng.random(customers) < PHONE_SHARE)
    phone_of = holders.copy()
    shared = rng.random(len(holders)) < SHARED_PHONE_SHARE
    phone_of[shared] = holders[rng.integers(0, len(holders), int(shared.sum()))]
    link_ids = np.concatenate([cid, holders])
    values = pa.concat_arrays(
        [
            _ids("MC", cid, 9),
            pc.binary_join_element_wise("139", _ids("", phone_of, 8), ""),
        ]
    )
    n_links = len(link_ids)
    con.insert(
        "identities",
        pa.table(
            {
                "customer_id": _ids("C", link_ids, 8),
                "id_type": pa.array(np.repeat(["member_card", "phone"], [customers, len(holders)])),
                "id_value": values,
                "source": pa.array(np.repeat("crm", n_links)),
                "first_seen_ts": _timestamps(np.zeros(n_links, "int64")),
            }
        ),
    )

    # orders: buyer by lognormal activity, uniform time over two years, channel and store
    n_orders = max(1, int(lines / 3.3))
    activity = rng.lognormal(0.0, 1.0, customers)
    buyer = np.searchsorted(np.cumsum(activity) / activity.sum(), rng.random(n_orders))
    buyer = np.minimum(buyer, customers - 1)
    anonymous = rng.random(n_orders) < ANONYMOUS_SHARE
    order_s = rng.integers(0, DAYS * 86_400, n_orders)
    channel = rng.choice(6, n_orders, p=CHANNEL_P)
    store_no = np.where(
        channel == 5,
        rng.integers(0, N_UNMANNED, n_orders) + N_STORES,
        rng.integers(0, N_STORES, n_orders),
    )
    size = 1 + rng.poisson(max(lines / n_orders - 1.0, 0.0), n_orders)
    order_of = np.repeat(np.arange(n_orders), size)[:lines]
    if len(order_of) < lines:  # top up the last order to reach exactly `lines`
        order_of = np.concatenate([order_of, np.full(lines - len(order_of), n_orders - 1)])
    starts = np.flatnonzero(np.r_[True, order_of[1:] != order_of[:-1]])
    line_number = np.arange(lines) - np.repeat(starts, np.diff(np.r_[starts, lines])) + 1

    store_names = np.concatenate(
        [
            np.char.add("S", np.char.zfill(np.arange(N_STORES).astype(str), 3)),
            np.char.add("U", np.char.zfill(np.arange(N_UNMANNED).astype(str), 2)),
        ]
    ).astype(object)
    for lo in range(0, lines, chunk):
        hi = min(lo + chunk, lines)
        o = order_of[lo:hi]
        n = hi - lo
        ch = channel[o]
        stores = store_names[store_no[o]]
        for name, code in DIGITAL_STORES.items():
            stores[CHANNELS[ch] == name] = code
        product = (N_PRODUCTS * rng.random(n) ** 2).astype("int64")
        qty = 1 + rng.poisson(0.5, n)
        is_return = rng.random(n) < RETURN_SHARE
        promo = rng.random(n) < PROMO_SHARE
        gross = qty * price[product]
        discount = np.where(promo, gross // 10, 0)
        sign = np.where(is_return, -1, 1)
        customer = pa.array(_ids("C", buyer[o], 8))
        customer = pc.if_else(pa.array(anonymous[o]), pa.scalar(None, pa.string()), customer)
        con.insert(
            "order_lines",
            pa.table(
                {
                    "order_id": _ids("O", o, 9),
                    "line_number": pa.array(line_number[lo:hi]),
                    "order_ts": _timestamps(order_s[o]),
                    "customer_id": customer,
                    "store_id": pa.array(stores, pa.string()),
                    "channel": pa.array(CHANNELS[ch]),
                    "product_id": _ids("P", product, 6),
                    "quantity": _decimal(sign * qty * 1000, 3),
                    "unit_price": _money(price[product]),
                    "discount_amount": _money(discount),
                    "amount": _money(sign * (gross - discount)),
                    "promotion_id": pc.if_else(
                        pa.array(promo), _ids("PR", product % 30, 2), pa.scalar(None, pa.string())
                    ),
                    "is_return": pa.array(is_return),
                }
            ),
        )
    return {
        "order_lines": lines,
        "orders": int(order_of[-1]) + 1,
        "customers": customers,
        "identities": n_links,
        "products": N_PRODUCTS,
    }


# -- measurements -----------------------------------------------------------------------------
BASELINE_SQL = """
CREATE OR REPLACE TABLE _bench_rfm_sql AS
SELECT customer_id,
       DATE '{day}' - CAST(max(order_ts) FILTER (WHERE buy) AS DATE) AS recency_days,
       count(DISTINCT order_id) FILTER (WHERE buy) AS frequency,
       sum(amount) AS monetary
FROM (SELECT customer_id, order_id, order_ts, amount,
             NOT coalesce(is_return, false) AND quantity > 0 AS buy
      FROM order_lines
      WHERE order_ts < TIMESTAMPTZ '{as_of}' AND customer_id IS NOT NULL)
GROUP BY customer_id
HAVING count(DISTINCT order_id) FILTER (WHERE buy) > 0
"""


def rfm_sql_baseline(con, as_of: dt.datetime) -> None:
    """The hand-written reference: RFM aggregate per customer in one DuckDB statement."""
    con.raw_sql(BASELINE_SQL.format(day=as_of.date().isoformat(), as_of=as_of.isoformat()))


def resolved_lines(con):
    """The lines analyze materialises in its first step (needs ``customer_keys``).

    Same expression as analyze (:func:`omnicrm.jobs.analyze.analysis_lines` of
    :func:`omnicrm.warehouse.sales.sold_lines`, which are all the lines here: the benchmark writes
    no ``orders`` table): the columns the analyses read, identity-resolved, with the UTC date of
    each line. Timed apart as
    ``resolved_lines``: it is part of analyze's identities step, not of the scores step.
    """
    from omnicrm.jobs.analyze import analysis_lines
    from omnicrm.warehouse.sales import sold_lines

    lines = analysis_lines(sold_lines(con), con.table("customer_keys"))
    return con.create_table("_bench_lines", lines, temp=True, overwrite=True)


def scores_step(con, lines, as_of: dt.datetime) -> None:
    """The ``customer scores`` step of analyze alone, on the resolved lines it reads."""
    from omnicrm.analytics.scores import customer_scores

    con.create_table("_bench_scores", customer_scores(lines, as_of=as_of), overwrite=True)


def timed(fn: Callable[[], object], runs: int, *, warm_up: bool = True) -> list[float]:
    """``fn`` once untimed (if ``warm_up``), then ``runs`` wall-clock times in seconds."""
    if warm_up:
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _cpu_s() -> float:
    """CPU seconds of this process (all threads: DuckDB's included), user plus system.

    ``time.process_time`` reads the process's CPU clock to the nanosecond; ``os.times`` counts
    10 ms ticks, which gave a small baseline 0.0 s and its ratio a division by zero.
    """
    return time.process_time()


def _ratio(value: float, base: float) -> str:
    """``value / base`` as ``"1.23x"``, or ``"n/a"`` when the base took no measurable time."""
    return f"{value / base:.2f}x" if base > 0 else "n/a (baseline 0 s)"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _line(name: str, times: list[float], base: float | None, note: str = "") -> str:
    med = statistics.median(times)
    ratio = f"{med / base:.2f}x baseline" if base else "1.00x baseline"
    spread = f" (min-max {min(times):.2f}-{max(times):.2f})" if len(times) > 1 else ""
    return f"{name}: {med:.2f} s{spread} ({ratio}){note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up")
    parser.add_argument(
        "--analyze-runs",
        type=int,
        default=1,
        help="timed end-to-end analyze runs (data already warm)",
    )
    parser.add_argument(
        "--no-churn",
        action="store_true",
        help="analyze without the CLV and churn models (AnalyzeSettings.churn)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="DuckDB file to keep; reused when it already holds this size",
    )
    args = parser.parse_args(argv)

    from omnicrm.jobs.analyze import STEPS, AnalyzeSettings, default_as_of, run_analyze
    from omnicrm.warehouse import connect

    with tempfile.TemporaryDirectory() as tmp:
        path = args.warehouse or Path(tmp) / "bench.duckdb"
        con = connect(f"duckdb:///{path.resolve()}")
        t0 = time.perf_counter()
        reuse = "order_lines" in con.list_tables() and (
            con.table("order_lines").count().execute() == args.lines
            and con.table("customers").count().execute() == args.customers
        )
        if not reuse:
            generate(con, args.lines, args.customers, args.seed)
        load_s = time.perf_counter() - t0
        load_rss = _rss_mb()
        as_of = default_as_of(con)
        orders = con.table("order_lines").order_id.nunique().execute()
        print(
            f"data: {args.lines:,} order lines in {orders:,} orders, {args.customers:,} "
            f"customers; as_of {as_of.date()}; {'reused' if reuse else 'generated'} in "
            f"{load_s:.1f} s; threads "
            f"{con.raw_sql('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}, "
            f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}"
        )

        # analyze first: it writes customer_keys, which the scores step reads
        settings = AnalyzeSettings(churn=not args.no_churn)
        results = []

        def progress(step: str) -> None:
            print(f"(analyze: {step})", file=sys.stderr, flush=True)

        analyze = timed(
            lambda: results.append(
                run_analyze(con, as_of=as_of, demo=True, on_step=progress, settings=settings)
            ),
            args.analyze_runs,
            warm_up=False,
        )
        if not results and "customer_keys" not in con.list_tables():
            # --analyze-runs 0 on fresh data: the scores step still reads resolved lines
            from omnicrm.analytics.identity import build_customer_keys

            build_customer_keys(con, demo=True)
        # baseline and scores step alternate, so that both see the same load on a shared machine
        t0 = time.perf_counter()
        lines = resolved_lines(con)
        resolve_s = time.perf_counter() - t0
        rfm_sql_baseline(con, as_of)
        scores_step(con, lines, as_of)
        base, scores, cpu = [], [], {"base": [], "scores": []}
        for _ in range(args.runs):
            c0 = _cpu_s()
            base += timed(lambda: rfm_sql_baseline(con, as_of), 1, warm_up=False)
            c1 = _cpu_s()
            scores += timed(lambda: scores_step(con, lines, as_of), 1, warm_up=False)
            cpu["base"].append(c1 - c0)
            cpu["scores"].append(_cpu_s() - c1)
        b_med = statistics.median(base)
        for name in ("_bench_rfm_sql", "_bench_scores", "_bench_lines"):
            con.drop_table(name, force=True)
        peak = _rss_mb()

        print(_line("rfm_sql_baseline", base, None))
        print(_line("customer_scores_step", scores, b_med, " [target <= 2x]"))
        cpu_base, cpu_scores = (statistics.median(cpu[k]) for k in ("base", "scores"))
        print(
            f"cpu seconds (process, medians): rfm_sql_baseline {cpu_base:.2f}, "
            f"customer_scores_step {cpu_scores:.2f} ({_ratio(cpu_scores, cpu_base)})"
        )
        print(_line("resolved_lines", [resolve_s], b_med, " (once, in the identities step)"))
        steps = {s: [r.seconds.get(s, 0.0) for r in results] for s in STEPS} if results else {}
        if results:  # --analyze-runs 0 times the scores step only
            print(_line("analyze_total", analyze, b_med, " [target < 60 s]"))
            for step, values in steps.items():
                print(_line(f"step_{step.replace(' ', '_')}", values, b_med))
        print(f"peak_rss_after_load: {load_rss:.0f} MB")
        print(f"peak_rss: {peak:.0f} MB")
        if results:
            rows = results[-1].rows
            print("rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

        print()
        print("| figure | median s | min-max s | x SQL baseline |")
        print("|---|---:|---:|---:|")
        table = [("rfm_sql_baseline", base), ("customer_scores_step", scores)]
        if results:
            table += [("analyze_total", analyze)] + [(f"  {k}", v) for k, v in steps.items()]
        for name, values in table:
            med = statistics.median(values)
            print(
                f"| {name} | {med:.2f} | {min(values):.2f}-{max(values):.2f} | {med / b_med:.2f} |"
            )
        print(f"| peak RSS | {peak:.0f} MB | | |")
        con.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
