"""The churn features and labels compile and agree on PostgreSQL."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from omnicrm.models.churn import ChurnTables, churn_features, churn_labels

AS_OF = "2025-02-20"


@pytest.mark.postgres
def test_features_and_labels_match_duckdb(postgres_url, crafted_tables):
    from omnicrm.warehouse import connect

    con = connect(postgres_url)
    suffix = uuid.uuid4().hex[:8]
    names = {}
    try:
        for role in ("lines", "products", "events", "feedback"):
            table = getattr(crafted_tables, role)
            names[role] = f"test_churn_{role}_{suffix}"
            con.create_table(names[role], table.execute(), schema=table.schema())
        pg = ChurnTables(**{role: con.table(name) for role, name in names.items()})
        expected = churn_features(crafted_tables, as_of=AS_OF).execute()
        got = churn_features(pg, as_of=AS_OF).execute()
        key = "customer_id"
        pd.testing.assert_frame_equal(
            got.sort_values(key)
            .reset_index(drop=True)
            .drop(columns=["last_nps_date", "last_csat_date"]),
            expected.sort_values(key)
            .reset_index(drop=True)
            .drop(columns=["last_nps_date", "last_csat_date"]),
            check_dtype=False,
        )
        assert (
            pd.to_datetime(got.sort_values(key).last_nps_date).dt.date.tolist()
            == pd.to_datetime(expected.sort_values(key).last_nps_date).dt.date.tolist()
        )
        labels = churn_labels(pg.lines, as_of=AS_OF, horizon_days=30).execute()
        assert labels.churned.tolist() == [True, True]
    finally:
        for name in names.values():
            con.drop_table(name, force=True)
        con.disconnect()
