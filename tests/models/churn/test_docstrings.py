"""Every example in the churn, model-card and CLV-scoring docstrings runs as shown."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "omnicrm.models.churn.calibration",
    "omnicrm.models.churn.data",
    "omnicrm.models.churn.dataset",
    "omnicrm.models.churn.features",
    "omnicrm.models.churn.labels",
    "omnicrm.models.churn.metrics",
    "omnicrm.models.churn.model",
    "omnicrm.models.churn.plots",
    "omnicrm.models.churn.reasons",
    "omnicrm.models.churn.scoring",
    "omnicrm.models.churn.validation",
    "omnicrm.models.clv.scoring",
    "omnicrm.models.evaluation.card",
    "omnicrm.models.evaluation.context",
    "omnicrm.models.evaluation.registry",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
