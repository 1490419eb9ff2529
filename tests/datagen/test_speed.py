"""Scale: one million order lines in under a minute on a 2-core machine."""

from __future__ import annotations

import time

import pytest

from omnicrm.datagen import generate


@pytest.mark.slow
def test_a_million_order_lines_in_under_a_minute(tmp_path):
    started = time.perf_counter()
    retailer = generate(tmp_path, customers=20_000, days=730, seed=42)
    elapsed = time.perf_counter() - started
    lines = retailer.file("order_lines").rows
    assert lines >= 1_000_000
    assert elapsed < 60, f"{lines:,} lines took {elapsed:.1f}s"
