"""Turn text columns into contract types, vectorised, keeping track of values that fail.

Each parser takes a pyarrow string array (already trimmed; empty values are null) and returns a
:class:`Parsed`: the typed values, a mask of the non-empty values that could not be parsed, and
the phrase used in quarantine reasons. Money and quantities are exact decimals
(``DECIMAL(18,2)`` / ``DECIMAL(18,3)``): a value with more decimals than the contract keeps is
rejected, never rounded. Timestamps are returned in UTC.

Examples
--------
>>> import pyarrow as pa
>>> p = parse_text(pa.array(["12.50", "3", "abc", None]), "money")
>>> [str(v) if v is not None else None for v in p.values.to_pylist()]
['12.50', '3.00', None, None]
>>> p.failed.to_pylist(), p.expected
([False, False, True, False], 'is not a number')
>>> parse_text(pa.array(["2024-05-01 08:00"]), "timestamp", fmt="%Y-%m-%d %H:%M",
...            timezone="Asia/Shanghai").values.to_pylist()[0].isoformat()
'2024-05-01T00:00:00+00:00'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.errors import InputError
from omnicrm.schema.types import MONEY_PRECISION, MONEY_SCALE, QUANTITY_PRECISION, QUANTITY_SCALE

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "money": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
    "quantity": pa.decimal128(QUANTITY_PRECISION, QUANTITY_SCALE),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
"""Logical contract type -> Arrow type of the loaded column (matches the warehouse schema)."""

TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "真")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "假")
ISO_TIMESTAMP = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<hms>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<frac>\d{1,9}))?)?\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
ISO_DESCRIPTION = "ISO-8601 (YYYY-MM-DD[ HH:MM:SS][+08:00])"


@dataclass(frozen=True)
class Parsed:
    """Typed values, the mask of unparseable inputs and the phrase explaining them.

    ``expected`` is one phrase for the column or, when it depends on the value, one per row.
    """

    values: pa.Array
    failed: pa.Array
    expected: str | pa.Array


def parse_text(
    text: pa.Array, logical_type: str, *, fmt: str | None = None, timezone: str | None = None
) -> Parsed:
    """Parse ``text`` as ``logical_type``.

    Parameters
    ----------
    text : pyarrow.StringArray
        Trimmed text values; null means empty.
    logical_type : str
        A contract type: string, integer, money, quantity, timestamp, date, boolean.
    fmt : str, optional
        ``strptime`` format for timestamps and dates (default: ISO-8601).
    timezone : str, optional
        IANA zone of naive timestamps (default UTC).
    """
    if logical_type == "string":
        return Parsed(text, _no_failures(text), "")
    if logical_type == "integer":
        return _parse_integer(text)
    if logical_type in ("money", "quantity"):
        return parse_decimal(text, ARROW_TYPES[logical_type])
    if logical_type == "boolean":
        return _parse_boolean(text)
    if logical_type == "timestamp":
        return _parse_timestamp(text, fmt, timezone)
    if logical_type == "date":
        return _parse_date(text, fmt)
    raise ValueError(f"unknown logical type {logical_type!r}")


def _no_failures(text: pa.Array) -> pa.Array:
    return pa.array(np.zeros(len(text), dtype=bool))


def _try_cast(text: pa.Array, target: pa.DataType) -> pa.Array | None:
    """Cast every value at once (the fast path for clean files); None if any value fails."""
    try:
        return pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _failed(text: pa.Array, values: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(text), pc.is_null(values))


def _round_trip(parsed: pa.Array, text: pa.Array, fmt: str) -> pa.Array:
    """Null out values whose text does not format back the same (arrow's strptime rolls
    2023-02-30 over to 2023-03-02 instead of failing). Zero padding is ignored."""
    if "%z" in fmt or "%Z" in fmt:
        return parsed
    seconds = pc.cast(parsed, pa.timestamp("s"), safe=False)  # %S prints fractions otherwise
    again = pc.strftime(seconds, format=fmt)
    same = pc.equal(_unpadded(again), _unpadded(text))
    return pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))


def _valid_day(parsed: pa.Array, iso_date: pa.Array) -> pa.Array:
    """Null out ISO dates whose day rolled over into the next month (2023-02-30)."""
    day = pc.cast(pc.utf8_slice_codeunits(iso_date, 8, 10), pa.int64())
    same = pc.equal(pc.day(parsed), day)
    return pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))


def _unpadded(text: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(text, r"(^|[^0-9])0+([0-9])", r"\1\2")


def _parse_integer(text: pa.Array) -> Parsed:
    fast = _try_cast(text, pa.int64())
    if fast is not None:
        return Parsed(fast, _no_failures(text), "is not a whole number")
    clean = pc.replace_substring_regex(text, r"^\+", "")
    ok = pc.match_substring_regex(clean, r"^-?\d{1,18}$")
    values = pc.cast(pc.if_else(ok, clean, pa.scalar(None, pa.string())), pa.int64())
    return Parsed(values, _failed(text, values), "is not a whole number")


def parse_decimal(text: pa.Array, target: pa.Decimal128Type) -> Parsed:
    """Parse exact decimals; more decimals than ``target`` keeps (other than zeros) fail.

    Examples
    --------
    >>> p = parse_decimal(pa.array(["1.50", "1.234", "x"]), pa.decimal128(18, 2))
    >>> p.failed.to_pylist()
    [False, True, True]
    >>> p.expected.to_pylist()[1]
    'does not fit DECIMAL(18,2) (at most 2 decimals, 16 digits before the point)'
    """
    fast = _try_cast(text, target)
    if fast is not None:
        return Parsed(fast, _no_failures(text), "is not a number")
    # Usual case of a dirty file: a few values are not numbers at all; set them aside with one
    # pass and cast the rest at once.
    numeric = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)$")
    fast = _try_cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), target)
    if fast is not None:
        return Parsed(fast, _failed(text, fast), "is not a number")
    clean = pc.replace_substring_regex(text, r"^\+", "")
    clean = pc.replace_substring_regex(clean, r"^(-?)\.", r"\1" "0.")
    number = pc.match_substring_regex(clean, r"^-?\d+(\.\d*)?$")
    trimmed = pc.replace_substring_regex(clean, r"(\.\d*?)0+$", r"\1")
    trimmed = pc.replace_substring_regex(trimmed, r"\.$", "")
    digits = target.precision - target.scale
    fits = pc.match_substring_regex(
        trimmed,
        rf"^-?\d{{1,{digits}}}(\.\d{{1,{target.scale}}})?$"
        if target.scale
        else rf"^-?\d{{1,{digits}}}$",
    )
    values = pc.cast(pc.if_else(fits, trimmed, pa.scalar(None, pa.string())), target)
    expected = pc.if_else(
        pc.fill_null(number, False),
        pa.scalar(
            f"does not fit DECIMAL({target.precision},{target.scale}) (at most {target.scale} "
            f"decimals, {digits} digits before the point)"
        ),
        pa.scalar("is not a number"),
    )
    return Parsed(values, _failed(text, values), expected)


def _parse_boolean(text: pa.Array) -> Parsed:
    lower = pc.utf8_lower(text)
    is_true = pc.is_in(lower, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(lower, value_set=pa.array(FALSE_WORDS))
    values = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    return Parsed(values, _failed(text, values), "is not a boolean (true/false, yes/no, 1/0)")


def _parse_timestamp(text: pa.Array, fmt: str | None, timezone: str | None) -> Parsed:
    utc = ARROW_TYPES["timestamp"]
    if fmt is not None:
        parsed = _round_trip(
            pc.strptime(text, format=fmt, unit="us", error_is_null=True), text, fmt
        )
        values = parsed if parsed.type.tz is not None else _localise(parsed, timezone)
        return Parsed(
            pc.cast(values, utc), _failed(text, values), f"is not a date/time in format {fmt}"
        )
    naive = _try_cast(text, pa.timestamp("us"))  # clean files: no offsets, all valid
    if naive is not None:
        return Parsed(
            _localise(naive, timezone),
            _no_failures(text),
            f"is not a date/time in {ISO_DESCRIPTION}",
        )
    aware = _try_cast(text, utc)
    if aware is not None:
        return Parsed(aware, _no_failures(text), f"is not a date/time in {ISO_DESCRIPTION}")
    parts = pc.extract_regex(text, ISO_TIMESTAMP)
    date, hms, frac, tz = (pc.struct_field(parts, n) for n in ("date", "hms", "frac", "tz"))
    hms = pc.if_else(
        pc.equal(pc.utf8_length(hms), 5),
        pc.binary_join_element_wise(hms, ":00", ""),
        pc.if_else(pc.equal(hms, ""), "00:00:00", hms),
    )
    naive = _valid_day(
        pc.strptime(
            pc.binary_join_element_wise(date, hms, " "),
            format="%Y-%m-%d %H:%M:%S",
            unit="us",
            error_is_null=True,
        ),
        date,
    )
    micros = pc.cast(
        pc.utf8_slice_codeunits(
            pc.utf8_rpad(pc.binary_join_element_wise(frac, "000000", ""), 6, "0"), 0, 6
        ),
        pa.int64(),
    )
    naive = pc.add(naive, pc.cast(micros, pa.duration("us")))
    local = _localise(naive, timezone)
    offset = pc.extract_regex(
        pc.replace_substring(tz, "Z", "+00:00"), r"^(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?$"
    )
    minutes = pc.add(
        pc.multiply(pc.cast(pc.struct_field(offset, "hh"), pa.int64()), 60),
        pc.cast(
            pc.if_else(
                pc.equal(pc.struct_field(offset, "mm"), ""), "0", pc.struct_field(offset, "mm")
            ),
            pa.int64(),
        ),
    )
    minutes = pc.if_else(
        pc.equal(pc.struct_field(offset, "sign"), "-"), pc.negate(minutes), minutes
    )
    shift = pc.cast(pc.multiply(minutes, 60_000_000), pa.duration("us"))
    with_offset = pc.subtract(pc.cast(naive, utc), shift)
    values = pc.if_else(pc.equal(tz, ""), pc.cast(local, utc), with_offset)
    return Parsed(values, _failed(text, values), f"is not a date/time in {ISO_DESCRIPTION}")


def _localise(naive: pa.Array, timezone: str | None) -> pa.Array:
    if timezone in (None, "UTC", "Etc/UTC"):
        return pc.cast(naive, ARROW_TYPES["timestamp"])
    try:
        local = pc.assume_timezone(
            naive, timezone=timezone, ambiguous="earliest", nonexistent="latest"
        )
        return pc.cast(local, ARROW_TYPES["timestamp"])
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"timezone {timezone!r} is not a known IANA time zone "
            "(e.g. Asia/Shanghai, Europe/Paris, UTC)"
        ) from exc


def _parse_date(text: pa.Array, fmt: str | None) -> Parsed:
    if fmt is None:
        day = pc.struct_field(pc.extract_regex(text, r"^(?P<d>\d{4}-\d{2}-\d{2})(?:[T ].*)?$"), "d")
        parsed = _valid_day(pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True), day)
        expected = "is not a date in format YYYY-MM-DD"
    else:
        parsed = _round_trip(pc.strptime(text, format=fmt, unit="s", error_is_null=True), text, fmt)
        expected = f"is not a date in format {fmt}"
    values = pc.cast(pc.cast(parsed, pa.timestamp("s")) if parsed.type.tz else parsed, pa.date32())
    return Parsed(values, _failed(text, values), expected)
