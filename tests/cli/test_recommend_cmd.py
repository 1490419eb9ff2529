"""``omnicrm recommend`` and ``omnicrm basket-rules``: tables and JSON, built on demand."""

from __future__ import annotations

import json
import shutil

import pytest

from omnicrm.cli.main import main


@pytest.fixture(scope="module")
def url(small_retailer, tmp_path_factory):
    """A warehouse copy where recommendations and rules get built once (first command)."""
    path = tmp_path_factory.mktemp("recommend_cli") / "w.duckdb"
    shutil.copy(small_retailer, path)
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def a_buyer(url):
    from omnicrm.warehouse import connect

    con = connect(url)
    lines = con.table("order_lines")
    buyer = (
        lines.filter((lines.quantity > 0) & lines.customer_id.notnull())
        .group_by("customer_id")
        .aggregate(n=lines.order_id.nunique())
        .order_by([ibis_desc("n"), "customer_id"])
        .limit(1)
        .to_pandas()["customer_id"]
        .iloc[0]
    )
    con.disconnect()
    return buyer


def ibis_desc(name):
    import ibis

    return ibis.desc(name)


def test_recommend_builds_the_table_then_answers_in_json(url, a_buyer, capsys):
    assert main(["recommend", a_buyer, "--k", "4", "--warehouse", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["customer_id"] == a_buyer
    assert out["cold_start"] is False
    recs = out["recommendations"]
    assert [r["rank"] for r in recs] == [1, 2, 3, 4]
    assert all(r["reason"] and r["item_name"] for r in recs)
    assert out["note"] is None


def test_recommend_prints_a_table_with_reasons(url, a_buyer, capsys):
    assert main(["recommend", a_buyer, "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert f"Recommendations for {a_buyer}" in out
    assert "why" in out


def test_unknown_customer_gets_flagged_cold_start(url, capsys):
    assert main(["recommend", "NO-SUCH-ID", "--k", "3", "--warehouse", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cold_start"] is True
    assert len(out["recommendations"]) == 3
    assert out["note"].startswith("unknown customer")
    assert all(r["reason"].startswith("popular") for r in out["recommendations"])


def test_more_than_stored_says_how_to_get_more(url, a_buyer, capsys):
    main(["recommend", a_buyer, "--warehouse", url, "--json"])  # make sure it is built
    capsys.readouterr()
    assert main(["recommend", a_buyer, "--k", "12", "--warehouse", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["recommendations"]) == 10
    assert "--refresh --k 12" in out["note"]


def test_basket_rules_by_level(url, capsys):
    assert main(["basket-rules", "--top", "3", "--warehouse", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["level"] == "product"
    lifts = [r["lift"] for r in out["rules"]]
    assert len(lifts) == 3
    assert lifts == sorted(lifts, reverse=True)
    assert main(["basket-rules", "--level", "category", "--top", "2", "--warehouse", url]) == 0
    printed = capsys.readouterr().out
    assert "Top 2 category rules" in printed
    assert "if the basket has" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["recommend", "X", "--k", "0"], "--k 0 is not a positive whole number"),
        (["basket-rules", "--top", "-1"], "--top -1 is not a positive whole number"),
        (["basket-rules", "--level", "brand"], "--level 'brand' is not product or category"),
    ],
)
def test_bad_flags_are_one_line_errors(url, argv, message, capsys):
    assert main([*argv, "--warehouse", url]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_empty_warehouse_says_what_to_load(tmp_path, capsys):
    assert main(["recommend", "X", "--warehouse", f"duckdb:///{tmp_path / 'e.duckdb'}"]) == 2
    assert "no order_lines table" in capsys.readouterr().err


def test_as_of_rebuilds_from_earlier_sales(url, a_buyer, capsys):
    assert main(["basket-rules", "--as-of", "2000-01-01", "--warehouse", url]) == 2
    assert "no basket before as_of 2000-01-01" in capsys.readouterr().err
