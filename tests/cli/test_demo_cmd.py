"""``omnicrm demo`` runs the whole chain at small size: generate, ingest, analyze, report."""

from __future__ import annotations

import json

import pytest

from omnicrm.cli.main import main
from omnicrm.warehouse import connect


@pytest.mark.slow
def test_demo_end_to_end_at_small_size(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--customers", "300", "--days", "120", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "report:" in printed

    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ('id="data"', 'id="kpis"', 'id="customers"', 'id="cohorts"'):
        assert section in html

    manifest = json.loads((out / "data" / "manifest.json").read_text(encoding="utf-8"))
    con = connect(f"duckdb:///{out / 'omnicrm.duckdb'}", read_only=True)
    runs = con.table("ingest_runs").execute()
    assert len(runs) == len(manifest["files"])
    # every row read is accounted for: loaded + quarantined + duplicates
    assert (runs.rows_read == runs.rows_loaded + runs.rows_quarantined + runs.rows_duplicate).all()
    assert con.table("customer_scores").count().execute() > 0
    con.disconnect()


def test_demo_rejects_a_bad_size_with_a_clear_message(tmp_path, capsys):
    assert main(["demo", "--customers", "0", "--out", str(tmp_path)]) == 2
    assert "customers" in capsys.readouterr().err
