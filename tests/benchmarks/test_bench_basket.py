"""Smoke test: the basket benchmark runs end to end at a tiny size and finds identical itemsets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_basket.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_basket", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_reports_identical_itemsets(bench, capsys) -> None:
    code = bench.main(["--baskets", "400", "--items", "60", "--min-support", "0.02", "--runs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "identical itemsets: yes" in out
    assert "identical rules: yes" in out
    assert "time omnicrm (duckdb):" in out
    assert "peak memory mlxtend:" in out
    assert "peak private memory omnicrm:" in out
    assert "peak private memory mlxtend:" in out
    assert "| peak RSS MB | private MB |" in out


def test_a_childs_private_memory_is_sampled_while_it_runs(bench) -> None:
    import subprocess
    import sys

    holder = "import time; block = bytearray(64 * 2**20); block[::4096] = b'x' * 16384; "
    child = subprocess.Popen([sys.executable, "-c", holder + "time.sleep(0.3)"])
    peak_private, peak_shared = bench._watch(child)
    assert child.returncode == 0
    assert 64 <= peak_private < 64 + 60  # the 64 MB written, plus the interpreter's own
    assert peak_shared > 0


def test_tiny_run_from_a_duckdb_warehouse_file_reports_the_memory_floor(bench, capsys) -> None:
    argv = ["--baskets", "400", "--items", "60", "--min-support", "0.02", "--runs", "1"]
    code = bench.main([*argv, "--from-file"])
    out = capsys.readouterr().out
    assert code == 0
    assert "identical itemsets: yes" in out
    assert "identical rules: yes" in out
    assert "(DuckDB file, read on demand)" in out
    assert "memory floor: 1/10 of mlxtend's peak RSS is " in out


def test_generated_baskets_are_reproducible_and_carry_planted_bundles(bench) -> None:
    first = bench.generate_baskets(2000, 500)
    second = bench.generate_baskets(2000, 500)
    assert (first["item_id"] == second["item_id"]).all()
    assert set(first["basket_id"]) == set(range(2000))
    assert len(first["item_id"]) > 2000 * 8  # 1 + Poisson(7) items plus planted ones
