"""Integration: every file of the synthetic retailer (``omnicrm datagen --dirty``) loads with
its mapping, and each injected fault is quarantined or skipped as a duplicate — no more."""

from __future__ import annotations

import json

import pytest

from omnicrm.datagen import generate
from omnicrm.ingest import ingest_file
from omnicrm.warehouse import connect


@pytest.mark.slow
def test_dirty_synthetic_retailer_loads_and_every_fault_is_accounted_for(tmp_path):
    out = generate(tmp_path / "data", customers=300, days=45, seed=7, dirty=0.05)
    manifest = json.loads(out.manifest_path.read_text())
    con = connect(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    folder = out.manifest_path.parent
    for entry in manifest["files"]:
        mapping = folder / entry["mapping"] if entry.get("mapping") else None
        r = ingest_file(con, folder / entry["file"], table=entry["table"], mapping=mapping)
        faults = entry["faults"]
        assert r.read == entry["rows"], entry["file"]
        assert r.read == r.loaded + r.quarantined + r.duplicates
        assert r.quarantined + r.duplicates == sum(faults.values()), (entry["file"], faults, r)
        assert r.duplicates <= faults.get("duplicate_row", 0)
    con.disconnect()
