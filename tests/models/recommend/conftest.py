"""Fixtures: small planted interactions, and the synthetic retailer's purchases."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.models.recommend.simulate import simulate_interactions


@pytest.fixture(scope="session")
def planted() -> pd.DataFrame:
    """300 customers x 60 items over 120 days with staples, popularity and complements."""
    return simulate_interactions(customers=300, items=60, days=120, seed=3)


@pytest.fixture(scope="session")
def retailer_purchases(small_retailer):
    """(interactions, products) of the shared synthetic retailer, read once."""
    from omnicrm.models.recommend import interactions_from_order_lines
    from omnicrm.warehouse import connect

    con = connect(f"duckdb:///{small_retailer}")
    try:
        lines = interactions_from_order_lines(con.table("order_lines"))
        products = con.table("products").to_pandas()
    finally:
        con.disconnect()
    return lines, products
