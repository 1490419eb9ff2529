"""Column mappings: how one source layout becomes one contract table (a TOML file).

See ``docs/ingest.md`` for the format. A mapping is plain data: :func:`load_mapping` reads and
checks it, :meth:`Mapping.check` matches it against a contract table and a file's columns, and
:mod:`omnicrm.ingest.transform` applies it to batches of rows.

Examples
--------
>>> m = load_mapping({
...     "columns": {"order_id": "单号", "quantity": "数量"},
...     "constants": {"channel": "store"},
...     "values": {"channel": {"门店": "store"}},
...     "expressions": {"amount": "quantity * unit_price"},
...     "flags": {"is_return": {"column": "order_id", "startswith": "C"}},
...     "timestamps": {"order_ts": {"format": "%Y/%m/%d %H:%M", "timezone": "Asia/Shanghai"}},
... })
>>> m.columns["order_id"], m.flags["is_return"].startswith, m.timestamps["order_ts"].timezone
('单号', 'C', 'Asia/Shanghai')
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omnicrm.errors import InputError
from omnicrm.ingest.expressions import Expression
from omnicrm.ingest.readers import SourceOptions
from omnicrm.schema.types import Table

SECTIONS = (
    "table",
    "source",
    "columns",
    "timestamps",
    "constants",
    "values",
    "expressions",
    "flags",
)
FLAG_TESTS = ("equals", "startswith", "in", "matches")


@dataclass(frozen=True)
class TimestampFormat:
    """How to parse one timestamp or date column."""

    format: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Flag:
    """A boolean column set from a condition on another column (true where it holds)."""

    column: str
    equals: str | None = None
    startswith: str | None = None
    in_: tuple[str, ...] | None = None
    matches: str | None = None

    def describe(self) -> str:
        """The condition in words, e.g. ``order_id starts with 'C'``."""
        if self.equals is not None:
            return f"{self.column} = {self.equals!r}"
        if self.startswith is not None:
            return f"{self.column} starts with {self.startswith!r}"
        if self.in_ is not None:
            return f"{self.column} in {list(self.in_)!r}"
        return f"{self.column} matches {self.matches!r}"


@dataclass(frozen=True)
class Mapping:
    """A parsed column mapping; every section is optional.

    Attributes
    ----------
    table : str or None
        Target table named in the file (must equal the table ingested into).
    source : SourceOptions
        How to read the file.
    columns : dict
        Contract column -> source column.
    timestamps, constants, values, expressions, flags : dict
        Per contract column: parsing format, constant value, value map, formula, condition.
    """

    table: str | None = None
    source: SourceOptions = field(default_factory=SourceOptions)
    columns: dict[str, str] = field(default_factory=dict)
    timestamps: dict[str, TimestampFormat] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    expressions: dict[str, Expression] = field(default_factory=dict)
    flags: dict[str, Flag] = field(default_factory=dict)

    def check(self, table: Table, source_columns: list[str], *, file: str) -> None:
        """Check the mapping against ``table`` and the columns found in ``file``.

        Raises
        ------
        InputError
            For a contract column the table does not have, a mapped or referenced source
            column missing from the file (the message lists the columns found), or a required
            contract column that nothing provides.
        """
        if self.table is not None and self.table != table.name:
            raise InputError(
                f"the mapping is for table {self.table!r} but you are loading "
                f"{table.name!r}; use --table {self.table} or another mapping"
            )
        for section in ("columns", "timestamps", "constants", "values", "expressions", "flags"):
            for name in getattr(self, section):
                if name not in table.column_names:
                    raise InputError(
                        f"[{section}] {name!r} is not a column of {table.name}: "
                        f"its columns are {', '.join(table.column_names)}"
                    )
        found = ", ".join(source_columns)
        for contract, src in self.columns.items():
            if src not in source_columns:
                raise InputError(
                    f"column {src!r} (mapped to {contract}) is not in {file}; "
                    f"the file has columns: {found}"
                )
        available = set(self.provided(table, source_columns))
        for name, expr in self.expressions.items():
            unknown = [n for n in expr.names if n not in available and n not in source_columns]
            if unknown:
                raise InputError(
                    f"[expressions] {name} uses {unknown[0]!r}, which is neither a "
                    f"mapped column nor a column of {file} (columns: {found})"
                )
        for name, flag in self.flags.items():
            if flag.column not in available and flag.column not in source_columns:
                raise InputError(
                    f"[flags] {name} tests column {flag.column!r}, which is not in "
                    f"{file} (columns: {found})"
                )
        missing = [
            c.name
            for c in table.columns
            if c.required and c.name not in available and c.default is None
        ]
        if missing:
            raise InputError(
                f"{file} has no column for required {', '.join(missing)} of {table.name}; map "
                f"them in [columns] of a mapping file (--mapping) — the file has columns: "
                f"{found}"
            )

    def provided(self, table: Table, source_columns: list[str]) -> list[str]:
        """Contract columns this mapping fills from ``source_columns``."""
        direct = {c for c in table.column_names if c in source_columns}
        return [
            c
            for c in table.column_names
            if c in self.columns
            or c in direct
            or c in self.constants
            or c in self.expressions
            or c in self.flags
        ]

    def source_name(self, contract: str, source_columns: list[str]) -> str | None:
        """The source column read for ``contract`` (mapped, else same name), or None."""
        if contract in self.columns:
            return self.columns[contract]
        if contract in source_columns and contract not in self.columns.values():
            return contract
        return None


def load_mapping(spec: str | Path | MappingABC[str, Any] | Mapping | None) -> Mapping:
    """Read a mapping from a TOML file, a dict with the same structure, or pass one through.

    Raises
    ------
    InputError
        For a missing file, invalid TOML (the message has the line), unknown sections or keys,
        or values of the wrong kind.
    """
    if spec is None:
        return Mapping()
    if isinstance(spec, Mapping):
        return spec
    where = "mapping"
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        where = str(path)
        if not path.is_file():
            raise InputError(f"mapping file not found: {where!r}; check the --mapping path")
        try:
            spec = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{where} is not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise InputError(f"{where} is not UTF-8 text; save the mapping file as UTF-8") from None
    return _from_dict(dict(spec), where)


def _from_dict(raw: dict[str, Any], where: str) -> Mapping:
    unknown = [k for k in raw if k not in SECTIONS]
    if unknown:
        raise InputError(
            f"{where}: unknown section or key {unknown[0]!r}; the mapping format "
            f"has {', '.join(SECTIONS)}"
        )
    table = raw.get("table")
    if table is not None and not isinstance(table, str):
        raise InputError(f"{where}: table = {table!r} must be a table name in quotes")
    return Mapping(
        table=table,
        source=_source(_section(raw, "source", where), where),
        columns=_strings(_section(raw, "columns", where), "columns", where),
        timestamps={
            k: _timestamp(v, k, where) for k, v in _section(raw, "timestamps", where).items()
        },
        constants={k: _constant(v, k, where) for k, v in _section(raw, "constants", where).items()},
        values={
            k: _strings(
                v if isinstance(v, dict) else _not_table("values", k, where), f"values.{k}", where
            )
            for k, v in _section(raw, "values", where).items()
        },
        expressions={
            k: Expression.parse(v, target=k) for k, v in _section(raw, "expressions", where).items()
        },
        flags={k: _flag(v, k, where) for k, v in _section(raw, "flags", where).items()},
    )


def _section(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"{where}: [{name}] must be a table of key = value lines")
    return value


def _not_table(section: str, key: str, where: str):
    raise InputError(
        f'{where}: [{section}] {key} must be an inline table, e.g. {key} = {{ "A" = "a" }}'
    )


def _strings(values: dict[str, Any], section: str, where: str) -> dict[str, str]:
    bad = [k for k, v in values.items() if not isinstance(v, str)]
    if bad:
        raise InputError(
            f"{where}: [{section}] {bad[0]} = {values[bad[0]]!r} must be text in quotes"
        )
    return dict(values)


def _constant(value: Any, key: str, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    raise InputError(
        f"{where}: [constants] {key} = {value!r} must be text, a number, a boolean or a date"
    )


def _source(values: dict[str, Any], where: str) -> SourceOptions:
    known = {f.name for f in fields(SourceOptions)}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise InputError(
            f"{where}: [source] {unknown[0]} is not a setting; use {', '.join(sorted(known))}"
        )
    header_row = values.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
        raise InputError(
            f"{where}: [source] header_row = {header_row!r} must be a line number >= 1"
        )
    delimiter = values.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InputError(
            f"{where}: [source] delimiter = {delimiter!r} must be one character "
            r'(e.g. ";" or "\t")'
        )
    texts = {k: v for k, v in values.items() if k not in ("header_row",)}
    _strings(texts, "source", where)
    return SourceOptions(**values)


def _timestamp(value: Any, key: str, where: str) -> TimestampFormat:
    if isinstance(value, str):
        return TimestampFormat(format=value)
    if not isinstance(value, dict) or set(value) - {"format", "timezone"}:
        raise InputError(
            f"{where}: [timestamps] {key} must be "
            '{ format = "%Y-%m-%d %H:%M", timezone = "Asia/Shanghai" }'
        )
    _strings(value, f"timestamps.{key}", where)
    return TimestampFormat(**value)


def _flag(value: Any, key: str, where: str) -> Flag:
    example = '{ column = "order_id", startswith = "C" }'
    if not isinstance(value, dict) or "column" not in value:
        raise InputError(f"{where}: [flags] {key} must be an inline table like {example}")
    tests = [t for t in FLAG_TESTS if t in value]
    extra = set(value) - {"column", *FLAG_TESTS}
    if len(tests) != 1 or extra:
        raise InputError(
            f"{where}: [flags] {key} needs column and exactly one of "
            f"{', '.join(FLAG_TESTS)}, e.g. {example}"
        )
    test = tests[0]
    arg = value[test]
    if test == "in":
        if not isinstance(arg, list) or not all(isinstance(a, str) for a in arg):
            raise InputError(f"{where}: [flags] {key}: in = {arg!r} must be a list of texts")
        return Flag(column=value["column"], in_=tuple(arg))
    if not isinstance(arg, str):
        raise InputError(f"{where}: [flags] {key}: {test} = {arg!r} must be text in quotes")
    if test == "matches":
        try:
            re.compile(arg)
        except re.error as exc:
            raise InputError(
                f"{where}: [flags] {key}: matches = {arg!r} is not a valid "
                f"regular expression ({exc})"
            ) from None
    return Flag(column=value["column"], **{test: arg})
