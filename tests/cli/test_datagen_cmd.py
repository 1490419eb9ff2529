"""omnicrm datagen: writes a retailer, prints a summary or the manifest, refuses bad flags."""

from __future__ import annotations

import json

import pytest

from omnicrm.cli.main import main


def test_datagen_writes_the_files_and_prints_the_manifest_as_json(tmp_path, capsys):
    out = tmp_path / "data"
    code = main(
        [
            "datagen",
            "--customers",
            "120",
            "--days",
            "35",
            "--seed",
            "3",
            "--out",
            str(out),
            "--end-date",
            "2025-12-31",
            "--json",
        ]
    )
    assert code == 0
    manifest = json.loads(capsys.readouterr().out)
    assert [f["table"] for f in manifest["files"]][:3] == ["stores", "products", "customers"]
    assert manifest["arguments"] == {
        "customers": 120,
        "days": 35,
        "seed": 3,
        "dirty": 0.0,
        "end_date": "2025-12-31",
    }
    for entry in manifest["files"]:
        assert (out / entry["file"]).exists()
    assert (out / "truth.csv").exists()


def test_datagen_prints_a_summary_table_with_fault_counts(tmp_path, capsys):
    code = main(
        ["datagen", "--customers", "80", "--days", "30", "--dirty", "0.1", "--out", str(tmp_path)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "order_lines.csv.gz" in out
    assert "faults injected:" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["faults_total"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers must be at least 1, got 0"),
        (["--days", "7"], "--days must be at least 28"),
        (["--dirty", "0.9"], "--dirty must be a fraction between 0 and 0.5"),
        (["--end-date", "30/06/2026"], "--end-date '30/06/2026' is not a date: use YYYY-MM-DD"),
    ],
)
def test_bad_flags_exit_2_with_one_clear_message(tmp_path, capsys, args, message):
    code = main(["datagen", "--out", str(tmp_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_an_unwritable_out_folder_exits_2(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    assert main(["datagen", "--customers", "10", "--out", str(blocker / "x")]) == 2
    assert "is not a writable folder" in " ".join(capsys.readouterr().err.split())
