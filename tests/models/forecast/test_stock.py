"""Safety stock, reorder point and order quantity: exact values for hand-worked scenarios."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.forecast.stock import (
    StockPolicies,
    StockPolicy,
    load_policies,
    stock_suggestions,
    z_value,
)

FC = pd.DataFrame(
    {
        "unique_id": ["milk"] * 7 + ["toy"] * 7,
        "ds": list(pd.date_range("2024-01-01", periods=7)) * 2,
        "yhat": [10, 12, 14, 10, 10, 30, 20, 1, 0, 1, 0, 1, 0, 1.0],
        "yhat_hi_95": [10 + 1.959964 * 3] * 7 + [2.0] * 7,
    }
)
SIGMA = pd.DataFrame({"unique_id": ["milk", "toy"], "sigma": [3.0, 0.5]})
CATS = pd.DataFrame({"unique_id": ["milk", "toy"], "category": ["Dairy", "Toys"]})


def test_three_day_lead_time_at_95_percent():
    pol = StockPolicies(StockPolicy(lead_time_days=3, service_level=0.95))
    s = stock_suggestions(FC, SIGMA, policies=pol).set_index("unique_id")
    z = 1.6448536269514722
    assert s.loc["milk", "lead_time_demand"] == 36.0  # 10 + 12 + 14
    assert s.loc["milk", "safety_stock"] == round(z * 3 * math.sqrt(3), 3)  # 8.547
    assert s.loc["milk", "reorder_point"] == round(36 + z * 3 * math.sqrt(3), 3)
    assert s.loc["milk", "order_quantity"] == 45.0  # ceil(44.547), nothing on hand


def test_fractional_lead_time_takes_part_of_the_next_day():
    pol = StockPolicies(StockPolicy(lead_time_days=2.5, service_level=0.5))
    s = stock_suggestions(FC, SIGMA, policies=pol).set_index("unique_id")
    assert s.loc["milk", "lead_time_demand"] == 29.0  # 10 + 12 + 0.5 * 14
    assert s.loc["milk", "safety_stock"] == 0.0  # z(0.5) = 0


def test_review_period_extends_the_protection_interval():
    pol = StockPolicies(StockPolicy(lead_time_days=2, review_period_days=3, service_level=0.5))
    s = stock_suggestions(FC, SIGMA, policies=pol).set_index("unique_id")
    assert s.loc["milk", "protection_periods"] == 5
    assert s.loc["milk", "lead_time_demand"] == 56.0


def test_on_hand_on_order_and_pack_size():
    pol = StockPolicies(StockPolicy(lead_time_days=3, service_level=0.5, pack_size=12))
    oh = pd.DataFrame({"unique_id": ["milk", "toy"], "on_hand": [10, 5], "on_order": [2, 0]})
    s = stock_suggestions(FC, SIGMA, policies=pol, on_hand=oh).set_index("unique_id")
    assert s.loc["milk", "order_quantity"] == 24.0  # need 36 - 12 = 24: 2 packs
    assert s.loc["toy", "order_quantity"] == 0.0  # 2 needed, 5 on hand


def test_per_category_policies_from_toml(tmp_path):
    path = tmp_path / "stock.toml"
    path.write_text(
        "[default]\nlead_time_days = 7\nservice_level = 0.9\n\n"
        "[category.Dairy]\nlead_time_days = 2\nservice_level = 0.99\n"
    )
    pols = load_policies(path)
    s = stock_suggestions(FC, SIGMA, policies=pols, categories=CATS).set_index("unique_id")
    assert s.loc["milk", "lead_time_days"] == 2
    assert s.loc["milk", "service_level"] == 0.99
    assert s.loc["toy", "lead_time_days"] == 7
    assert s.loc["toy", "service_level"] == 0.9
    assert s.loc["milk", "safety_stock"] == round(z_value(0.99) * 3 * math.sqrt(2), 3)
    assert s.loc["toy", "lead_time_demand"] == 4.0


def test_sigma_from_the_interval():
    pol = StockPolicies(StockPolicy(lead_time_days=1, service_level=0.975))
    s = stock_suggestions(FC, SIGMA, policies=pol, sigma_source="interval").set_index("unique_id")
    assert s.loc["milk", "sigma"] == pytest.approx(3.0, abs=1e-5)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[default]\nlead_time_days = -1\n", "lead_time_days=-1"),
        ("[default]\nservice_level = 1.2\n", "service_level=1.2"),
        ("[default]\nlead_days = 3\n", "unknown settings"),
        ("[defaults]\n", "unknown tables"),
        ("[category.Dairy]\npack_size = 'six'\n", "must be a number"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_bad_policy_files(tmp_path, text, match):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_policies(path)


def test_lead_time_beyond_horizon_is_refused():
    with pytest.raises(InputError, match="longer than the forecast horizon"):
        stock_suggestions(FC, SIGMA, policies=StockPolicies(StockPolicy(lead_time_days=10)))


def test_missing_sigma_is_refused():
    with pytest.raises(InputError, match="no sigma for series 'toy'"):
        stock_suggestions(FC, SIGMA.iloc[:1])
