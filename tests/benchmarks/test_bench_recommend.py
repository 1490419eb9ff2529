"""Smoke test: the recommender benchmark runs end to end at a tiny size."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_recommend.py"


def test_tiny_run_reports_every_recommender(capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_recommend", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    code = bench.main(["--customers", "200", "--items", "40", "--days", "60", "--runs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    for name in bench.MODELS:
        assert f"time fit+score {name}:" in out
        assert f"peak memory {name}:" in out
    assert "time baseline (pandas global top-k):" in out
    assert "under 60 s" in out
