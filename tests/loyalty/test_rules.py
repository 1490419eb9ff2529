"""Rules files: the packaged defaults load; overrides replace files; bad values are explained."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from omnicrm.errors import InputError
from omnicrm.loyalty.rules import ExpiryRule, load_rules

from .conftest import write_rules

TIERS_SPEND = """
[qualification]
metric = "spend"
period = "calendar_year"
grace_days = 0

[[tiers]]
code = "member"
threshold = "0"

[[tiers]]
code = "vip"
threshold = "5000.00"
earn_multiplier = "2"
member_prices = true
"""


def test_packaged_defaults_define_three_tiers_bonus_events_and_rewards():
    rules = load_rules()
    assert [t.code for t in rules.tiers.tiers] == ["silver", "gold", "diamond"]
    assert rules.tiers.get("diamond").member_prices is True
    assert set(rules.earning.bonuses) == {
        "sign_in",
        "review",
        "referral",
        "birthday",
        "first_purchase",
    }
    assert rules.rewards["CASH10"].value is not None
    assert str(rules.rewards["CASH10"].value) == "10.00"


def test_a_rules_folder_replaces_only_the_files_it_contains(tmp_path):
    folder = write_rules(tmp_path / "rules", "tiers.toml", TIERS_SPEND.replace('"vip"', '"gold"'))
    rules = load_rules(folder)
    assert [t.code for t in rules.tiers.tiers] == ["member", "gold"]
    assert rules.tiers.metric == "spend"
    assert "CASH10" in rules.rewards  # rewards.toml still from the package


def test_files_are_checked_against_each_other(tmp_path):
    # the packaged rewards.toml has a reward for gold and above; these tiers have no gold
    with pytest.raises(InputError, match=r"tier 'gold' is not defined in tiers\.toml"):
        load_rules(write_rules(tmp_path, "tiers.toml", TIERS_SPEND))


def test_the_rules_folder_can_come_from_the_environment(tmp_path, monkeypatch):
    text = TIERS_SPEND.replace('"vip"', '"gold"')
    monkeypatch.setenv("OMNICRM_LOYALTY_RULES", str(write_rules(tmp_path, "tiers.toml", text)))
    assert load_rules().tiers.base.code == "member"


def test_missing_rules_folder_is_explained(tmp_path):
    with pytest.raises(InputError, match="does not exist; point OMNICRM_LOYALTY_RULES"):
        load_rules(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TIERS_SPEND.replace('metric = "spend"', 'metric = "visits"'),
            r"metric = 'visits' is invalid; choose one of qualifying_points, spend",
        ),
        (
            TIERS_SPEND.replace('threshold = "5000.00"', 'threshold = "0"'),
            r"tier 'vip' threshold 0 is not above 'member'",
        ),
        (
            TIERS_SPEND.replace('threshold = "5000.00"', "threshold = 5000.5"),
            r'write decimals as strings, e.g. threshold = "5000.5"',
        ),
        (
            TIERS_SPEND.replace(
                'code = "member"\nthreshold = "0"', 'code = "member"\nthreshold = "10"'
            ),
            r"the entry tier must have threshold = \"0\"",
        ),
        ("[qualification\n", r"not valid TOML"),
    ],
)
def test_bad_tier_files_name_the_key_the_value_and_the_fix(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load_rules(write_rules(tmp_path, "tiers.toml", text))


def test_reward_with_unknown_min_tier_is_refused(tmp_path):
    text = (
        '[[rewards]]\ncode = "X"\nkind = "cash_off"\npoints = 10\nvalue = "1.00"\n'
        'min_tier = "platinum"\n'
    )
    with pytest.raises(InputError, match="tier 'platinum' is not defined"):
        load_rules(write_rules(tmp_path, "rewards.toml", text))


def test_reward_money_with_three_decimals_is_refused(tmp_path):
    text = '[[rewards]]\ncode = "X"\nkind = "cash_off"\npoints = 10\nvalue = "1.005"\n'
    with pytest.raises(InputError, match="money has at most 2 decimal places"):
        load_rules(write_rules(tmp_path, "rewards.toml", text))


def test_unknown_bonus_event_is_refused(tmp_path):
    earning = (load_rules.__globals__["DEFAULTS_DIR"] / "earning.toml").read_text()
    text = earning + "\n[bonus.anniversary]\npoints = 5\n"
    with pytest.raises(InputError, match="bonus events are sign_in, review"):
        load_rules(write_rules(tmp_path, "earning.toml", text))


def test_lots_expire_at_the_end_of_the_month_24_months_later_in_local_time():
    rule = ExpiryRule(months=24, round_to="month_end")
    shanghai = ZoneInfo("Asia/Shanghai")
    # 2026-01-31 23:30 UTC is already 1 February in Shanghai
    earned = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    assert rule.expires_at(earned, shanghai) == dt.datetime(2028, 3, 1, tzinfo=shanghai)


def test_day_expiry_clamps_to_the_last_day_of_a_short_month():
    rule = ExpiryRule(months=1, round_to="day")
    earned = dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)
    assert rule.expires_at(earned, ZoneInfo("UTC")) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_expiry_months_are_required(tmp_path):
    earning = (load_rules.__globals__["DEFAULTS_DIR"] / "earning.toml").read_text()
    text = earning.replace("months = 24 ", "# months = 24 ")
    with pytest.raises(InputError, match=r"\[expiry\]: months is missing; add months = 24"):
        load_rules(write_rules(tmp_path, "earning.toml", text))
