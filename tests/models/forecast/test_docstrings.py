"""Every example in the forecasting docstrings runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "omnicrm.models.forecast.backtest",
    "omnicrm.models.forecast.data",
    "omnicrm.models.forecast.forecaster",
    "omnicrm.models.forecast.hierarchy",
    "omnicrm.models.forecast.intervals",
    "omnicrm.models.forecast.metrics",
    "omnicrm.models.forecast.models",
    "omnicrm.models.forecast.series",
    "omnicrm.models.forecast.stock",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


ALERT_MODULES = [
    "omnicrm.models.forecast.anomaly",
    "omnicrm.alerts.delivery",
    "omnicrm.alerts.kpis",
    "omnicrm.alerts.table",
]


@pytest.mark.parametrize("name", ALERT_MODULES)
def test_alert_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.parametrize("name", ["omnicrm.models.forecast.plots",
                                  "omnicrm.models.forecast.table",
                                  "omnicrm.models.forecast.pipeline",
                                  "omnicrm.alerts.pipeline"])
def test_io_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
