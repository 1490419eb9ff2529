"""Every example in every docstring of the package runs and shows what it says.

One suite for the whole package (numpydoc examples are part of the documentation): each module
with examples is one test case, so a broken example names its module.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import omnicrm

SKIPPED_PACKAGES = (".db.migrations",)
"""Alembic revision scripts are loaded by Alembic, not imported as modules."""


def _modules_with_examples() -> list[str]:
    names = []
    finder = doctest.DocTestFinder()
    for info in pkgutil.walk_packages(omnicrm.__path__, "omnicrm."):
        if any(part in info.name for part in SKIPPED_PACKAGES):
            continue
        module = importlib.import_module(info.name)
        if any(test.examples for test in finder.find(module)):
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_the_package_documents_itself_with_examples():
    assert len(MODULES) > 100


@pytest.mark.parametrize("name", MODULES)
def test_examples(name, monkeypatch):
    monkeypatch.setenv("OMNICRM_DEMO", "1")  # examples use the built-in PII key
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
