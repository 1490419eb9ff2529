"""``run_analyze`` writes every score table from the contract tables, as of a date."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from omnicrm.errors import InputError
from omnicrm.jobs.analyze import STEPS, AnalyzeSettings, default_as_of, run_analyze
from omnicrm.warehouse import connect

WRITTEN = {
    "customer_keys",
    "customer_scores",
    "cluster_profiles",
    "kpi_daily",
    "kpi_monthly",
    "kpi_gaps",
    "cohorts",
    "segment_migration",
    "clv_holdout",
    "clv_tracking",
}


FAST = AnalyzeSettings(k_range=(2, 4))


@pytest.fixture(scope="module")
def analyzed(small_retailer, tmp_path_factory):
    target = tmp_path_factory.mktemp("analyzed") / "wh.duckdb"
    shutil.copy(small_retailer, target)
    con = connect(f"duckdb:///{target}")
    steps: list[str] = []
    result = run_analyze(con, demo=True, on_step=steps.append, settings=FAST)
    yield con, result, steps
    con.disconnect()


def test_writes_every_table_and_reports_each_step(analyzed):
    con, result, steps = analyzed
    assert set(result.rows) == WRITTEN
    assert set(con.list_tables()) >= WRITTEN
    assert steps == list(STEPS)
    assert set(result.seconds) == set(STEPS)
    for name in WRITTEN:
        assert result.rows[name] == con.table(name).count().execute()


def test_one_score_row_per_unified_customer(analyzed):
    con, _, _ = analyzed
    scores = con.table("customer_scores").execute()
    assert scores.customer_id.is_unique
    keys = con.table("customer_keys").execute()
    # scored ids are unified ids: never a record that was merged into another one
    merged_away = set(keys.customer_id[keys.customer_id != keys.unified_id])
    assert not merged_away & set(scores.customer_id)
    assert scores.cluster.notna().all()
    assert scores.rfm_segment.notna().all()
    # value and risk columns from the CLV and churn models
    assert scores.clv_12m.notna().all()
    assert scores.churn_prob.between(0, 1).all()
    assert scores.p_alive.between(0, 1).all()
    at_risk = scores[scores.churn_prob > 0.5]
    assert len(at_risk) > 0
    assert at_risk.churn_reasons.fillna("").str.len().gt(0).all(), "risky customers need reasons"


def test_a_short_history_skips_churn_but_keeps_clv_and_says_so(retailer_warehouse):
    first = retailer_warehouse.table("order_lines").order_ts.min().execute()
    as_of = (first + dt.timedelta(days=200)).normalize().to_pydatetime()  # < 90 + 2 x 90 days
    result = run_analyze(retailer_warehouse, as_of=as_of, demo=True, settings=FAST)
    assert any("churn model skipped" in note for note in result.notes)
    scores = retailer_warehouse.table("customer_scores").execute()
    assert scores.clv_12m.notna().all()
    assert scores.churn_prob.isna().all()


def test_default_as_of_is_midnight_after_the_last_order(retailer_warehouse):
    last = retailer_warehouse.table("order_lines").order_ts.max().execute()
    as_of = default_as_of(retailer_warehouse)
    assert as_of.tzinfo is not None
    assert as_of - dt.timedelta(days=1) <= last < as_of
    assert (as_of.hour, as_of.minute) == (0, 0)


def test_an_earlier_as_of_ignores_later_sales(retailer_warehouse):
    as_of = default_as_of(retailer_warehouse) - dt.timedelta(days=60)
    run_analyze(retailer_warehouse, as_of=as_of, demo=True, settings=FAST)
    scores = retailer_warehouse.table("customer_scores").execute()
    assert (scores.last_purchase_ts < as_of).all()
    kpis = retailer_warehouse.table("kpi_daily").execute()
    assert kpis.period_start.max() < as_of.replace(tzinfo=None)


def test_personal_data_needs_a_real_key_outside_demo_mode(retailer_warehouse, monkeypatch):
    monkeypatch.delenv("OMNICRM_PII_KEY", raising=False)
    monkeypatch.delenv("OMNICRM_DEMO", raising=False)
    with pytest.raises(InputError, match="OMNICRM_PII_KEY"):
        run_analyze(retailer_warehouse, demo=False)


def test_as_of_before_the_first_order_is_a_clear_error(retailer_warehouse):
    with pytest.raises(InputError, match="before the first order"):
        run_analyze(retailer_warehouse, as_of="2001-01-01", demo=True)


def test_unparseable_as_of_names_the_format(retailer_warehouse):
    with pytest.raises(InputError, match="--as-of 'last week' is not a date: use YYYY-MM-DD"):
        run_analyze(retailer_warehouse, as_of="last week", demo=True)


def test_empty_warehouse_says_to_ingest_first(warehouse):
    with pytest.raises(InputError, match=r"no order_lines table.*omnicrm ingest"):
        run_analyze(warehouse, demo=True)


def test_a_cancelled_order_counts_neither_as_a_purchase_nor_as_a_return(analyzed):
    con, result, _ = analyzed
    orders = con.table("orders").execute()
    cancelled = set(orders.order_id[orders.is_cancelled.fillna(False).astype(bool)])
    assert cancelled, "the small retailer cancels some digital orders"
    lines = con.table("order_lines").execute()
    lines = lines[lines.order_ts < result.as_of]
    keys = con.table("customer_keys").execute().set_index("customer_id").unified_id
    lines = lines.assign(customer=lines.customer_id.map(keys))
    purchase = ~lines.is_return.fillna(False).astype(bool) & (lines.quantity > 0)
    kept = ~lines.order_id.isin(cancelled)

    def frequency(rows):
        return rows[rows.customer.notna()].groupby("customer").order_id.nunique()

    expected, with_cancelled = frequency(lines[purchase & kept]), frequency(lines[purchase])
    scores = con.table("customer_scores").execute().set_index("customer_id").frequency
    assert (with_cancelled.reindex(expected.index) > expected).any(), "the data must tell"
    assert scores.reindex(expected.index).tolist() == expected.tolist()

    returned = -lines[~purchase & kept].amount.sum()
    monthly = con.table("kpi_monthly").execute()
    overall = monthly[(monthly.metric == "returned_amount") & (monthly.dimension == "all")]
    assert overall.value.sum() == pytest.approx(float(returned))
    assert -lines[~purchase].amount.sum() > returned, "receipts of cancellations are not returns"
