"""Report figures: history, forecast and interval bands; alerts timeline."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.plots import alerts_timeline, forecast_figure


def test_forecast_figure_draws_bands_widest_first(fitted, mixed_frame):
    fig = forecast_figure(mixed_frame, fitted.predict(), "smooth0", last_days=30)
    names = [t.name for t in fig.data]
    assert names[:2] == ["95% interval", "80% interval"]
    assert names[2] == "history"
    assert names[3].startswith("forecast (")
    assert len(fig.data[2].x) == 30
    assert len(fig.data[3].x) == 14


def test_unknown_series(fitted, mixed_frame):
    with pytest.raises(InputError, match="'nope' is in neither"):
        forecast_figure(mixed_frame, fitted.predict(), "nope")


def test_alerts_timeline_has_one_trace_per_severity_with_messages():
    a = pd.DataFrame(
        {
            "ds": pd.to_datetime(["2026-06-01", "2026-06-02", "2026-06-02"]),
            "metric": ["revenue", "orders", "revenue"],
            "scope": ["all"] * 3,
            "severity": ["warning", "critical", "critical"],
            "message": ["m1", "m2", "m3"],
        }
    )
    fig = alerts_timeline(a)
    assert [t.name for t in fig.data] == ["warning", "critical"]
    assert list(fig.data[1].text) == ["m2", "m3"]
