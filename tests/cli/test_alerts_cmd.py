"""``omnicrm alerts`` computes, stores and delivers KPI alerts (real local webhook)."""

from __future__ import annotations

import json

import pytest

from alerts.test_delivery import receiver  # noqa: F401 - the real local webhook fixture
from omnicrm.alerts import alerts_with_delivery
from omnicrm.cli.main import main
from omnicrm.warehouse import connect


@pytest.fixture
def url(retailer_warehouse):
    path = retailer_warehouse.con.execute("PRAGMA database_list").fetchall()[0][2]
    retailer_warehouse.disconnect()
    return f"duckdb:///{path}"


@pytest.mark.slow  # 14 days of per-store KPIs, real webhook
def test_alerts_are_stored_and_delivered_once(url, receiver, capsys):  # noqa: F811
    state, hook = receiver
    state.script = [503]
    args = ["alerts", "--days", "14", "--webhook", hook, "--json", "--warehouse", url]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["series_checked"] >= 3
    assert first["alerts"] > 0
    assert first["new"] == first["alerts"]
    assert len(state.requests) == first["alerts"] + 1  # one 503, retried
    assert sorted(first["delivery"]["delivered"]) == sorted(state.accepted)
    assert len(state.accepted) == first["alerts"]
    assert all(
        m.split(" ")[0] in ("revenue", "orders", "active_customers") for m in first["messages"]
    )

    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["new"] == 0
    assert second["delivery"]["delivered"] == []
    assert len(state.accepted) == first["alerts"]
    con = connect(url)
    stored = alerts_with_delivery(con, hook)
    con.disconnect()
    assert len(stored) == first["alerts"]
    assert stored["delivered_at"].notna().all()


def test_without_webhook_alerts_are_only_stored(url, monkeypatch, capsys):
    monkeypatch.delenv("OMNICRM_ALERT_WEBHOOK", raising=False)
    assert main(["alerts", "--days", "3", "--warehouse", url]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "KPI series" in out
    assert "alerts stored, not sent" in out


def test_bad_webhook_url_is_a_one_line_error(url, capsys):
    assert main(["alerts", "--webhook", "ftp://x", "--warehouse", url]) == 2
    assert "must start with http:// or https://" in capsys.readouterr().err
