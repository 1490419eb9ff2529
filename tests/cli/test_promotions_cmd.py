"""omnicrm promotions load/list, coupons generate, loyalty export."""

from __future__ import annotations

import csv
import json

import pytest

from omnicrm.cli.main import main
from omnicrm.warehouse import connect

PROMOTIONS = """
[[promotions]]
id = "MJ200"
name = "Spend 200 save 30"
budget = "1000.00"
condition = { min_spend = "200" }
benefit = { type = "spend_save", every = "200", save = "30" }

[[promotions]]
id = "VIP"
requires_code = true
benefit = { type = "percent_off", percent = "10" }
"""


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    monkeypatch.setenv("OMNICRM_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    return url


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_load_list_generate_and_export(db, tmp_path, capsys):
    path = tmp_path / "promotions.toml"
    path.write_text(PROMOTIONS, encoding="utf-8")
    capsys.readouterr()
    assert run(capsys, "promotions", "load", str(path)) == (
        0,
        f"loaded 2 promotion(s) from {path}\n",
        "",
    )
    code, out, _ = run(capsys, "promotions", "list", "--json")
    assert code == 0
    assert [(p["id"], p["budget"]) for p in json.loads(out)] == [
        ("MJ200", "1000.00"),
        ("VIP", None),
    ]
    out_file = tmp_path / "codes.csv"
    code, out, _ = run(
        capsys,
        "coupons",
        "generate",
        "VIP",
        "--count",
        "25",
        "--prefix",
        "VIP",
        "--out",
        str(out_file),
    )
    assert code == 0
    assert out.startswith("wrote 25 code(s) of batch B")
    with out_file.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["code"] for r in rows}) == 25
    assert all(r["code"].startswith("VIP-") for r in rows)
    code, out, _ = run(capsys, "coupons", "generate", "VIP", "--out", str(out_file))
    assert code == 2
    warehouse = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    code, out, _ = run(capsys, "loyalty", "export", "--warehouse", warehouse, "--json")
    assert code == 0
    assert json.loads(out)["loyalty_promotions"] == 2
    con = connect(warehouse)
    assert con.table("loyalty_promotions").count().execute() == 2
    con.disconnect()


def test_bad_files_and_duplicates_are_clear_errors(db, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[promotions]]\nid = "X"\nbenefit = { type = "free" }\n', encoding="utf-8")
    capsys.readouterr()
    code, _, err = run(capsys, "promotions", "load", str(bad))
    assert code == 2
    assert "benefit type 'free' is unknown" in err
    good = tmp_path / "good.toml"
    good.write_text(PROMOTIONS, encoding="utf-8")
    assert run(capsys, "promotions", "load", str(good))[0] == 0
    code, _, err = run(capsys, "promotions", "load", str(good))
    assert code == 2
    assert "promotion 'MJ200' already exists" in err
    assert run(capsys, "promotions", "load", str(good), "--replace")[0] == 0
    code, _, err = run(capsys, "coupons", "generate", "NOPE")
    assert code == 2
    assert "promotion 'NOPE' does not exist" in err
