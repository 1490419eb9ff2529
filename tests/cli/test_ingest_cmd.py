"""``omnicrm ingest``: JSON shape, the summary table, and clear errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from omnicrm.cli.main import main

PRODUCTS = "product_id,name,category,unit_price\nP1,Milk,Dairy,3.50\nP2,Tea,Drinks,-1\n"


@pytest.fixture
def files(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(PRODUCTS)
    b = tmp_path / "b.csv"
    b.write_text("product_id,name,category\nP1,Milk,Dairy\nP3,Rice,Grain\n")
    return tmp_path, a, b


def test_json_output_is_one_object_with_totals_and_files(files, capsys):
    tmp, a, b = files
    code = main(
        [
            "ingest",
            str(a),
            str(b),
            "--table",
            "products",
            "--json",
            "--warehouse",
            f"duckdb:///{tmp / 'wh.duckdb'}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)  # exactly one JSON document on stdout
    assert {"read", "loaded", "quarantined", "duplicates", "files", "run_id"} <= set(result)
    assert (result["read"], result["loaded"], result["quarantined"], result["duplicates"]) == (
        4,
        2,
        1,
        1,
    )
    assert [
        (f["file"], f["read"], f["loaded"], f["quarantined"], f["duplicates"])
        for f in result["files"]
    ] == [(str(a), 2, 1, 1, 0), (str(b), 2, 1, 0, 1)]
    for f in [result, *result["files"]]:
        assert f["read"] == f["loaded"] + f["quarantined"] + f["duplicates"]


def test_summary_table_and_mapping_option(files, capsys):
    tmp, a, _ = files
    mapping = tmp / "m.toml"
    mapping.write_text('table = "products"\n[constants]\nbrand = "Acme"\n')
    code = main(
        [
            "ingest",
            str(a),
            "-t",
            "products",
            "-m",
            str(mapping),
            "-w",
            f"duckdb:///{tmp / 'wh.duckdb'}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Ingest into products" in out
    assert "quarantined" in out
    assert "1 rows quarantined: see the quarantine table" in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "nope"], "error: unknown table 'nope': choose one of customers"),
        (["--table", "products", "--mapping", "{tmp}/none.toml"], "error: mapping file not found"),
        (["--table", "order_lines"], "error: {tmp}/a.csv has no column for required order_id"),
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(files, capsys, args, message):
    tmp, a, _ = files
    args = [a.replace("{tmp}", str(tmp)) for a in args]
    code = main(["ingest", str(a), *args, "-w", f"duckdb:///{tmp / 'wh.duckdb'}"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert message.replace("{tmp}", str(tmp)) in err
    assert "Traceback" not in err


def test_missing_file_and_unsupported_type(files, capsys):
    tmp, _, _ = files
    (tmp / "x.xls").write_text("x")
    for name, message in [
        ("missing.csv", "error: file not found"),
        ("x.xls", "error: unsupported file type 'x.xls'"),
    ]:
        code = main(
            ["ingest", str(tmp / name), "-t", "products", "-w", f"duckdb:///{tmp / 'wh.duckdb'}"]
        )
        assert code == 2
        assert message in " ".join(capsys.readouterr().err.split())
