"""``omnicrm forecast`` writes the forecasts table and summarises models and accuracy."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from omnicrm.cli.main import main
from omnicrm.models.forecast.table import latest_forecasts
from omnicrm.warehouse import connect


@pytest.fixture
def url(retailer_warehouse):
    path = retailer_warehouse.con.execute("PRAGMA database_list").fetchall()[0][2]
    retailer_warehouse.disconnect()
    return f"duckdb:///{path}"


def test_category_level_json_summary_and_table(url, capsys):
    assert (
        main(
            [
                "forecast",
                "--level",
                "category",
                "--horizon",
                "14",
                "--windows",
                "2",
                "--models",
                "seasonal_naive,seasonal_es,tsb",
                "--json",
                "--warehouse",
                url,
            ]
        )
        == 0
    )
    s = json.loads(capsys.readouterr().out)
    assert s["level"] == "category"
    assert s["rows_written"] == s["series"] * 14
    assert sum(s["selected"].values()) == s["series"]
    assert s["accuracy"]["seasonal_naive"]["mase_ratio_to_seasonal_naive"] == 1.0
    con = connect(url)
    rows = latest_forecasts(con, "category")
    con.disconnect()
    assert len(rows) == s["rows_written"]
    assert (rows["yhat_lo_95"] <= rows["yhat"]).all()
    assert (rows["yhat"] <= rows["yhat_hi_95"]).all()


@pytest.mark.slow  # thousands of product x store series
def test_product_store_forecasts_add_up_to_the_total(url, capsys):
    con = connect(url)
    last = con.table("order_lines").order_ts.max().to_pandas()
    con.disconnect()
    as_of = (last - pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    assert (
        main(
            [
                "forecast",
                "--horizon",
                "7",
                "--windows",
                "1",
                "--models",
                "seasonal_naive",
                "--as-of",
                as_of,
                "--warehouse",
                url,
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())  # undo the console's line wrapping
    assert "rows written to forecasts" in out
    assert "series too short to backtest" in out
    assert "Models (backtest accuracy" in out
    con = connect(url)
    bottom = latest_forecasts(con, "product-store")
    total = latest_forecasts(con, "total").set_index("ds")["yhat"]
    con.disconnect()
    assert pd.Timestamp(bottom["as_of"].iloc[0]) == pd.Timestamp(as_of)
    assert pd.Timestamp(bottom["ds"].min()) == pd.Timestamp(as_of)  # first day forecast: as_of
    for ds, g in bottom.groupby("ds"):
        assert sum(Decimal(str(v)) for v in g["yhat"]) == Decimal(str(total[ds]))
    # stock suggestions: one row per product x store, reorder point covers lead-time demand
    con = connect(url)
    stock = con.table("stock_suggestions").to_pandas()
    con.disconnect()
    assert set(stock["unique_id"]) == set(bottom["unique_id"])
    assert (stock["reorder_point"] >= stock["lead_time_demand"]).all()
    assert (stock["safety_stock"] >= 0).all()


def test_bad_level_is_a_one_line_error(url, capsys):
    assert main(["forecast", "--level", "city", "--warehouse", url]) == 2
    err = capsys.readouterr().err
    assert "level='city' is not known" in err
    assert "Traceback" not in err
