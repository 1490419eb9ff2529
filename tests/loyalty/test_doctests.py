"""The examples in the docstrings of the loyalty, db and api modules run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "omnicrm.db",
    "omnicrm.db.base",
    "omnicrm.db.engine",
    "omnicrm.db.migrate",
    "omnicrm.db.testing",
    "omnicrm.loyalty.earning",
    "omnicrm.loyalty.errors",
    "omnicrm.loyalty.history",
    "omnicrm.loyalty.ledger",
    "omnicrm.loyalty.maintenance",
    "omnicrm.loyalty.members",
    "omnicrm.loyalty.operations",
    "omnicrm.loyalty.points",
    "omnicrm.loyalty.redemption",
    "omnicrm.loyalty.returns",
    "omnicrm.loyalty.rules",
    "omnicrm.loyalty.tiers",
    "omnicrm.loyalty.verify",
    "omnicrm.api.core.config",
    "omnicrm.api.core.db",
    "omnicrm.api.core.errors",
    "omnicrm.api.core.ratelimit",
    "omnicrm.api.core.security",
    "omnicrm.api.main",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
