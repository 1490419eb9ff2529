"""The docstring examples of the promotions, checkout and order modules run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "omnicrm.loyalty.promotions.cart",
    "omnicrm.loyalty.promotions.conditions",
    "omnicrm.loyalty.promotions.benefits",
    "omnicrm.loyalty.promotions.definition",
    "omnicrm.loyalty.promotions.engine",
    "omnicrm.loyalty.promotions.coupons",
    "omnicrm.loyalty.promotions.store",
    "omnicrm.loyalty.checkout",
    "omnicrm.loyalty.orders",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
