"""Smoke test: the ingest benchmark runs end to end at a tiny size (no timing assertion)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ingest.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ingest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_file_has_a_plain_header_and_one_line_per_row(bench, tmp_path):
    path = bench.write_order_lines_csv(tmp_path / "l.csv", 3000)
    lines = path.read_text().splitlines()
    assert len(lines) == 3001
    assert lines[0].startswith("order_id,line_number,order_ts")


def test_tiny_run_prints_ratios_and_summary(bench, tmp_path, capsys):
    figures = bench.main(["--rows", "2000", "--runs", "1", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "omnicrm_ingest:" in out
    assert "x baseline)" in out
    assert "duckdb read_csv CTAS" in out
    assert figures["omnicrm"]["read"] == 2000
    assert (
        figures["omnicrm"]["read"]
        == figures["omnicrm"]["loaded"] + figures["omnicrm"]["quarantined"]
    )
