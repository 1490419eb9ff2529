"""The RFM segment table: the shipped map, assignment, and validation of edited tables.

The shipped R x F map (rows r_score 1-5 from the top, columns f_score 1-5):

    r\\f  1            2            3            4          5
    1    Lost         Lost         At Risk      At Risk    Can't Lose Them
    2    Hibernating  Hibernating  At Risk      At Risk    Can't Lose Them
    3    About to S.  About to S.  Need Att.    Loyal      Loyal
    4    Promising    Potential L. Potential L. Loyal      Loyal
    5    New          Potential L. Potential L. Champions  Champions
"""

from __future__ import annotations

from importlib import resources

import ibis
import pytest

from omnicrm.analytics.segments import SegmentTable, fm_score, rfm_segments
from omnicrm.errors import InputError

DEFAULT_TEXT = (
    resources.files("omnicrm.analytics").joinpath("config/rfm_segments.csv").read_text("utf-8")
)
SHIPPED_GRID = [
    ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
    ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"],
    ["New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
]


def edited(old: str, new: str) -> str:
    assert old in DEFAULT_TEXT
    return DEFAULT_TEXT.replace(old, new)


def test_shipped_table_has_the_eleven_named_segments_with_chinese_labels():
    table = SegmentTable.default()
    assert [r.segment for r in table.rules] == [
        "Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
        "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
    ]  # fmt: skip
    assert table.bins == 5
    assert table.axis == "f"
    zh = table.labels("zh")
    assert zh["Champions"] == "重要价值客户"
    assert all(zh.values())
    assert all(table.actions().values())


def test_shipped_table_maps_every_cell_as_drawn_above():
    table = SegmentTable.default()
    grid = [[table.segment_of(r, f) for f in range(1, 6)] for r in range(1, 6)]
    assert grid == SHIPPED_GRID


def test_rfm_segments_assigns_the_same_cells_in_the_warehouse():
    cells = [(r, f) for r in range(1, 6) for f in range(1, 6)]
    scores = ibis.memtable(
        {"r_score": [r for r, _ in cells], "f_score": [f for _, f in cells], "m_score": [1] * 25}
    )
    out = rfm_segments(scores).execute()
    got = {(r, f): s for r, f, s in zip(out.r_score, out.f_score, out.rfm_segment, strict=True)}
    assert got == {(r, f): SHIPPED_GRID[r - 1][f - 1] for r, f in cells}


def test_a_null_score_gets_no_segment():
    scores = ibis.memtable({"r_score": [5, None], "f_score": [5, 5]}).cast(
        {"r_score": "int64", "f_score": "int64"}
    )
    assert rfm_segments(scores).rfm_segment.execute().tolist()[1] is None


def test_a_gap_names_the_uncovered_cell():
    # Drop "Need Attention" (line 7), the only row covering r=3, f=3.
    text = "\n".join(line for line in DEFAULT_TEXT.splitlines() if "Need Attention" not in line)
    with pytest.raises(InputError, match=r"1 score cell\(s\) covered by no row: \(r=3, f=3\)"):
        SegmentTable.from_text(text, source="my.csv")


def test_an_overlap_names_the_cells_and_the_rows_involved():
    # Loyal widened to r 3-5 now also claims Champions' cells (5, 4) and (5, 5).
    text = edited("Loyal,忠诚客户,3,4,4,5", "Loyal,忠诚客户,3,5,4,5")
    expected = (
        r"my.csv: .*2 score cell\(s\) covered by more than one row: "
        r"\(r=5, f=4\) by line 2 \(Champions\) and line 3 \(Loyal\); "
        r"\(r=5, f=5\) by line 2 \(Champions\) and line 3 \(Loyal\)"
    )
    with pytest.raises(InputError, match=expected):
        SegmentTable.from_text(text, source="my.csv")


def test_gaps_and_overlaps_are_reported_together():
    # Promising moved from (4, 1) onto New's cell (5, 1): (4, 1) is uncovered, (5, 1) doubled.
    text = edited("Promising,有潜力客户,4,4,1,1", "Promising,有潜力客户,5,5,1,1")
    with pytest.raises(InputError, match=r"covered by no row: \(r=4, f=1\).*\(r=5, f=1\) by"):
        SegmentTable.from_text(text)


def test_a_table_written_for_four_bins_is_valid_and_says_so():
    text = "segment,label_zh,r_min,r_max,f_min,f_max\nTop,高,3,4,1,4\nLow,低,1,2,1,4\n"
    table = SegmentTable.from_text(text)
    assert table.bins == 4
    assert table.segment_of(3, 1) == "Top"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("New,新客户,5,5,1,1", "New,新客户,five,5,1,1", r"line 5: r_min 'five' is not a whole"),
        ("New,新客户,5,5,1,1", "New,新客户,5,4,1,1", r"line 5 \(New\): r_min 5 and r_max 4"),
        ("Lost,已流失客户,1,1,1,2", "Lost,已流失客户,0,1,1,2", r"line 12 \(Lost\): r_min 0"),
        ("Lost,已流失客户", "Loyal,已流失客户", r"segment 'Loyal' appears on lines 3 and 12"),
        ("New,新客户,5,5", "New,,5,5", r"line 5: column label_zh is empty"),
        ("f_min,f_max", "fmin,f_max", r"missing column\(s\) f_min"),
        ("f_min,f_max", "fm_min,fm_max,f_min,f_max", r"both f_min/f_max and fm_min/fm_max"),
        ("r_min,r_max,f_min,f_max", "r_min,r_max,x_min,x_max", r"neither f_min/f_max nor"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_value(old, new, message):
    with pytest.raises(InputError, match=message):
        SegmentTable.from_text(edited(old, new))


def test_a_header_without_rows_is_rejected():
    with pytest.raises(InputError, match="no rows"):
        SegmentTable.from_text(DEFAULT_TEXT.splitlines()[0] + "\n")


def test_fm_tables_use_the_rounded_mean_of_f_and_m():
    text = (
        "segment,label_zh,r_min,r_max,fm_min,fm_max\n"
        "Best,最好,2,2,2,2\nRecent,近,2,2,1,1\nOld,旧,1,1,1,2\n"
    )
    table = SegmentTable.from_text(text)
    assert table.axis == "fm"
    # f=1, m=2 -> fm = floor((1 + 2 + 1) / 2) = 2 ; f=1, m=1 -> 1
    scores = ibis.memtable({"r_score": [2, 2, 1], "f_score": [1, 1, 2], "m_score": [2, 1, 2]})
    assert rfm_segments(scores, table).rfm_segment.execute().tolist() == ["Best", "Recent", "Old"]
    with pytest.raises(InputError, match=r"lacks column.*m_score"):
        rfm_segments(scores.drop("m_score"), table)


def test_fm_score_rounds_halves_up():
    t = ibis.memtable({"f": [1, 1, 2, 5], "m": [1, 2, 3, 4]})
    assert t.mutate(fm=fm_score(t.f, t.m)).fm.execute().tolist() == [1, 2, 3, 5]


def test_from_csv_reads_an_excel_utf8_file_with_bom(tmp_path):
    path = tmp_path / "segments.csv"
    path.write_bytes("\ufeff".encode() + DEFAULT_TEXT.encode("utf-8"))
    assert SegmentTable.from_csv(path) == SegmentTable.from_text(
        DEFAULT_TEXT, source="segments.csv"
    )


def test_from_csv_missing_file_and_wrong_encoding(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        SegmentTable.from_csv(tmp_path / "nope.csv")
    path = tmp_path / "gbk.csv"
    path.write_bytes(DEFAULT_TEXT.encode("gbk"))
    with pytest.raises(InputError, match="not UTF-8"):
        SegmentTable.from_csv(path)


def test_segment_of_outside_the_grid_and_unknown_language():
    table = SegmentTable.default()
    with pytest.raises(InputError, match="outside the 5 x 5 grid"):
        table.segment_of(6, 1)
    with pytest.raises(InputError, match="language 'fr'"):
        table.labels("fr")
