"""Smoke test: the CLV benchmark runs end to end at a tiny size and agrees with lifetimes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_clv.py"


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("lifetimes")
    spec = importlib.util.spec_from_file_location("bench_clv", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_simulated_customers_follow_the_summary_rules(bench):
    frame = bench.simulate(2_000, seed=1)
    assert (frame["recency"] <= frame["T"]).all()
    assert (frame.loc[frame["frequency"] == 0, "recency"] == 0).all()
    assert (frame.loc[frame["frequency"] > 0, "monetary_value"] > 0).all()
    assert frame["frequency"].gt(0).mean() == pytest.approx(0.4, abs=0.05)


def test_tiny_run_reports_times_memory_and_parameter_agreement(bench, capsys):
    assert bench.main(["--size", "1500", "--runs", "1", "--lifetimes-size", "1000"]) == 0
    out = capsys.readouterr().out
    for name in (
        "bgnbd_fit_omnicrm",
        "gamma_gamma_fit_lifetimes",
        "total_fit_omnicrm",
        "peak_memory_omnicrm",
        "peak_memory_lifetimes",
    ):
        assert f"{name}: " in out
    diffs = re.findall(r"param_max_rel_diff: (\S+)", out)
    assert len(diffs) == 2
    assert all(float(d) < 1e-3 for d in diffs)
