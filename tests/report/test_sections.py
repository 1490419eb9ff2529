"""Sections appear when their tables exist: baskets/recommendations, forecasts/alerts."""

from __future__ import annotations

import pandas as pd

from omnicrm.alerts.table import store_alerts
from omnicrm.models.forecast.table import write_forecasts
from omnicrm.report import build_report, write_report


def _section_ids(con) -> list[str]:
    return [s.id for s in build_report(con).sections]


def test_no_basket_or_forecast_section_before_their_jobs_ran(small_warehouse):
    ids = _section_ids(small_warehouse)
    assert "baskets" not in ids
    assert "forecasts" not in ids


def test_rules_and_recommendations_are_shown_with_their_reasons(small_warehouse):
    rules = pd.DataFrame(
        {
            "level": ["product"] * 2 + ["category"] * 2,
            "antecedent": ["P1", "P2", "Dairy", "Bakery"],
            "consequent": ["P2", "P1", "Bakery", "Dairy"],
            "antecedent_names": ["意面", "番茄酱", "Dairy", "Bakery"],
            "consequent_names": ["番茄酱", "意面", "Bakery", "Dairy"],
            "antecedent_size": [1] * 4,
            "support": [0.2, 0.2, 0.3, 0.3],
            "confidence": [0.8, 0.6, 0.5, 0.4],
            "lift": [4.0, 4.0, 1.5, 1.5],
        }
    )
    small_warehouse.create_table("basket_rules", rules)
    recs = pd.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "rank": [1, 2],
            "item_id": ["P2", "P3"],
            "item_name": ["番茄酱", "牛奶"],
            "reason": ["often bought with 意面", "you buy this every ~7 days"],
        }
    )
    small_warehouse.create_table("recommendations", recs)
    report = build_report(small_warehouse, lang="zh")
    baskets = next(s for s in report.sections if s.id == "baskets")
    html = "".join(b.html for b in baskets.blocks)
    assert "意面 → 番茄酱" in html
    assert "Dairy → Bakery" in html
    assert "you buy this every ~7 days" in html


def test_forecast_with_history_and_alerts_with_delivery_state(small_warehouse):
    forecast = pd.DataFrame(
        {
            "level": "total",
            "unique_id": "total",
            "ds": pd.date_range("2025-02-10", periods=3),
            "model": "seasonal_naive",
            "yhat": [5.0, 6.0, 7.0],
            "yhat_lo_80": [4.0, 5.0, 6.0],
            "yhat_hi_80": [6.0, 7.0, 8.0],
            "yhat_lo_95": [3.0, 4.0, 5.0],
            "yhat_hi_95": [7.0, 8.0, 9.0],
        }
    )
    write_forecasts(small_warehouse, forecast, run_id="r1", as_of="2025-02-10")
    alert = pd.DataFrame(
        [
            {
                "alert_id": "a1",
                "metric": "revenue",
                "scope": "all",
                "ds": pd.Timestamp("2025-02-09"),
                "severity": "critical",
                "direction": "below",
                "actual": 10.0,
                "expected": 40.0,
                "lo_warning": 30.0,
                "hi_warning": 50.0,
                "lo_critical": 25.0,
                "hi_critical": 55.0,
                "deviation_pct": -75.0,
                "message": "revenue 10 yuan on 2025-02-09 is 75% below",
            }
        ]
    )
    store_alerts(small_warehouse, alert)
    report = build_report(small_warehouse)
    section = next(s for s in report.sections if s.id == "forecasts")
    titles = [b.title for b in section.blocks]
    assert "Total demand: history and forecast (units)" in titles
    assert "Latest alerts" in titles
    html = write_report(None, report)
    assert "revenue 10 yuan on 2025-02-09 is 75% below" in html
