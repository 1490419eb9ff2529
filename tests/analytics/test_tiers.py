"""Value tiers: top 1% / top 10% / rest by spend, exact shares, ties, and tier files."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import ibis
import pytest

from omnicrm.analytics.tiers import ValueTiers, value_tiers
from omnicrm.errors import InputError


def spend(values) -> ibis.Table:
    return ibis.memtable(
        {"customer_id": [f"c{i:04d}" for i in range(len(values))], "monetary": values}
    )


def tier_counts(table: ibis.Table, tiers: ValueTiers | None = None) -> dict[str, int]:
    out = value_tiers(table, tiers).execute()
    return out.value_tier.value_counts().to_dict()


def test_shipped_tiers_are_top_1_top_10_rest():
    tiers = ValueTiers.default()
    assert [(t.name, t.top_share) for t in tiers.tiers] == [
        ("top_1", Fraction(1, 100)),
        ("top_10", Fraction(1, 10)),
        ("rest", Fraction(1)),
    ]
    assert tiers.labels("zh")["top_1"] == "前1%客户"


def test_250_customers_split_3_22_225():
    # top 1% of 250 = positions < 2.5 -> 3 customers; top 10% = positions < 25 -> 25 in all.
    assert tier_counts(spend(list(range(250)))) == {"top_1": 3, "top_10": 22, "rest": 225}


def test_shares_are_exact_not_floating_point():
    # 0.1 * 30 is 3.0000000000000004 in floating point; the top 10% of 30 is exactly 3.
    assert tier_counts(spend(list(range(30)))) == {"top_1": 1, "top_10": 2, "rest": 27}


def test_tied_customers_share_a_tier():
    # Two customers tie for the top spend: both are position 0, both top 1%.
    out = value_tiers(spend([Decimal("500.00"), Decimal("500.00")] + [Decimal(1)] * 198))
    top = out.filter(out.value_tier == "top_1").customer_id.execute().tolist()
    assert sorted(top) == ["c0000", "c0001"]


def test_the_best_customer_is_top_1_even_with_few_customers():
    out = value_tiers(spend([10, 50, 30])).execute().set_index("customer_id")
    assert out.value_tier.to_dict() == {"c0000": "rest", "c0001": "top_1", "c0002": "rest"}


def test_rank_by_another_column():
    t = ibis.memtable({"customer_id": ["a", "b"], "monetary": [1, 9], "visits": [9, 1]})
    out = value_tiers(t, by="visits").execute().set_index("customer_id")
    assert out.value_tier.to_dict() == {"a": "top_1", "b": "rest"}
    with pytest.raises(InputError, match=r"lacks column.*clv"):
        value_tiers(t, by="clv")


def test_tiers_from_a_user_file(tmp_path):
    path = tmp_path / "tiers.toml"
    path.write_text(
        '[[tiers]]\nname = "gold"\nlabel_zh = "金卡"\ntop_share = 0.2\n'
        '[[tiers]]\nname = "others"\ntop_share = 1\n',
        encoding="utf-8",
    )
    tiers = ValueTiers.from_toml(path)
    assert tier_counts(spend(list(range(10))), tiers) == {"gold": 2, "others": 8}
    assert tiers.labels() == {"gold": "gold", "others": "others"}
    assert tiers.labels("zh") == {"gold": "金卡", "others": "others"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[tiers]]\nname = "a"\ntop_share = 0.5\n', r"last tier 'a' has top_share 0.5"),
        (
            '[[tiers]]\nname = "a"\ntop_share = 0.5\n[[tiers]]\nname = "b"\ntop_share = 0.2\n'
            '[[tiers]]\nname = "c"\ntop_share = 1\n',
            r"tier 'b' has top_share 0.2; shares must increase",
        ),
        (
            '[[tiers]]\nname = "a"\ntop_share = 0.5\n[[tiers]]\nname = "a"\ntop_share = 1\n',
            r"tier name\(s\) a used twice",
        ),
        ('[[tiers]]\nname = "a"\ntop_share = "most"\n', r"top_share 'most' is not a number"),
        ('[[tiers]]\nname = "a"\ntop_share = true\n', r"top_share True is not a number"),
        ('[[tiers]]\nname = "a"\ntop_share = 0\n', r"tier 'a' has top_share 0;"),
        ("[[tiers]]\ntop_share = 1\n", r"tier 1 has no name"),
        ('tiers = "x"\n', r"no \[\[tiers\]\] array"),
        ("[[tiers]\n", r"not valid TOML"),
    ],
)
def test_bad_tier_files_are_rejected(text, message):
    with pytest.raises(InputError, match=message):
        ValueTiers.from_text(text, source="t.toml")


def test_missing_file_and_empty_list():
    with pytest.raises(InputError, match="does not exist"):
        ValueTiers.from_toml("/nonexistent/tiers.toml")
    with pytest.raises(InputError, match="no tiers given"):
        ValueTiers.from_records([])
    with pytest.raises(InputError, match="language 'de'"):
        ValueTiers.default().labels("de")


def test_rank_among_the_customers_of_another_table():
    # Customers spending 0..4 ranked among 100 customers spending 0..99: positions 95..99,
    # none in the top 10; ranked among themselves, the one spending 4 is top 1%.
    few, many = spend(list(range(5))), spend(list(range(100)))
    assert set(value_tiers(few, ranked=many).value_tier.execute()) == {"rest"}
    assert tier_counts(few) == {"top_1": 1, "rest": 4}
    # a table built from the ranked one by adding columns gets the same tiers
    wider = many.mutate(double=many.monetary * 2)

    def tiers_of(out: ibis.Table) -> dict[str, str]:
        return out.execute().set_index("customer_id").value_tier.to_dict()

    assert tiers_of(value_tiers(wider, ranked=many)) == tiers_of(value_tiers(many))
    with pytest.raises(InputError, match=r"ranked customers lacks column.*monetary"):
        value_tiers(few, ranked=many.select("customer_id"))
