"""Cleaning and classification of demand series: every fix is reported, bad input refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.data import Columns, describe_series, prepare_series


def frame(ids, days, ys):
    return pd.DataFrame({"unique_id": ids, "ds": pd.to_datetime(days), "y": ys})


def test_gaps_are_filled_with_zero_and_counted():
    df = frame(["a"] * 3, ["2024-01-01", "2024-01-03", "2024-01-06"], [1.0, 2.0, 3.0])
    clean, diag = prepare_series(df)
    assert clean["y"].tolist() == [1, 0, 2, 0, 0, 3]
    assert diag.loc[0, "gaps_filled"] == 3
    assert diag.loc[0, "n_obs"] == 6


def test_series_are_extended_to_the_common_last_period():
    df = frame(["a", "b", "b"], ["2024-01-01", "2024-01-01", "2024-01-03"], [1.0, 1.0, 1.0])
    clean, diag = prepare_series(df)
    assert clean.groupby("unique_id")["ds"].max().nunique() == 1
    assert diag.set_index("unique_id").loc["a", "gaps_filled"] == 2


def test_negative_demand_is_clipped_and_reported():
    df = frame(["a"] * 3, ["2024-01-01", "2024-01-02", "2024-01-03"], [4.0, -3.0, -1.0])
    clean, diag = prepare_series(df)
    assert clean["y"].tolist() == [4, 0, 0]
    assert diag.loc[0, "negatives_clipped"] == 2


def test_all_zero_series_is_flagged():
    _, diag = prepare_series(frame(["z"] * 2, ["2024-01-01", "2024-01-02"], [0.0, 0.0]))
    assert diag.loc[0, "all_zero"]
    assert diag.loc[0, "demand_class"] == "zero"


def test_short_for_season_flag():
    _, diag = prepare_series(
        frame(["a"] * 13, pd.date_range("2024-01-01", periods=13), [1.0] * 13), season_length=7
    )
    assert diag.loc[0, "short_for_season"]


def test_weekly_dates_move_to_monday():
    df = frame(["a", "a"], ["2024-01-03", "2024-01-18"], [5.0, 7.0])  # Wed, Thu
    clean, _diag = prepare_series(df, freq="W")
    assert [d.strftime("%Y-%m-%d") for d in clean["ds"]] == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]
    assert clean["y"].tolist() == [5, 0, 7]


def test_timezone_aware_dates_are_taken_in_utc():
    ds = pd.to_datetime(["2024-01-01 23:30"]).tz_localize("Asia/Shanghai")
    clean, _ = prepare_series(pd.DataFrame({"unique_id": ["a"], "ds": ds, "y": [1.0]}))
    assert clean.loc[0, "ds"] == pd.Timestamp("2024-01-01")


def test_custom_column_names():
    df = pd.DataFrame(
        {
            "sku": ["a", "a"],
            "day": ["2024-01-01", "2024-01-02"],
            "units": [1, 2],
            "price": [9.9, 9.9],
        }
    )
    clean, _ = prepare_series(df, columns=Columns("sku", "day", "units"))
    assert list(clean.columns) == ["unique_id", "ds", "y", "price"]


def test_classification_matches_syntetos_boylan_cutoffs():
    n = 20
    days = pd.date_range("2024-01-01", periods=n)
    smooth = np.full(n, 5.0)
    erratic = np.tile([1.0, 10.0], n // 2)
    intermittent = np.where(np.arange(n) % 4 == 0, 5.0, 0.0)
    k = np.arange(n)
    lumpy = np.where(k % 4 == 0, np.where((k // 4) % 2 == 0, 1.0, 20.0), 0.0)
    df = pd.concat(
        [
            frame([k] * n, days, v)
            for k, v in [("s", smooth), ("e", erratic), ("i", intermittent), ("l", lumpy)]
        ]
    )
    d = describe_series(df).set_index("unique_id")
    assert d.loc["s", "demand_class"] == "smooth"
    assert d.loc["e", "demand_class"] == "erratic"
    assert d.loc["i", "adi"] == pytest.approx(4.0)
    assert d.loc["i", "cv2"] == pytest.approx(0.0)
    assert d.loc["i", "demand_class"] == "intermittent"
    # non-zero sizes of "l": 1, 20, 1, 20, 1 -> mean 8.6, std 9.3081 -> cv2 = 1.1715
    assert d.loc["l", "cv2"] == pytest.approx((np.std([1, 20, 1, 20, 1]) / 8.6) ** 2)
    assert d.loc["l", "demand_class"] == "lumpy"


@pytest.mark.parametrize(
    ("df", "kw", "match"),
    [
        (pd.DataFrame({"id": ["a"], "ds": ["2024-01-01"], "y": [1]}), {}, "lacks columns"),
        (pd.DataFrame({"unique_id": [], "ds": [], "y": []}), {}, "empty"),
        (frame(["a", "a"], ["2024-01-01", "2024-01-01"], [1, 2]), {}, "several rows"),
        (pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"], "y": ["x"]}), {}, "non-numeric"),
        (pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"], "y": [None]}), {}, "missing"),
        (pd.DataFrame({"unique_id": ["a"], "ds": ["not a date"], "y": [1]}), {}, "not dates"),
        (frame(["a"], ["2024-01-01"], [1]), {"freq": "M"}, "freq='M'"),
        (frame(["a"], ["2024-01-01"], [1]), {"season_length": 0}, "season_length"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(df, kw, match):
    with pytest.raises(InputError, match=match):
        prepare_series(df, **kw)
