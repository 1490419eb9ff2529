"""KPI anomaly detection: severities by interval, explanations, stable ids, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.anomaly import alert_id, detect_anomalies, explain


def kpis(last_values: dict[str, list[float]], n: int = 84, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-03-02", periods=n)
    parts = []
    for scope, tail in last_values.items():
        v = 20000 + 4000 * (days.dayofweek >= 5) + rng.normal(0, 400, n)
        v[n - len(tail) :] = tail
        parts.append(pd.DataFrame({"metric": "revenue", "scope": scope, "ds": days, "value": v}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def alerts():
    # last 3 days (Fri-Sun 22-24 May 2026): normal, mild drop, collapse
    return detect_anomalies(
        kpis({"all": [20100, 21500, 12345], "store=S1": [20000, 24100, 23900]}),
        check_days=3,
        units={"revenue": "yuan"},
    )


def test_only_days_outside_the_intervals_alert(alerts):
    got = alerts.set_index(["scope", "ds"])
    assert ("store=S1", pd.Timestamp("2026-05-24")) not in got.index
    assert got.loc[("all", pd.Timestamp("2026-05-24")), "severity"] == "critical"
    assert got.loc[("all", pd.Timestamp("2026-05-24")), "direction"] == "below"


def test_severity_follows_the_interval_that_is_crossed(alerts):
    for r in alerts.itertuples():
        outside_95 = r.actual < r.lo_critical or r.actual > r.hi_critical
        assert (r.severity == "critical") == outside_95
        assert r.actual < r.lo_warning or r.actual > r.hi_warning
        assert r.lo_critical <= r.lo_warning <= r.expected <= r.hi_warning <= r.hi_critical


def test_explanation_states_value_change_and_interval(alerts):
    r = alerts[alerts["ds"] == pd.Timestamp("2026-05-24")].iloc[0]
    pct = round(abs(r.actual - r.expected) / r.expected * 100)
    assert r.message.startswith(f"revenue 12,345 yuan on 2026-05-24 is {pct}% below the expected ")
    assert "(95% interval " in r.message
    assert r.deviation_pct == pytest.approx(-pct, abs=0.6)


def test_ids_are_stable_across_runs(alerts):
    again = detect_anomalies(
        kpis({"all": [20100, 21500, 12345], "store=S1": [20000, 24100, 23900]}),
        check_days=3,
        units={"revenue": "yuan"},
    )
    assert again["alert_id"].tolist() == alerts["alert_id"].tolist()
    r = alerts.iloc[0]
    assert r.alert_id == alert_id(r.metric, r.scope, r.ds, r.severity)


def test_explain_by_hand():
    msg = explain("orders", "store=S1", pd.Timestamp("2026-06-01"), 130, 100, 90, 110, 80)
    assert msg == (
        "orders (store=S1) 130 on 2026-06-01 is 30% above the expected 100 (80% interval 90–110)"
    )
    assert "above the expected 0" in explain(
        "orders", "all", pd.Timestamp("2026-06-01"), 3, 0, 0, 0, 95
    )


def test_quiet_data_gives_no_alert():
    flat = kpis({"all": []})
    flat["value"] = 100.0
    assert detect_anomalies(flat, check_days=2).empty


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"check_days": 0}, "check_days=0"),
        ({"levels": (95, 80)}, "two increasing"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(InputError, match=match):
        detect_anomalies(kpis({"all": []}), **kw)


def test_missing_columns_and_no_history():
    with pytest.raises(InputError, match="lacks columns"):
        detect_anomalies(pd.DataFrame({"metric": ["x"]}))
    one = pd.DataFrame({"metric": ["x"], "scope": ["all"], "ds": ["2026-01-01"], "value": [1]})
    with pytest.raises(InputError, match="no KPI history before 2026-01-01"):
        detect_anomalies(one)
