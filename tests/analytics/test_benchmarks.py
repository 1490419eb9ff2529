"""KPI gaps to benchmark targets: configuration checks and golden gaps.

Hand-made KPI rows (monthly):

    period   dimension  value    metric          actual
    2024-01  all        all      retention_rate  0.50
    2024-02  all        all      retention_rate  0.30
    2024-02  all        all      return_rate     0.08
    2024-02  channel    store    return_rate     0.04
    2024-02  channel    online   return_rate     0.12
    2024-02  all        all      repurchase_rate NULL (no active customer)

Targets: retention_rate >= 0.40; return_rate <= 0.05 overall; return_rate <= 0.06 for every
channel, but <= 0.15 online.

    retention Feb: gap = 0.30 - 0.40 = -0.10, gap_pct -0.25, below target
    retention Jan: gap = 0.50 - 0.40 = +0.10, gap_pct +0.25, on track (only when latest=False)
    return overall: gap = 0.05 - 0.08 = -0.03, gap_pct -0.60, below target
    return store:   gap = 0.06 - 0.04 = +0.02, gap_pct +1/3, on track (channel-wide target)
    return online:  gap = 0.15 - 0.12 = +0.03, gap_pct +0.20, on track (specific target wins)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pytest

from omnicrm.analytics.benchmarks import (
    GAP_COLUMNS,
    Target,
    kpi_gaps,
    load_targets,
    parse_targets,
)
from omnicrm.analytics.kpis import kpi_table
from omnicrm.errors import InputError

JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)

KPIS = ibis.memtable(
    pd.DataFrame(
        [
            (JAN, "month", "all", "all", "retention_rate", 0.50),
            (FEB, "month", "all", "all", "retention_rate", 0.30),
            (FEB, "month", "all", "all", "return_rate", 0.08),
            (FEB, "month", "channel", "store", "return_rate", 0.04),
            (FEB, "month", "channel", "online", "return_rate", 0.12),
            (FEB, "month", "all", "all", "repurchase_rate", None),
            (FEB, "week", "all", "all", "retention_rate", 0.90),  # other grain: no target
        ],
        columns=["period_start", "grain", "dimension", "dimension_value", "metric", "value"],
    ).astype({"value": "float64"})
)

TARGETS = (
    Target("retention_rate", 0.40, "higher"),
    Target("return_rate", 0.05, "lower"),
    Target("return_rate", 0.06, "lower", dimension="channel"),
    Target("return_rate", 0.15, "lower", dimension="channel", dimension_value="online"),
    Target("repurchase_rate", 0.30, "higher"),
)


def gaps(**kwargs) -> dict[tuple, tuple]:
    df = kpi_gaps(KPIS, TARGETS, **kwargs).execute()
    assert list(df.columns) == list(GAP_COLUMNS)
    return {
        (pd.Timestamp(r.period_start).date(), r.dimension_value, r.metric): (
            None if pd.isna(r.gap) else round(r.gap, 12),
            None if pd.isna(r.gap_pct) else round(r.gap_pct, 12),
            r.status,
        )
        for r in df.itertuples()
    }


def test_gaps_match_hand_computation():
    assert gaps() == {
        (FEB, "all", "retention_rate"): (-0.1, -0.25, "below target"),
        (FEB, "all", "return_rate"): (-0.03, -0.6, "below target"),
        (FEB, "store", "return_rate"): (0.02, round(1 / 3, 12), "on track"),
        (FEB, "online", "return_rate"): (0.03, 0.2, "on track"),
        (FEB, "all", "repurchase_rate"): (None, None, "no data"),
    }


def test_every_period_when_not_latest_only():
    got = gaps(latest=False)
    assert got[(JAN, "all", "retention_rate")] == (0.1, 0.25, "on track")
    assert len(got) == 6


def test_actual_target_and_direction_are_reported():
    df = kpi_gaps(KPIS, TARGETS).execute()
    row = df[(df.metric == "return_rate") & (df.dimension_value == "online")].iloc[0]
    assert (row.actual, row.target, row.direction) == (0.12, 0.15, "lower")


def test_gaps_on_a_real_kpi_table():
    # Two months; customer a buys in both, b only in January: February retention 1/2 = 0.5.
    lines = ibis.memtable(
        {
            "order_id": ["1", "2", "3"],
            "customer_id": ["a", "b", "a"],
            "order_ts": pd.to_datetime(["2024-01-03", "2024-01-04", "2024-02-05"], utc=True),
            "quantity": [Decimal("1")] * 3,
            "amount": [Decimal("10.00")] * 3,
        }
    )
    kpis = kpi_table(lines, as_of="2024-03-01", grain="month")
    df = kpi_gaps(kpis, [Target("retention_rate", 0.6, "higher")]).execute()
    assert df[["actual", "target", "status"]].values.tolist() == [[0.5, 0.6, "below target"]]
    assert df.gap.iloc[0] == pytest.approx(-0.1)


def test_shipped_targets_load_and_are_valid():
    targets = load_targets()
    assert Target("retention_rate", 0.40, "higher") in targets
    assert all(t.direction in ("higher", "lower") for t in targets)


def test_targets_file_can_be_given(tmp_path: Path):
    f = tmp_path / "t.toml"
    f.write_text(
        '[[targets]]\nmetric = "average_order_value"\ntarget = 120\ndirection = "higher"\n'
        'grain = "week"\ndimension = "store_id"\ndimension_value = "s1"\n'
    )
    assert load_targets(f) == (
        Target("average_order_value", 120.0, "higher", "week", "store_id", "s1"),
    )


# ------------------------------------------------------------------------------ bad input
def entry(**kwargs) -> dict:
    return {"targets": [{"metric": "retention_rate", "target": 0.4, "direction": "higher",
                         **kwargs}]}  # fmt: skip


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (entry(metric="happiness"), "metric 'happiness' is not a KPI; use one of"),
        (entry(direction="up"), "direction 'up' for 'retention_rate' must be 'higher' or 'lower'"),
        (entry(target="40%"), "target '40%' for 'retention_rate' must be a finite number"),
        (entry(target=float("nan")), "must be a finite number"),
        (entry(target=True), "must be a finite number"),
        (entry(target=40), r"is a share and must be between 0 and 1 \(write 40 % as 0.40\)"),
        (entry(grain="quarter"), "grain 'quarter' must be one of day, week, month"),
        (entry(dimension="region"), "dimension 'region' must be one of all, channel"),
        (entry(dimension_value="online"), "dimension_value 'online' needs a dimension"),
        (entry(colour="red"), r"unknown key\(s\) colour; allowed:"),
        ({"targets": [{"metric": "revenue", "direction": "higher"}]}, "missing 'target'"),
        ({"targets": []}, r"no targets; add at least one \[\[targets\]\] table"),
        ({"target": []}, "unknown top-level key"),
        ({"targets": ["x"]}, "target #1 is not a table"),
        (
            {"targets": [entry()["targets"][0], entry()["targets"][0]]},
            "target #2 repeats target #1",
        ),
    ],
)
def test_bad_target_config_is_refused(config, message):
    with pytest.raises(InputError, match=message):
        parse_targets(config, source="kpi_targets.toml")


def test_bad_toml_and_missing_file_are_refused(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[targets]\nmetric = ")
    with pytest.raises(InputError, match=r"bad\.toml' is not valid TOML"):
        load_targets(bad)
    with pytest.raises(InputError, match=r"cannot read KPI targets file .*nope\.toml"):
        load_targets(tmp_path / "nope.toml")


def test_a_table_that_is_not_a_kpi_table_is_refused():
    with pytest.raises(InputError, match="KPI table lacks column\\(s\\) grain, dimension"):
        kpi_gaps(ibis.memtable({"period_start": [JAN], "metric": ["x"], "value": [1.0]}))
