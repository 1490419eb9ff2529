"""Text -> contract types: exact decimals, strict dates, UTC timestamps, failures kept apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from omnicrm.errors import InputError
from omnicrm.ingest.parse import ARROW_TYPES, parse_text
from omnicrm.schema import TABLES
from omnicrm.warehouse import ibis_schema

UTC = dt.UTC


def parse(values, kind, **kwargs):
    p = parse_text(pa.array(values, pa.string()), kind, **kwargs)
    return p.values.to_pylist(), p.failed.to_pylist()


def test_arrow_types_match_the_warehouse_schema_of_every_contract_table():
    for table in TABLES.values():
        schema = ibis_schema(table).to_pyarrow()
        for col in table.columns:
            assert schema.field(col.name).type == ARROW_TYPES[col.type], (table.name, col.name)


def test_money_is_exact_and_extra_decimals_are_refused_not_rounded():
    values, failed = parse(
        ["12.50", "3", "-0.5", ".25", "+4", "1.230", "1.234", "abc", None], "money"
    )
    assert values[:6] == [
        Decimal("12.50"),
        Decimal("3.00"),
        Decimal("-0.50"),
        Decimal("0.25"),
        Decimal("4.00"),
        Decimal("1.23"),
    ]
    assert values[6:] == [None, None, None]
    assert failed == [False] * 6 + [True, True, False]


def test_decimal_failure_phrase_depends_on_the_value():
    p = parse_text(pa.array(["1.234", "abc", "12345678901234567"]), "money")
    assert p.expected.to_pylist() == [
        "does not fit DECIMAL(18,2) (at most 2 decimals, 16 digits before the point)",
        "is not a number",
        "does not fit DECIMAL(18,2) (at most 2 decimals, 16 digits before the point)",
    ]


def test_quantities_keep_three_decimals_for_weighed_goods():
    values, failed = parse(["0.375", "2", "1.0005"], "quantity")
    assert values == [Decimal("0.375"), Decimal("2.000"), None]
    assert failed == [False, False, True]


def test_integers():
    assert parse(["7", "+8", "-9", "1.5", "x", None], "integer") == (
        [7, 8, -9, None, None, None],
        [False, False, False, True, True, False],
    )


def test_booleans_accept_common_spellings_in_english_and_chinese():
    values, failed = parse(["true", "FALSE", "Y", "no", "1", "0", "是", "否", "maybe"], "boolean")
    assert values == [True, False, True, False, True, False, True, False, None]
    assert failed[-1] is True


def test_iso_timestamps_with_offsets_fractions_and_naive_values_land_in_utc():
    values, failed = parse(
        [
            "2024-05-01T08:00:00+08:00",
            "2024-05-01 08:00:00Z",
            "2024-05-01 08:00",
            "2024-05-01",
            "2024-05-01T08:00:00.25-0130",
            "2024-02-30 10:00:00",
            "1/5/2024",
            None,
        ],
        "timestamp",
    )
    assert values[:5] == [
        dt.datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        dt.datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2024, 5, 1, 9, 30, 0, 250000, tzinfo=UTC),
    ]
    assert failed == [False] * 5 + [True, True, False]


def test_naive_timestamps_take_the_given_timezone():
    values, _ = parse(["2024-05-01 08:00:00"], "timestamp", timezone="Asia/Shanghai")
    assert values == [dt.datetime(2024, 5, 1, 0, 0, tzinfo=UTC)]


def test_timestamp_format_and_timezone_convert_to_utc():
    values, failed = parse(
        ["2024/05/01 08:00", "2024/5/1 8:05", "2024/02/30 10:00", "x"],
        "timestamp",
        fmt="%Y/%m/%d %H:%M",
        timezone="Asia/Shanghai",
    )
    assert values[:2] == [
        dt.datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2024, 5, 1, 0, 5, tzinfo=UTC),
    ]
    assert failed == [False, False, True, True]


def test_timestamp_format_with_offset():
    values, _ = parse(["2024-05-01T08:00:00+0800"], "timestamp", fmt="%Y-%m-%dT%H:%M:%S%z")
    assert values == [dt.datetime(2024, 5, 1, 0, 0, tzinfo=UTC)]


def test_unknown_timezone_is_an_input_error():
    with pytest.raises(InputError, match="'Mars/Olympus' is not a known IANA time zone"):
        parse(
            ["2024-05-01 08:00:00"], "timestamp", fmt="%Y-%m-%d %H:%M:%S", timezone="Mars/Olympus"
        )


def test_dates_are_strict():
    assert parse(["2024-05-01", "2024-05-01 10:00:00", "2023-02-29", "May 1"], "date") == (
        [dt.date(2024, 5, 1), dt.date(2024, 5, 1), None, None],
        [False, False, True, True],
    )
    assert parse(["01/05/2024"], "date", fmt="%d/%m/%Y") == ([dt.date(2024, 5, 1)], [False])


def test_strings_pass_through():
    assert parse(["a", None], "string") == (["a", None], [False, False])


def test_daylight_saving_gaps_and_overlaps_resolve_predictably():
    values, failed = parse(
        ["2024-03-10 02:30:00", "2024-11-03 01:30:00"], "timestamp", timezone="America/New_York"
    )
    # a time skipped by the clock change moves to its end; a repeated time takes the first
    assert values == [
        dt.datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
        dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
    ]
    assert failed == [False, False]
