"""Smoke test: the loyalty load benchmark runs end to end at a tiny size and its books
balance (no timing assertion). Needs PostgreSQL; without pgbench only the baseline is skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_loyalty.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_loyalty", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_mix_follows_its_weights(bench):
    kinds = [bench.plan(i) for i in range(1000)]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "price": 350,
        "earn": 300,
        "commit": 200,
        "redeem": 150,
    }


def test_requests_are_unique_per_run_and_index(bench):
    first = bench.request(40, "tp0", ["m1", "m2"])
    assert first[0] == "earn"
    assert first[3] == "e-tp0-40"
    assert first[2]["order_ref"] == "E-tp0-40"
    assert bench.request(40, "tp1", ["m1", "m2"])[3] != first[3]


@pytest.mark.postgres
@pytest.mark.slow  # creates two databases, starts a server: ~30-50 s on a loaded 2-core machine
def test_tiny_load_run_checks_the_books(bench, postgres_url, capsys):
    code = bench.main(
        [
            "--size", "40", "--members", "4", "--runs", "1", "--seconds", "20",
            "--throughput-clients", "4", "--latency-clients", "2", "--workers", "1",
            "--pgbench-scale", "1", "--pgbench-seconds", "1", "--floor-size", "40",
            "--pg-url", postgres_url,
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "FAILED" not in out, out
    assert code == 0, out
    assert "throughput, 4 clients:" in out
    assert "server errors (5xx): 0" in out
    assert out.count("books: ") == 9
    assert "stack floor, pgbench-style transaction (5 round trips), 4 clients:" in out
    assert "stack floor, the same in one PL/pgSQL call (1 round trip), 4 clients:" in out
