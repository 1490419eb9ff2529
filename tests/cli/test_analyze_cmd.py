"""``omnicrm analyze`` writes the score tables and reports them, as a table or as JSON."""

from __future__ import annotations

import json

from omnicrm.cli.main import main


def test_json_summary_lists_the_tables_written(retailer_warehouse, monkeypatch, capsys):
    monkeypatch.setenv("OMNICRM_DEMO", "1")
    url = f"duckdb:///{retailer_warehouse.con.execute('PRAGMA database_list').fetchall()[0][2]}"
    retailer_warehouse.disconnect()
    assert main(["analyze", "--warehouse", url, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"as_of", "tables", "seconds", "clusters", "notes"}
    assert summary["tables"]["customer_scores"] > 0
    assert summary["as_of"].endswith("+00:00")


def test_bad_as_of_is_one_line_error_not_a_traceback(retailer_warehouse, monkeypatch, capsys):
    monkeypatch.setenv("OMNICRM_DEMO", "1")
    url = f"duckdb:///{retailer_warehouse.con.execute('PRAGMA database_list').fetchall()[0][2]}"
    retailer_warehouse.disconnect()
    assert main(["analyze", "--warehouse", url, "--as-of", "31/12/2025"]) == 2
    err = capsys.readouterr().err
    assert "error: --as-of '31/12/2025' is not a date: use YYYY-MM-DD" in err
    assert "Traceback" not in err


def test_error_messages_keep_square_brackets(tmp_path, capsys):
    # "[source] format" must not be eaten as console markup
    target = tmp_path / "notes.docx"
    target.write_text("x")
    assert (
        main(
            [
                "ingest",
                str(target),
                "--table",
                "orders",
                "--warehouse",
                f"duckdb:///{tmp_path / 'w.duckdb'}",
            ]
        )
        == 2
    )
    assert "[source] format" in capsys.readouterr().err


def test_no_models_refreshes_segments_and_kpis_and_the_report_still_renders(
    retailer_warehouse, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("OMNICRM_DEMO", "1")
    url = f"duckdb:///{retailer_warehouse.con.execute('PRAGMA database_list').fetchall()[0][2]}"
    retailer_warehouse.disconnect()
    assert main(["analyze", "--warehouse", url, "--no-models", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tables"]["customer_scores"] > 0
    assert summary["tables"]["kpi_daily"] > 0
    assert "clv_holdout" not in summary["tables"]
    out = tmp_path / "report.html"
    assert main(["report", "--warehouse", url, "--out", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert out.stat().st_size > 100_000
