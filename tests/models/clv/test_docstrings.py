"""Every example in the CLV docstrings runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "omnicrm.models.base",
    "omnicrm.models.clv.beta_geo",
    "omnicrm.models.clv.diagnostics",
    "omnicrm.models.clv.gamma_gamma",
    "omnicrm.models.clv.inputs",
    "omnicrm.models.clv.mle",
    "omnicrm.models.clv.pareto_nbd",
    "omnicrm.models.clv.special",
    "omnicrm.models.clv.summary",
    "omnicrm.models.clv.value",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
