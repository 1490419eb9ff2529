"""Lifecycle stages on crafted purchase histories, as of 2024-08-01, default rules
(new 30 days, lapsed 180 days, reactivated 90 days, at risk 1.5 x typical gap).

    cust purchase days                         gaps (days)   typical  recency  stage
    N    2024-07-20, 07-22                     2             2        10       new (first 12 d ago)
    L    2023-12-01, 2024-01-01                31            31       213      lapsed (> 180)
    R    2023-06-01, 07-01, 2024-07-10         30, 375       202.5    22       reactivated
                                               (375 > 180 ended 22 d ago <= 90)
    K    2024-05-01, 05-11, 05-21, 05-31       10, 10, 10    10       62       at_risk (62 > 15)
    A    2024-04-01, 05-01, 06-01, 07-01       30, 31, 30    30       31       active (31 <= 45)
         + a return on 07-30 (not a purchase day)
    Q    2023-01-01, 2024-03-01                425           425      153      active (comeback
                                                                               153 d ago > 90)
    O    2024-06-01                            -             pop.     61       at_risk
    P    2024-07-01                            -             pop.     31       active
    B    two orders on 2024-06-20              -             pop.     42       active

Population typical gap (one-time buyers O, P, B): median of the repeat buyers' typical gaps
2, 10, 30, 31, 202.5, 425 = (30 + 31) / 2 = 30.5, so the at-risk threshold is 45.75 days:
O (61) is at risk, P (31) and B (42) are not. Were B's two same-day orders a gap of 0 days, B
would be at risk.
"""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.analytics.lifecycle import STAGE_LABELS_ZH, STAGES, LifecycleRules, lifecycle_stages
from omnicrm.analytics.rfm import rfm_metrics, with_order_date
from omnicrm.analytics.scores import customer_scores
from omnicrm.errors import InputError
from omnicrm.warehouse import connect

AS_OF = "2024-08-01"

HISTORIES = {
    "N": ["2024-07-20", "2024-07-22"],
    "L": ["2023-12-01", "2024-01-01"],
    "R": ["2023-06-01", "2023-07-01", "2024-07-10"],
    "K": ["2024-05-01", "2024-05-11", "2024-05-21", "2024-05-31"],
    "A": ["2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"],
    "Q": ["2023-01-01", "2024-03-01"],
    "O": ["2024-06-01"],
    "P": ["2024-07-01"],
    "B": ["2024-06-20 09:00", "2024-06-20 18:00"],
}
EXPECTED = {
    "N": "new",
    "L": "lapsed",
    "R": "reactivated",
    "K": "at_risk",
    "A": "active",
    "Q": "active",
    "O": "at_risk",
    "P": "active",
    "B": "active",
}


def history_frame(histories=HISTORIES, returns=(("A", "2024-07-30"),)) -> pd.DataFrame:
    rows = []
    for cust, days in histories.items():
        for i, day in enumerate(days):
            rows.append((f"{cust}{i}", day, cust, 1, "10.00", False))
    for i, (cust, day) in enumerate(returns):
        rows.append((f"{cust}r{i}", day, cust, -1, "-10.00", True))
    df = pd.DataFrame(
        rows, columns=["order_id", "order_ts", "customer_id", "quantity", "amount", "is_return"]
    )
    df["order_ts"] = pd.to_datetime(df["order_ts"], utc=True, format="mixed")
    df["line_number"] = 1
    df["product_id"] = "p1"
    df["unit_price"] = "10.00"
    return df


@pytest.fixture
def con():
    con = connect("duckdb://:memory:")
    yield con
    con.disconnect()


def stages(con, load_lines, rules=None, histories=HISTORIES, as_of=AS_OF) -> pd.DataFrame:
    lines = load_lines(con, history_frame(histories))
    out = lifecycle_stages(lines, as_of=as_of, rules=rules).execute()
    return out.set_index("customer_id").sort_index()


def test_every_stage_on_crafted_histories(con, load_lines):
    out = stages(con, load_lines)
    assert out.lifecycle_stage.to_dict() == dict(sorted(EXPECTED.items()))
    assert set(out.lifecycle_stage) == set(STAGES)


def test_typical_gap_is_the_median_of_own_gaps_between_purchase_days(con, load_lines):
    out = stages(con, load_lines)
    typical = out.typical_gap_days.to_dict()
    assert {c: typical[c] for c in "NLRKAQ"} == {
        "N": 2.0, "L": 31.0, "R": 202.5, "K": 10.0, "A": 30.0, "Q": 425.0,
    }  # fmt: skip
    assert all(pd.isna(typical[c]) for c in "OPB")
    assert out.purchase_days.to_dict()["B"] == 1  # two orders, one day
    assert out.recency_days.to_dict()["A"] == 31  # the return on 07-30 is not a purchase


def test_new_wins_over_at_risk(con, load_lines):
    # N bought 12 and 10 days ago, a 2-day gap: 10 > 1.5 x 2 days, yet a new customer.
    out = stages(con, load_lines, rules=LifecycleRules(new_days=12))
    assert out.lifecycle_stage["N"] == "new"
    out = stages(con, load_lines, rules=LifecycleRules(new_days=11))
    assert out.lifecycle_stage["N"] == "at_risk"


def test_a_comeback_older_than_the_window_is_not_reactivated(con, load_lines):
    out = stages(con, load_lines, rules=LifecycleRules(reactivated_days=21))
    assert out.lifecycle_stage["R"] == "active"  # 22 <= 1.5 x 202.5


def test_lapsed_wins_over_an_earlier_comeback(con, load_lines):
    histories = {"X": ["2023-01-01", "2023-09-01"], "Y": ["2024-07-01"]}
    # X came back after 243 days, 335 days ago: lapsed again, whatever the window.
    out = stages(con, load_lines, LifecycleRules(reactivated_days=400), histories)
    assert out.lifecycle_stage["X"] == "lapsed"


def test_without_repeat_buyers_the_fallback_gap_is_used(con, load_lines):
    histories = {"X": ["2024-06-01"], "Y": ["2024-07-25"]}
    # X: 61 days > 1.5 x 30 -> at risk; with a 50-day fallback 61 <= 75 -> active.
    out = stages(con, load_lines, LifecycleRules(), histories)
    assert out.lifecycle_stage.to_dict() == {"X": "at_risk", "Y": "new"}
    out = stages(con, load_lines, LifecycleRules(fallback_gap_days=50), histories)
    assert out.lifecycle_stage.to_dict() == {"X": "active", "Y": "new"}


def test_only_history_before_as_of_is_used(con, load_lines):
    # As of 2024-07-05, R has not come back yet: last purchase 2023-07-01, 370 days -> lapsed.
    out = stages(con, load_lines, as_of="2024-07-05")
    assert out.lifecycle_stage["R"] == "lapsed"
    assert "N" not in out.index


def test_shipped_rules_file_matches_the_documented_defaults():
    rules = LifecycleRules.default()
    assert (rules.new_days, rules.lapsed_days, rules.reactivated_days) == (30, 180, 90)
    assert (rules.at_risk_factor, rules.fallback_gap_days) == (1.5, 30)
    assert set(STAGE_LABELS_ZH) == set(STAGES)


def test_rules_from_a_user_file_keep_defaults_for_missing_keys(tmp_path):
    path = tmp_path / "life.toml"
    path.write_text("lapsed_days = 365\nat_risk_factor = 2\n", encoding="utf-8")
    rules = LifecycleRules.from_toml(path)
    assert (rules.new_days, rules.lapsed_days, rules.at_risk_factor) == (30, 365, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"new_days": 0}, r"new_days 0 is not valid"),
        ({"lapsed_days": 12.5}, r"lapsed_days 12.5 is not valid"),
        ({"reactivated_days": True}, r"reactivated_days True is not valid"),
        ({"at_risk_factor": -1}, r"at_risk_factor -1 is not valid"),
        ({"fallback_gap_days": float("nan")}, r"fallback_gap_days nan is not valid"),
        ({"new_days": 200, "lapsed_days": 180}, r"lapsed_days 180 must be greater than new_days"),
    ],
)
def test_bad_rules_are_rejected(kwargs, message):
    with pytest.raises(InputError, match=message):
        LifecycleRules(**kwargs)


def test_bad_rule_files_are_rejected(tmp_path):
    with pytest.raises(InputError, match=r"unknown key\(s\) lapse_days"):
        LifecycleRules.from_text("lapse_days = 100\n")
    with pytest.raises(InputError, match="not valid TOML"):
        LifecycleRules.from_text("new_days = = 3\n")
    with pytest.raises(InputError, match="does not exist"):
        LifecycleRules.from_toml(tmp_path / "none.toml")


def test_as_of_before_the_first_order_is_rejected(con, load_lines):
    lines = load_lines(con, history_frame())
    with pytest.raises(InputError, match=r"as_of 2022-01-01 is before the first order"):
        lifecycle_stages(lines, as_of="2022-01-01")


@pytest.mark.parametrize("dated", [False, True], ids=["dates per line", "order_date_utc"])
def test_an_order_whose_lines_fall_on_two_days_counts_both_days(con, load_lines, dated):
    # Order S0 has purchase lines at 23:50 on 06-10 and 00:10 on 06-11 (UTC): both are purchase
    # days; with S1 on 06-21 the gaps are 1 and 10 days. RFM still counts two orders.
    df = history_frame({"S": ["2024-06-10 23:50", "2024-06-11 00:10", "2024-06-21 10:00"]}, ())
    df.loc[df.order_id == "S1", "order_id"] = "S0"
    lines = load_lines(con, df)
    if dated:
        lines = with_order_date(lines)
    out = lifecycle_stages(lines, as_of=AS_OF).execute().set_index("customer_id")
    assert out.loc["S", "purchase_days"] == 3
    assert out.loc["S", "typical_gap_days"] == 5.5
    assert str(out.loc["S", "first_purchase_day"])[:10] == "2024-06-10"
    assert out.loc["S", "recency_days"] == 41
    metrics = rfm_metrics(lines, as_of=AS_OF).execute().set_index("customer_id")
    assert metrics.loc["S", "frequency"] == 2
    assert metrics.loc["S", "recency_days"] == 41


@pytest.mark.parametrize("dated", [False, True], ids=["dates per line", "order_date_utc"])
def test_a_customer_with_an_order_over_two_days_among_others(con, load_lines, dated):
    # X buys on 05-01 (order X0), then order X1 has purchase lines on 05-02 and 07-25: purchase
    # days 05-01, 05-02, 07-25, gaps 1 and 84, typical gap 42.5, recency 7: active (taking only
    # X1's first day, the typical gap would be 1 and the recency 91: at risk). With X the repeat
    # buyers' typical gaps are 2, 10, 30, 31, 42.5, 202.5, 425: population gap 31, at-risk
    # threshold 46.5, so Z (one purchase 46 days ago) is active (at risk with 30, from X's 1).
    histories = {**HISTORIES, "X": ["2024-05-01", "2024-05-02", "2024-07-25"], "Z": ["2024-06-16"]}
    df = history_frame(histories)
    df.loc[df.order_id == "X2", "order_id"] = "X1"
    lines = load_lines(con, df)
    if dated:
        lines = with_order_date(lines)
    out = lifecycle_stages(lines, as_of=AS_OF).execute().set_index("customer_id")
    x = out.loc["X"]
    assert (x.purchase_days, x.typical_gap_days, x.recency_days) == (3, 42.5, 7)
    assert str(x.last_purchase_day)[:10] == "2024-07-25"
    expected = dict(sorted({**EXPECTED, "X": "active", "Z": "active"}.items()))
    assert out.lifecycle_stage.sort_index().to_dict() == expected
    scores = customer_scores(lines, as_of=AS_OF).execute().set_index("customer_id")
    assert scores.loc["X", "frequency"] == 2
    assert scores.loc["X", "recency_days"] == 7
    assert scores.lifecycle_stage.sort_index().to_dict() == expected
