"""Model frames: several origins in one query, the customer sample, the per-origin CLV fits."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import ChurnTables, churn_features, churn_labels
from omnicrm.models.churn.dataset import (
    origin_frame,
    origin_frames,
    sampled_customers,
    training_frame,
)
from omnicrm.models.churn.features import origin_features
from omnicrm.models.clv.scoring import fit_clv

from .conftest import lines_table

ORIGINS = [date(2025, 1, 15), date(2025, 2, 1), date(2025, 2, 20)]


def test_one_query_for_several_origins_equals_one_origin_at_a_time(crafted_tables):
    together = origin_features(crafted_tables, ORIGINS, horizon_days=30).execute()
    for origin in ORIGINS:
        got = together[pd.to_datetime(together.as_of).dt.date == origin]
        got = got.drop(columns="as_of").set_index("customer_id")
        alone = churn_features(crafted_tables, as_of=origin).execute().set_index("customer_id")
        pd.testing.assert_frame_equal(
            got[alone.columns].sort_index(), alone.sort_index(), check_dtype=False
        )
        labels = churn_labels(crafted_tables.lines, as_of=origin, horizon_days=30).execute()
        assert (
            got.purchases_in_window.sort_index().tolist()
            == labels.set_index("customer_id").purchases_in_window.sort_index().tolist()
        )


def test_unlabelled_frames_read_nothing_from_the_origin_on(crafted_tables):
    future = lines_table([{"order_id": "z", "customer_id": "a", "day": 60}]).execute()
    lines = pd.concat([crafted_tables.lines.execute(), future], ignore_index=True)
    altered = ChurnTables(
        lines=ibis.memtable(lines, schema=crafted_tables.lines.schema()),
        products=crafted_tables.products,
        events=crafted_tables.events,
        feedback=crafted_tables.feedback,
    )
    before = origin_features(crafted_tables, [date(2025, 2, 20)]).execute()
    after = origin_features(altered, [date(2025, 2, 20)]).execute()
    pd.testing.assert_frame_equal(after, before)


def test_bgnbd_features_are_the_clv_fit_of_the_same_day():
    rows = [
        {
            "order_id": f"o{c}-{k}",
            "customer_id": f"c{c:03d}",
            "day": 3 * c % 40 + 9 * k,
            "unit_price": f"{5 + c % 7}.00",
        }
        for c in range(60)
        for k in range(1 + c % 4)
    ]
    tables = ChurnTables(lines=lines_table(rows))
    frame, fit = origin_frame(tables, "2025-03-01", labelled=False)
    direct = fit_clv(tables.lines, as_of="2025-03-01").scores.set_index("customer_id")
    ours = frame.set_index("customer_id")
    np.testing.assert_allclose(ours.p_alive, direct.loc[ours.index, "p_alive"], rtol=1e-9)
    np.testing.assert_allclose(
        ours.bgnbd_expected_purchases, direct.loc[ours.index, "expected_purchases_90d"], rtol=1e-9
    )
    assert fit.scores.customer_id.tolist() == frame.customer_id.tolist()


def test_the_sample_keeps_the_same_customers_at_every_origin():
    rows = [
        {"order_id": f"o{c}-{k}", "customer_id": f"c{c:04d}", "day": 7 * c % 30 + (11 + c % 13) * k}
        for c in range(400)
        for k in range(1 + c % 4)
    ]
    tables = ChurnTables(lines=lines_table(rows))
    origins = [date(2025, 2, 10), date(2025, 3, 20)]
    full, _ = origin_frames(tables, origins, labelled=False)
    half, _ = origin_frames(tables, origins, labelled=False, sample=0.5)
    kept = [set(half.customer_id[half.as_of == pd.Timestamp(o)]) for o in origins]
    assert kept[0] == kept[1]
    assert 120 < len(kept[0]) < 280  # about half of the 400
    assert kept[0] <= set(full.customer_id)
    # a customer's rows are the same whether or not others are sampled out
    cols = ["as_of", "customer_id", "recency_days", "frequency", "monetary"]
    merged = half[cols].merge(full[cols], on=["as_of", "customer_id"], suffixes=("", "_all"))
    assert len(merged) == len(half)
    assert (merged.recency_days == merged.recency_days_all).all()
    # the draw is repeatable (every customer has bought by the first origin)
    assert set(sampled_customers(tables.lines, 0.5).execute().customer_id) == kept[0]


def test_training_frame_checks_windows_and_sample(crafted_tables):
    with pytest.raises(InputError, match="days of data"):
        training_frame(crafted_tables, [date(2025, 2, 20)], horizon_days=90)
    with pytest.raises(InputError, match="sample"):
        sampled_customers(crafted_tables.lines, 1.5)
