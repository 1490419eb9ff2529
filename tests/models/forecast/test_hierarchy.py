"""Bottom-up coherence: totals equal the sum of the stores exactly; aggregate intervals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.hierarchy import reconcile_bottom_up, sum_exact


@pytest.fixture(scope="module")
def tags(fitted):
    ids = fitted.selection_["unique_id"]
    return pd.DataFrame(
        {
            "unique_id": ids,
            "category": np.where(ids.str.startswith("smooth"), "Dairy", "Toys"),
            "region": np.where(ids.str.endswith(("0", "2")), "North", "South"),
        }
    )


@pytest.fixture(scope="module")
def coherent(fitted, tags):
    return reconcile_bottom_up(fitted, tags)


@pytest.mark.parametrize("level", ["category", "region", "total"])
def test_aggregates_equal_the_sum_of_bottom_forecasts_to_the_thousandth(coherent, tags, level):
    bottom = coherent[coherent["level"] == "bottom"].merge(tags, on="unique_id")
    bottom["node"] = "total" if level == "total" else level + "=" + bottom[level]
    agg = coherent[coherent["level"] == level].set_index(["unique_id", "ds"])["yhat"]
    for (node, ds), g in bottom.groupby(["node", "ds"]):
        exact = sum(Decimal(f"{v:.3f}") for v in g["yhat"])
        assert Decimal(f"{agg[(node, ds)]:.3f}") == exact


def test_exact_sum_of_many_thousandths_has_no_float_drift():
    n = 10_000
    fc = pd.DataFrame(
        {"unique_id": [f"s{i}" for i in range(n)], "ds": pd.Timestamp("2024-01-01"), "yhat": 0.001}
    )
    tags = pd.DataFrame({"unique_id": fc["unique_id"]})
    assert sum_exact(fc, tags, "total")["yhat"].tolist() == [10.0]


def test_aggregate_intervals_come_from_backtested_bottom_up_errors(fitted, coherent, tags):
    total = coherent[coherent["level"] == "total"]
    assert (total["yhat_lo_95"] <= total["yhat_lo_80"]).all()
    assert (total["yhat_hi_80"] <= total["yhat_hi_95"]).all()
    cv = fitted.backtest_.cv.merge(fitted.selection_[["unique_id", "model"]])
    s = cv.groupby(["cutoff", "ds"])[["y", "yhat"]].sum()
    err = np.sort(np.abs(s["yhat"] - s["y"]).to_numpy())
    q80 = err[int(np.ceil((len(err) + 1) * 0.8)) - 1]
    row = total.iloc[0]
    assert row["yhat_hi_80"] - row["yhat"] == pytest.approx(q80, abs=2e-3)


def test_every_series_needs_a_tag(fitted, tags):
    with pytest.raises(InputError, match="no row in the hierarchy tags"):
        reconcile_bottom_up(fitted, tags.iloc[1:], levels=("region",))
    with pytest.raises(InputError, match="lack columns"):
        reconcile_bottom_up(fitted, tags[["unique_id"]], levels=("region",))
