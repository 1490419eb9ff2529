"""Smoke test: the analyze benchmark runs end to end at a tiny size; its data and its SQL
baseline mean what they claim."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from omnicrm.analytics.rfm import rfm_metrics
from omnicrm.warehouse import connect

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_analyze.py"
AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_analyze", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def con(bench, tmp_path_factory):
    con = connect(f"duckdb:///{tmp_path_factory.mktemp('bench') / 'w.duckdb'}")
    bench.generate(con, lines=5_000, customers=600, seed=3, chunk=2_000)
    yield con
    con.disconnect()


def test_money_and_quantities_are_exact_decimals(bench):
    import numpy as np

    assert bench._money(np.array([5, -5, 123456])).to_pylist() == [
        Decimal("0.05"),
        Decimal("-0.05"),
        Decimal("1234.56"),
    ]
    assert bench._decimal(np.array([-2000]), 3).to_pylist() == [Decimal("-2.000")]


def test_generated_tables_follow_the_contract_and_the_stated_mix(con):
    lines = con.table("order_lines").execute()
    assert len(lines) == 5_000
    assert con.table("customers").count().execute() == 600
    returns = lines[lines.is_return]
    assert (returns.quantity < 0).all()
    assert (returns.amount <= 0).all()
    assert 0.01 < lines.is_return.mean() < 0.06
    assert 0.03 < lines.customer_id.isna().mean() < 0.15
    assert set(lines.channel) <= {
        "store",
        "online",
        "app",
        "mini_program",
        "marketplace",
        "unmanned",
    }
    # exact decimals: |amount| = |quantity| x unit_price - discount to the cent
    gross = lines.quantity.abs() * lines.unit_price - lines.discount_amount
    assert (gross == lines.amount.abs()).all()
    assert (lines.groupby("order_id").line_number.min() == 1).all()


def test_sql_baseline_equals_the_rfm_metrics_of_omnicrm(bench, con):
    bench.rfm_sql_baseline(con, AS_OF)
    sql = con.table("_bench_rfm_sql").execute().set_index("customer_id").sort_index()
    ours = rfm_metrics(con.table("order_lines"), as_of=AS_OF).execute()
    ours = ours.set_index("customer_id").sort_index()
    assert list(sql.index) == list(ours.index)
    assert (sql.recency_days == ours.recency_days).all()
    assert (sql.frequency == ours.frequency).all()
    assert (sql.monetary == ours.monetary).all()


def test_tiny_run_reports_every_figure(bench, capsys):
    assert bench.main(["--lines", "20000", "--customers", "2000", "--runs", "1", "--no-churn"]) == 0
    out = capsys.readouterr().out
    for name in (
        "rfm_sql_baseline",
        "customer_scores_step",
        "analyze_total",
        "step_identities",
        "step_segment_migration",
        "peak_rss",
    ):
        assert f"\n{name}: " in out
    assert "| analyze_total |" in out
