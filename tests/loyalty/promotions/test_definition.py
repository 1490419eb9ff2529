"""Promotions as data: TOML and JSON files, validation messages naming key, value and fix."""

from __future__ import annotations

import json

import pytest

from omnicrm.errors import InputError
from omnicrm.loyalty.promotions.definition import load_promotions, parse_promotion

TOML = """
[[promotions]]
id = "SPRING-200-30"
name = "Spend 200 save 30"
priority = 10
group = "basket"
starts_at = 2026-03-01T00:00:00+08:00
ends_at = 2026-04-01T00:00:00+08:00
budget = "50000.00"
max_uses = 10000
per_customer = 1
condition = { categories = ["grocery"], min_spend = "200", channels = ["pos", "app"] }
benefit = { type = "spend_save", every = "200", save = "30" }

[[promotions]]
id = "DOUBLE"
benefit = { type = "points_multiplier", multiplier = "2" }
"""


def test_a_toml_file_defines_promotions_with_schedule_limits_and_rules(tmp_path):
    path = tmp_path / "promotions.toml"
    path.write_text(TOML, encoding="utf-8")
    spring, double = load_promotions(path)
    assert spring.id == "SPRING-200-30"
    assert spring.priority == 10
    assert spring.group == "basket"
    assert str(spring.budget) == "50000.00"
    assert spring.max_uses == 10000
    assert spring.starts_at.isoformat() == "2026-02-28T16:00:00+00:00"
    assert spring.line_range.categories == {"grocery"}
    assert [c.key for c in spring.conditions] == ["min_spend", "channels"]
    assert spring.spec["starts_at"] == "2026-02-28T16:00:00+00:00"
    assert json.loads(json.dumps(spring.spec)) == spring.spec
    assert double.benefit.type == "points_multiplier"


def test_a_json_file_is_read_the_same_way(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"id": "J1", "benefit": {"type": "amount_off", "amount": "5"}}]))
    assert [p.id for p in load_promotions(path)] == ["J1"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"id": "bad id!"}, "id = 'bad id!'; use 1-40 letters"),
        ({"id": "P"}, "promotion P: benefit is missing"),
        ({"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "colour": 1}, "unknown key"),
        (
            {"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "condition": {"sku": 1}},
            "condition key 'sku' is unknown; known keys: products, categories, brands",
        ),
        (
            {"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "ends_at": "2026-01-01"},
            "ends_at = .* needs a time zone",
        ),
        (
            {
                "id": "P",
                "benefit": {"type": "amount_off", "amount": "5"},
                "starts_at": "2026-02-01T00:00:00+00:00",
                "ends_at": "2026-01-01T00:00:00+00:00",
            },
            "is not after starts_at",
        ),
        ({"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "budget": "-1"}, "budget"),
        ({"id": "P", "benefit": {"type": "amount_off", "amount": "5"}, "per_customer": 0}, ">= 1"),
        (
            {
                "id": "P",
                "benefit": {"type": "amount_off", "amount": "5"},
                "condition": {"min_spend": 9.5},
            },
            "write money as a string",
        ),
    ],
)
def test_invalid_promotions_name_the_promotion_the_key_and_the_fix(spec, message):
    with pytest.raises(InputError, match=message):
        parse_promotion(spec)


def test_duplicate_ids_and_bad_syntax_in_a_file(tmp_path):
    dup = tmp_path / "dup.toml"
    body = '[[promotions]]\nid = "A"\nbenefit = { type = "amount_off", amount = "1" }\n'
    dup.write_text(body * 2)
    with pytest.raises(InputError, match="promotion id 'A' is defined twice"):
        load_promotions(dup)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[promotions]\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_promotions(broken)
    with pytest.raises(InputError, match="cannot be read"):
        load_promotions(tmp_path / "missing.toml")
