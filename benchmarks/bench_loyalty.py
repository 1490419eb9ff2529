"""Benchmark: the loyalty service under load (earn, redeem, checkout pricing, order commit).

Runs the service as a user would: a scratch PostgreSQL database is created on the server of
``--pg-url`` (loopback), ``omnicrm db upgrade`` migrates it, ``omnicrm keys create`` makes the
keys and ``omnicrm serve --workers N`` serves it with production settings (``OMNICRM_ENV=
production``, a generated secret; only the per-key rate limit is raised so that it does not
cap the measurement). The load generator runs in another process: an asyncio client
with ``C`` concurrent keep-alive connections on loopback (raw HTTP/1.1, so that the generator
takes little of the CPU the server under test needs), a bounded number of requests (``--size``) and
a time cap (``--seconds``) per run. The mix (by request count): 35% checkout pricing, 30%
earn, 20% order commit (with two promotions: one with a budget that runs out, one limited per
member), 15% redeem.

Figures: throughput with 64 clients, p50/p99 latency with 16 clients (one warm-up run, then
``--runs`` timed runs each; median and min–max). Baseline: pgbench simple-update TPS
(``pgbench -i -s 10`` into its own scratch database, then ``pgbench -N -c 64 -j 2 -T 10``) on
the same PostgreSQL in the same run. Second baseline, the stack's floor: the same load
generator against ``stack_floor_app.py`` (FastAPI + SQLAlchemy + psycopg, served the same way,
doing only pgbench's simple-update transaction per request: no authentication, idempotency or
ledger), once as a 5-round-trip transaction and once as one PL/pgSQL call — what the stack
allows on this machine before any loyalty logic. Afterwards the books are checked: ledger sum =
balance for every member (and the hash chains verify), every acknowledged earn/commit/redeem is
in the database exactly once, re-sending acknowledged requests with their Idempotency-Key
changes nothing, and no promotion exceeded its budget or per-member limit. Exit status 1 if a
check fails. Both scratch databases are dropped at the end.

Usage::

    python benchmarks/bench_loyalty.py --size 6000 --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/bench_loyalty.py --floor-size 0  # without the stack-floor baseline
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MIX = (("price", 35), ("earn", 30), ("commit", 20), ("redeem", 15))
BUDGET_PROMO, LIMIT_PROMO, PER_MEMBER = "BENCH-BUDGET", "BENCH-LIMIT", 2
OMNICRM = [sys.executable, "-m", "omnicrm.cli.main"]
RETRIES = 3
HERE = Path(__file__).resolve().parent
FLOOR_MODES = {  # stack_floor_app's modes, as the report names them
    "transaction": "pgbench-style transaction (5 round trips)",
    "function": "the same in one PL/pgSQL call (1 round trip)",
}


def plan(i: int) -> str:
    """The kind of request number ``i`` (a fixed cycle of 100 following :data:`MIX`)."""
    slot, acc = i % 100, 0
    for kind, weight in MIX:
        acc += weight
        if slot < acc:
            return kind
    raise AssertionError("weights add up to 100")


@contextmanager
def scratch_database(pg_url: str, prefix: str):
    """Create a fresh database on the server of ``pg_url``; yield its URL; drop it."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cli(env: dict, *args: str) -> str:
    done = subprocess.run([*OMNICRM, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"omnicrm {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(env: dict, workers: int, app: list[str] | None = None):
    """``omnicrm serve`` (or ``uvicorn`` with the ``app`` arguments) on a free loopback port,
    ready when ``/health`` answers; its log goes to a file (an undrained pipe would block the
    server once full)."""
    port = _free_port()
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if app is None:
        cmd = [*OMNICRM, "serve", *where]
    else:
        cmd = [sys.executable, "-m", "uvicorn", *app, *where, "--no-access-log"]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode()[-2000:]
                    raise RuntimeError(f"server did not start within 120 s: {tail}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def setup(base: str, admin_key: str, members: int, commits: int) -> list[str]:
    """Enrol members with plenty of points and create the two promotions."""
    h = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=base, headers=h, timeout=30) as c:
        for spec in (
            {"id": BUDGET_PROMO, "budget": f"{5 * max(1, commits // 2)}.00", "priority": 5,
             "benefit": {"type": "amount_off", "amount": "5"}},
            {"id": LIMIT_PROMO, "per_customer": PER_MEMBER,
             "benefit": {"type": "percent_off", "percent": "10"}},
        ):  # fmt: skip
            c.post("/v1/promotions", json=spec).raise_for_status()
        ids = []
        for i in range(members):
            m = c.post("/v1/members", json={"customer_id": f"BENCH-{i}"}).raise_for_status()
            ids.append(m.json()["member_id"])
            c.post(
                f"/v1/members/{ids[-1]}/adjustments",
                json={"points": 10_000_000, "reason": "benchmark float"},
            ).raise_for_status()
    return ids


def request(i: int, run: str, members: list[str]) -> tuple[str, str, dict, str | None]:
    """(kind, path, body, idempotency key) of request ``i`` of a run."""
    kind, member = plan(i), members[i % len(members)]
    lines = [
        {"product_id": "SKU-1", "category": "grocery", "quantity": "2", "unit_price": "12.50"},
        {"product_id": "SKU-2", "category": "wine", "quantity": "1", "unit_price": "88.00"},
    ]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if kind == "price":
        return kind, "/v1/checkout/price", {"member_id": member, "lines": lines}, None
    if kind == "redeem":
        return kind, f"/v1/members/{member}/redeem", {"reward": "CASH10"}, f"r-{run}-{i}"
    if kind == "commit":
        body = {"member_id": member, "lines": lines, "purchased_at": now}
        return kind, f"/v1/orders/C-{run}-{i}/commit", body, f"c-{run}-{i}"
    earn_lines = [{**lines[0], "amount": "25.00"}, {**lines[1], "amount": "88.00"}]
    body = {"order_ref": f"E-{run}-{i}", "purchased_at": now, "lines": earn_lines}
    return kind, f"/v1/members/{member}/earn", body, f"e-{run}-{i}"


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for the load.

    httpx spends about a millisecond of CPU per request, which on a 2-core machine is CPU the
    server under test does not get; this client writes pre-rendered requests and reads the
    status line, the headers and a ``Content-Length`` body (what uvicorn sends), so the load
    generator costs a few per cent of one core at 1,000 requests per second.
    """

    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict, extra: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\n".encode() + self.headers + head.encode()
            + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        )  # fmt: skip
        try:
            head_bytes = await self.reader.readuntil(b"\r\n\r\n")
            lines = head_bytes.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in lines[1:]
                if line[:15].lower() == b"content-length:"
            )
            return status, await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, StopIteration) as exc:
            self.close()
            raise ConnectionError(f"bad or cut response: {exc!r}") from exc

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(base, key, members, run, clients, total, seconds) -> dict:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    headers = (
        f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    ).encode()
    counter = iter(range(total))
    deadline = time.monotonic() + seconds
    latencies: dict[str, list[float]] = {k: [] for k, _ in MIX}
    statuses: Counter = Counter()
    acked: list[tuple[str, str, dict, str]] = []

    async def worker() -> None:
        conn = _Connection(host, int(port), headers)
        try:
            for i in counter:
                if time.monotonic() > deadline:
                    return
                kind, path, body, idem = request(i, run, members)
                h = {"Idempotency-Key": idem} if idem else {}
                t0 = time.perf_counter()
                for attempt in range(RETRIES + 1):
                    try:
                        status, _ = await conn.post(path, body, h)
                        break
                    except OSError:
                        # A dropped connection: retry as a client would, with the same key.
                        conn.close()
                        statuses[f"{kind}:transport_error"] += 1
                        if attempt == RETRIES:
                            raise
                latencies[kind].append(time.perf_counter() - t0)
                statuses[f"{kind}:{status}"] += 1
                if idem and status == 201:
                    acked.append((kind, path, body, idem))
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "latencies": latencies, "statuses": dict(statuses), "acked": acked}


async def _floor_load(base: str, clients: int, total: int) -> dict:
    """``total`` POST /earn to the stack-floor app over ``clients`` connections."""
    accounts = _floor_app().ACCOUNTS
    host, port = base.removeprefix("http://").rsplit(":", 1)
    headers = f"Host: {host}:{port}\r\nContent-Type: application/json\r\n".encode()
    counter = iter(range(total))
    statuses: Counter = Counter()

    async def worker() -> None:
        conn = _Connection(host, int(port), headers)
        try:
            for i in counter:  # accounts spread as pgbench's are: rarely the same row at once
                body = {"account": 1 + (i * 7919) % accounts, "delta": 1}
                status, _ = await conn.post("/earn", body, {})
                statuses[status] += 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return {"elapsed": time.perf_counter() - t0, "statuses": dict(statuses)}


def stack_floor(pg_url: str, mode: str, workers: int, clients: int, total: int) -> float:
    """Throughput (ops/s) of ``stack_floor_app`` in ``mode`` on a scratch database."""
    with scratch_database(pg_url, "omnicrm_floor") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            _floor_app().create_schema(conn)
        engine.dispose()
        env = {**os.environ, "FLOOR_URL": url, "FLOOR_MODE": mode, "FLOOR_POOL": _pool_size()}
        app = ["--factory", "stack_floor_app:app_from_env", "--app-dir", str(HERE),
               "--log-level", "warning"]  # fmt: skip
        with server(env, workers, app) as base:
            _generate(["floor", base, clients, total // 4])  # warm-up
            out = _generate(["floor", base, clients, total])
    if set(out["statuses"]) != {"200"}:
        raise RuntimeError(f"stack floor app answered {out['statuses']}")
    return total / out["elapsed"]


def _pool_size() -> str:
    """Connections and threads per worker of the service as the benchmark runs it."""
    from omnicrm.api.core.config import Settings

    default = Settings.model_fields["db_connections"].default
    return os.environ.get("OMNICRM_DB_CONNECTIONS") or str(default)


@functools.cache
def _floor_app():
    """``stack_floor_app.py`` beside this script (importable however this script was loaded)."""
    spec = importlib.util.spec_from_file_location("stack_floor_app", HERE / "stack_floor_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generate(params: list) -> dict:
    """Run a load (this script with ``--generate``) in its own process; return its result."""
    # The result goes through a file: uvloop makes the process's stdout non-blocking, and a
    # large result printed to a pipe came out cut at the pipe's buffer size.
    with tempfile.TemporaryDirectory(prefix="bench_loyalty_") as tmp:
        out = Path(tmp) / "load.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--generate", json.dumps(params)]
        done = subprocess.run(
            [*command, "--out", str(out)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
        return json.loads(out.read_text())


def run_load(base, key, members, run, clients, total, seconds) -> dict:
    """One load run in a separate process (this script with ``--generate``)."""
    return _generate(["service", base, key, members, run, clients, total, seconds])


def pgbench_tps(pg_url: str, scale: int, seconds: int) -> float | None:
    """pgbench simple-update TPS (64 clients, 2 threads) in a scratch database."""
    if shutil.which("pgbench") is None:
        return None
    with scratch_database(pg_url, "omnicrm_pgbench") as url:
        u = make_url(url)
        conn = [
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
        ]
        env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
        subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), *conn, u.database], env=env,
                       check=True, capture_output=True)  # fmt: skip
        done = subprocess.run(
            ["pgbench", "-N", "-c", "64", "-j", "2", "-T", str(seconds), *conn, u.database],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    for line in done.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps: {done.stdout[-500:]}")


def check_books(url: str, base: str, key: str, acked: list) -> dict[str, bool]:
    """Ledger = balances, every acknowledged write stored once, retries change nothing,
    budgets and per-member limits kept."""
    from omnicrm.db import make_engine, make_session_factory
    from omnicrm.loyalty.verify import verify_ledger

    engine = make_engine(url)
    q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
    with engine.connect() as conn:
        before = q("SELECT count(*) FROM loyalty_ledger")[0][0]
    sample = acked[:: max(1, len(acked) // 200)]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        retried = [
            c.post(path, json=body, headers={"Idempotency-Key": idem}).status_code == 201
            for _, path, body, idem in sample
        ]
    with engine.connect() as conn:
        checks = {
            "ledger sum = balance for every member": not q(
                "SELECT m.id FROM loyalty_members m "
                "LEFT JOIN loyalty_ledger l ON l.member_id = m.id GROUP BY m.id, m.points_balance "
                "HAVING coalesce(sum(l.points), 0) <> m.points_balance"
            ),
            "every acknowledged earn stored once": q(
                "SELECT count(*) FROM loyalty_orders WHERE order_ref LIKE 'E-%'"
            )[0][0]
            == sum(k == "earn" for k, *_ in acked),
            "every acknowledged commit stored once": q(
                "SELECT count(*) FROM loyalty_orders WHERE order_ref LIKE 'C-%'"
            )[0][0]
            == sum(k == "commit" for k, *_ in acked),
            "every acknowledged redemption stored once": q(
                "SELECT count(*) FROM loyalty_redemptions"
            )[0][0]
            == sum(k == "redeem" for k, *_ in acked),
            "no order earned twice": not q(
                "SELECT reference FROM loyalty_ledger WHERE kind = 'earn' GROUP BY reference "
                "HAVING count(*) > 1"
            ),
            "retries with the same key change nothing": all(retried)
            and q("SELECT count(*) FROM loyalty_ledger")[0][0] == before,
            "no budget exceeded": not q(
                "SELECT p.id FROM loyalty_promotions p LEFT JOIN loyalty_applied_promotions a "
                "ON a.promotion_id = p.id GROUP BY p.id, p.budget, p.budget_used "
                "HAVING (p.budget IS NOT NULL AND p.budget_used > p.budget) "
                "OR coalesce(sum(a.cost), 0) <> p.budget_used"
            ),
            "no per-member limit exceeded": not q(
                f"SELECT member_id FROM loyalty_applied_promotions WHERE promotion_id = "
                f"'{LIMIT_PROMO}' GROUP BY member_id HAVING count(*) > {PER_MEMBER}"
            ),
        }
    with make_session_factory(engine)() as session:
        checks["hash chains verify"] = verify_ledger(session).ok
    engine.dispose()
    return checks


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} (min–max {min(values):,.1f}–{max(values):,.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6000, help="requests per run")
    parser.add_argument("--seconds", type=float, default=30, help="time cap per run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--throughput-clients", type=int, default=64)
    parser.add_argument("--latency-clients", type=int, default=16)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--floor-size",
        type=int,
        default=8000,
        help="requests to the stack-floor app per mode (0: skip it)",
    )
    parser.add_argument("--pg-url", default=os.environ.get("OMNICRM_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop comes with the service's dependencies
            runner = asyncio.run
        else:
            runner = uvloop.run
        kind, *params = json.loads(args.generate)
        load = _load(*params) if kind == "service" else _floor_load(*params)
        args.out.write_text(json.dumps(runner(load)))
        return 0

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    results: dict[str, list] = {"throughput": [], "p50": [], "p99": [], "statuses": Counter()}
    by_kind: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
    acked: list = []
    with scratch_database(args.pg_url, "omnicrm_bench") as url:
        env = {**os.environ, "OMNICRM_DATABASE_URL": url, "OMNICRM_ENV": "production",
               "OMNICRM_SECRET_KEY": secrets.token_urlsafe(48),
               "OMNICRM_RATE_PER_SECOND": "1000000", "OMNICRM_RATE_BURST": "1000000"}  # fmt: skip
        _cli(env, "db", "upgrade")
        admin_key = _cli(
            env, "keys", "create", "--scope", "admin", "--name", "bench-admin"
        ).split()[0]
        pos_key = _cli(env, "keys", "create", "--scope", "pos", "--name", "bench-pos").split()[0]
        with server(env, args.workers) as base:
            commits = args.size * (args.runs * 2 + 1) * 20 // 100
            members = setup(base, admin_key, args.members, commits)
            warm = run_load(
                base, pos_key, members, "warm", args.throughput_clients, args.size, args.seconds
            )
            acked.extend(warm["acked"])
            for phase, clients in (("tp", args.throughput_clients), ("lat", args.latency_clients)):
                for r in range(args.runs):
                    out = run_load(
                        base, pos_key, members, f"{phase}{r}", clients, args.size, args.seconds
                    )
                    done = sum(len(v) for v in out["latencies"].values())
                    everything = [x for v in out["latencies"].values() for x in v]
                    results["statuses"].update(out["statuses"])
                    acked.extend(out["acked"])
                    if phase == "tp":
                        results["throughput"].append(done / out["elapsed"])
                    else:
                        results["p50"].append(_pct(everything, 50) * 1000)
                        results["p99"].append(_pct(everything, 99) * 1000)
                        for kind, values in out["latencies"].items():
                            by_kind[kind].extend(values)
            checks = check_books(url, base, pos_key, acked)
    tps = pgbench_tps(args.pg_url, args.pgbench_scale, args.pgbench_seconds)
    floors = {
        mode: stack_floor(args.pg_url, mode, args.workers, args.throughput_clients, args.floor_size)
        for mode in FLOOR_MODES
        if args.floor_size > 0
    }
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024  # fmt: skip

    tp = statistics.median(results["throughput"])
    ratio = f" ({tp / tps:.2f} x pgbench simple-update)" if tps else ""
    print(
        f"throughput, {args.throughput_clients} clients: "
        f"{_spread(results['throughput'])} ops/s{ratio}"
    )
    for mode, ops in floors.items():
        print(
            f"stack floor, {FLOOR_MODES[mode]}, {args.throughput_clients} clients: {ops:,.0f} ops/s"
            + (f" ({ops / tps:.2f} x pgbench)" if tps else "")
            + f"; the service does {tp / ops:.2f} x this"
        )
    print(f"p50 latency, {args.latency_clients} clients: {_spread(results['p50'])} ms")
    print(f"p99 latency, {args.latency_clients} clients: {_spread(results['p99'])} ms")
    print(
        f"pgbench simple-update tps: {tps:,.0f} (1.00 x baseline)"
        if tps
        else "pgbench: not installed"
    )
    for kind, values in by_kind.items():
        print(
            f"{kind} latency, {args.latency_clients} clients: "
            f"p50 {_pct(values, 50) * 1000:,.1f} ms, p99 {_pct(values, 99) * 1000:,.1f} ms"
        )
    print(f"peak memory: {peak:,.0f} MiB (largest of this process and its children)")
    errors = sum(n for k, n in results["statuses"].items() if k.rsplit(":", 1)[1].startswith("5"))
    print(f"server errors (5xx): {errors}")
    print("responses: " + ", ".join(f"{k} {n}" for k, n in sorted(results["statuses"].items())))
    for name, ok in checks.items():
        print(f"books: {name}: {'ok' if ok else 'FAILED'}")
    print("\n| figure | median | min | max | target |\n|---|---|---|---|---|")
    for name, values, unit, target in (
        (
            f"throughput ({args.throughput_clients} clients)",
            results["throughput"],
            "ops/s",
            ">= 1,000",
        ),
        (f"p50 ({args.latency_clients} clients)", results["p50"], "ms", ""),
        (f"p99 ({args.latency_clients} clients)", results["p99"], "ms", "<= 50"),
    ):
        print(f"| {name} | {statistics.median(values):,.1f} {unit} | {min(values):,.1f} | "
              f"{max(values):,.1f} | {target} |")  # fmt: skip
    for mode, ops in floors.items():
        print(f"| stack floor: {FLOOR_MODES[mode]} | {ops:,.0f} ops/s | | | |")
    print(f"| pgbench -N -c 64 | {tps or 0:,.0f} tps | | | baseline |")
    return 0 if all(checks.values()) and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
