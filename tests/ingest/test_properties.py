"""Properties over generated files: the counts always add up; re-ingest adds nothing."""

from __future__ import annotations

import csv
import io
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicrm.ingest import ingest_files
from omnicrm.warehouse import connect

from .conftest import rows

GOOD_IDS = st.sampled_from([f"P{i}" for i in range(8)])
CELLS = {
    "product_id": st.one_of(GOOD_IDS, st.just(""), st.just("  ")),
    "name": st.one_of(
        st.sampled_from(["Milk", "鲜牛奶", 'say "hi"', "a,b", "line\nbreak"]), st.just("")
    ),
    "category": st.sampled_from(["Dairy", "饮料", ""]),
    "unit_price": st.one_of(
        st.sampled_from(["3.50", "0", "12", "-1", "1.234", "abc", ""]),
        st.decimals(min_value=0, max_value=10**6, places=2).map(str),
    ),
    "launch_date": st.sampled_from(["2024-01-31", "2024-02-30", "", "31/01/2024"]),
}
ROW = st.fixed_dictionaries(CELLS)
EXTRA = st.sampled_from(["", "blank", "short", "long"])


def render(records: list[tuple[dict, str]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(list(CELLS))
    for record, extra in records:
        if extra == "blank":
            out.write("\n")
        values = list(record.values())
        if extra == "short":
            values = values[:2]
        elif extra == "long":
            values = [*values, "x"]
        writer.writerow(values)
    return out.getvalue()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(st.tuples(ROW, EXTRA), max_size=25),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_read_equals_loaded_plus_quarantined_plus_duplicates_and_reingest_is_idempotent(
    tmp_path, records, delimiter
):
    # a valid launch date must exist somewhere, or the whole column is a mapping error
    records = [({**CELLS_OK, "launch_date": "2024-01-01"}, ""), *records]
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(render(records, delimiter), encoding="utf-8")
    con = connect("duckdb://:memory:")
    first = ingest_files(con, [path], table="products")
    for f in (first, *first.files):
        assert f.read == f.loaded + f.quarantined + f.duplicates
    assert first.read == len(records)
    loaded = rows(con, "products", ("product_id",))
    assert len(loaded) == first.loaded
    assert len({r["product_id"] for r in loaded}) == len(loaded)

    again = ingest_files(con, [path], table="products")
    assert again.read == again.loaded + again.quarantined + again.duplicates
    assert (again.read, again.loaded) == (first.read, 0)
    assert again.quarantined == first.quarantined
    assert rows(con, "products", ("product_id",)) == loaded
    quarantined = rows(con, "quarantine")
    assert len(quarantined) == 2 * first.quarantined
    assert all(q["reason"] for q in quarantined)
    con.disconnect()


CELLS_OK = {
    "product_id": "P0",
    "name": "Milk",
    "category": "Dairy",
    "unit_price": "1.00",
    "launch_date": "2024-01-01",
}
