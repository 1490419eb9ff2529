"""Smoke test: the forecasting benchmark runs end to end at a tiny size."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_forecast.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_forecast", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_is_seeded_and_has_intermittent_series(bench):
    a, b = bench.generate(200, 60), bench.generate(200, 60)
    assert a.equals(b)
    zero_share = (a["y"] == 0).groupby(a["unique_id"]).mean()
    assert 0.15 < (zero_share > 0.5).mean() < 0.45


def test_tiny_run_prints_every_figure(bench, capsys):
    code = bench.main(
        [
            "--series",
            "12",
            "--days",
            "120",
            "--horizon",
            "7",
            "--runs",
            "1",
            "--jobs",
            "1",
            "--input-size",
            "60",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "time end-to-end (backtest + choice + forecast):" in out
    assert "hold-out MASE omnicrm:" in out
    assert "x baseline" in out
    assert "peak memory:" in out
