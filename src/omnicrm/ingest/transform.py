"""Apply a mapping to a batch of source rows: contract columns plus a reason per bad row.

Order of application: rename ([columns]; source columns named like contract columns pass
through) -> [constants] -> [values] -> type parsing ([timestamps]) -> [expressions] -> [flags]
-> table rules (returns) -> contract defaults -> validation (required, types, checks, optional
references). Everything is vectorised with pyarrow; no Python loop runs per row.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from omnicrm.schema import TABLES
>>> from omnicrm.ingest.mapping import load_mapping
>>> data = pa.table({"store_id": ["S1", "S2"], "name": ["Main", "Web"],
...                  "channel": ["store", "shop"]})
>>> plan = Plan(TABLES["stores"], load_mapping(None), data.column_names, file="s.csv")
>>> out = transform(data, np.array([2, 3]), plan)
>>> out.good.column("store_id").to_pylist(), out.reasons.to_pylist()
(['S1'], ["channel: 'shop' must be one of store, online, app, mini_program, marketplace, unmanned"])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.errors import InputError
from omnicrm.ingest.expressions import WORKING
from omnicrm.ingest.mapping import Flag, Mapping
from omnicrm.ingest.parse import ARROW_TYPES, ISO_DESCRIPTION, parse_decimal, parse_text
from omnicrm.ingest.rules import RETURN_RULES
from omnicrm.ingest.validate import (
    check_problems,
    join_reasons,
    message,
    parse_problem,
    reference_problem,
)
from omnicrm.schema.types import Column, Table

LINE = "_line"
"""Column holding each row's line in the source file (kept through staging)."""


@dataclass
class Plan:
    """Everything needed to transform the batches of one file."""

    table: Table
    mapping: Mapping
    source_columns: list[str]
    file: str
    references: dict[str, tuple[pa.Array, str]] = field(default_factory=dict)
    first: bool = True


@dataclass
class Transformed:
    """Rows that passed (contract columns + ``_line``) and the rows that did not."""

    good: pa.Table
    bad_lines: np.ndarray
    bad_raw: pa.Array
    reasons: pa.Array


def output_schema(table: Table) -> pa.Schema:
    """Arrow schema of the loaded rows: contract columns then ``_line``."""
    return pa.schema([(c.name, ARROW_TYPES[c.type]) for c in table.columns] + [(LINE, pa.int64())])


def transform(data: pa.Table, lines: np.ndarray, plan: Plan) -> Transformed:
    """Map, parse and validate one batch (see the module documentation for the order)."""
    table, mapping, n = plan.table, plan.mapping, data.num_rows
    texts = _texts(data, plan)
    typed: dict[str, pa.Array] = {}
    failed: dict[str, pa.Array] = {}
    problems: list[pa.Array | None] = []
    for col in table.columns:
        if col.name not in texts:
            continue
        fmt = mapping.timestamps.get(col.name)
        parsed = parse_text(
            texts[col.name],
            col.type,
            fmt=fmt.format if fmt else None,
            timezone=(fmt.timezone if fmt else None) or mapping.source.timezone,
        )
        if plan.first and col.type in ("timestamp", "date"):
            _whole_column_check(
                col, texts[col.name], parsed.failed, fmt.format if fmt else None, plan.file
            )
        typed[col.name], failed[col.name] = parsed.values, parsed.failed
        if col.type != "string":
            problems.append(
                parse_problem(col.name, texts[col.name], parsed.failed, parsed.expected)
            )
    for name, expr in mapping.expressions.items():
        operands = {op: _operand(op, typed, data, plan) for op in expr.names}
        typed[name] = expr.evaluate(operands, ARROW_TYPES[table.column(name).type])
        texts[name] = pc.cast(typed[name], pa.string())
    for name, flag in mapping.flags.items():
        typed[name] = _flag(flag, texts, data)
    rule = RETURN_RULES.get(table.name)
    if rule is not None:
        rule.apply(typed)
    no_failure = pa.array(np.zeros(n, dtype=bool))
    columns = []
    for col in table.columns:
        values = typed.get(col.name)
        if values is None:
            values = pa.nulls(n, ARROW_TYPES[col.type])
        if col.default is not None:
            values = pc.fill_null(values, _scalar(col.default, col))
        columns.append(values)
        bad_parse = failed.get(col.name, no_failure)
        if col.required:
            problems.append(
                message(
                    pc.and_(pc.is_null(values), pc.invert(bad_parse)),
                    f"{col.name}: missing (required)",
                )
            )
        shown = texts.get(col.name)
        if shown is None:
            shown = pc.cast(values, pa.string()) if col.checks else None
        problems.append(check_problems(col.name, values, shown, col.checks))
        if col.name in plan.references:
            allowed, target = plan.references[col.name]
            problems.append(reference_problem(col.name, values, allowed, target))
    plan.first = False
    reasons = join_reasons(problems)
    if reasons is None:
        reasons = pa.nulls(n, pa.string())
    ok = pc.is_null(reasons)
    good = pa.table([*columns, pa.array(lines, pa.int64())], schema=output_schema(table))
    bad = pc.invert(ok)
    return Transformed(
        good=good.filter(ok),
        bad_lines=np.asarray(lines)[np.asarray(bad, dtype=bool)],
        bad_raw=rows_as_json(data.filter(bad)),
        reasons=reasons.filter(bad),
    )


def _texts(data: pa.Table, plan: Plan) -> dict[str, pa.Array]:
    """Trimmed text per contract column after renaming, constants and value maps."""
    mapping, n = plan.mapping, data.num_rows
    texts: dict[str, pa.Array] = {}
    for col in plan.table.columns:
        src = mapping.source_name(col.name, plan.source_columns)
        if src is not None:
            texts[col.name] = (
                _clean(data.column(src)) if src in data.column_names else pa.nulls(n, pa.string())
            )
        if col.name in mapping.constants:
            texts[col.name] = pa.repeat(pa.scalar(mapping.constants[col.name]), n)
        if col.name in mapping.values and col.name in texts:
            table = mapping.values[col.name]
            index = pc.index_in(texts[col.name], value_set=pa.array(list(table), pa.string()))
            mapped = pc.take(pa.array(list(table.values()), pa.string()), index)
            texts[col.name] = pc.coalesce(mapped, texts[col.name])
    return texts


def _clean(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    text = pc.utf8_trim_whitespace(column)
    empty = pc.equal(text, "")
    if not pc.any(empty).as_py():
        return text
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


def _whole_column_check(
    col: Column, text: pa.Array, failed: pa.Array, fmt: str | None, file: str
) -> None:
    present = pc.sum(pc.is_valid(text)).as_py() or 0
    bad = pc.sum(failed).as_py() or 0
    if present and bad == present:
        examples = ", ".join(repr(v) for v in pc.drop_null(text)[:3].to_pylist())
        tried = fmt or ISO_DESCRIPTION
        raise InputError(
            f"{col.name}: no value in {file} is a date/time in format {tried} (e.g. {examples});"
            f" set the right format in [timestamps] {col.name} of the mapping file, e.g. "
            f'{col.name} = {{ format = "%d/%m/%Y %H:%M" }}'
        )


def _operand(name: str, typed: dict[str, pa.Array], data: pa.Table, plan: Plan) -> pa.Array:
    """A number column for an expression: a contract column (its default filling gaps) or a
    raw source column read as a decimal."""
    if name in typed and name in plan.table.column_names:
        col = plan.table.column(name)
        if col.type not in ("integer", "money", "quantity"):
            raise InputError(
                f"[expressions] use {name!r} in a formula only if it is a number; "
                f"it is a {col.type}"
            )
        values = typed[name]
        return (
            pc.fill_null(values, _scalar(col.default, col)) if col.default is not None else values
        )
    return parse_decimal(_clean(data.column(name)), WORKING).values


def _flag(flag: Flag, texts: dict[str, pa.Array], data: pa.Table) -> pa.Array:
    text = texts.get(flag.column)
    if text is None:
        text = _clean(data.column(flag.column))
    if flag.equals is not None:
        hit = pc.equal(text, flag.equals)
    elif flag.startswith is not None:
        hit = pc.starts_with(text, pattern=flag.startswith)
    elif flag.in_ is not None:
        hit = pc.is_in(text, value_set=pa.array(flag.in_, pa.string()))
    else:
        hit = pc.match_substring_regex(text, pattern=flag.matches)
    return pc.fill_null(hit, False)


def _scalar(value: object, col: Column) -> pa.Scalar:
    kind = ARROW_TYPES[col.type]
    if pa.types.is_decimal(kind):
        value = Decimal(str(value))
    return pa.scalar(value, kind)


_CONTROL = {i: f"\\u{i:04x}" for i in range(32)} | {
    8: "\\b",
    9: "\\t",
    10: "\\n",
    12: "\\f",
    13: "\\r",
}


def rows_as_json(data: pa.Table) -> pa.Array:
    """Each row as a JSON object of its source columns (text values, null when empty).

    Examples
    --------
    >>> rows_as_json(pa.table({"a": ['x"y', None]})).to_pylist()
    ['{"a": "x\\\\"y"}', '{"a": null}']
    """
    if data.num_columns == 0:
        return pa.repeat(pa.scalar("{}"), data.num_rows)
    parts = []
    for name in data.column_names:
        text = data.column(name)
        text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        text = text.cast(pa.string())
        escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        if pc.any(pc.match_substring_regex(escaped, "[\x00-\x1f]")).as_py():
            for code, repl in _CONTROL.items():
                escaped = pc.replace_substring(escaped, chr(code), repl)
        key = json.dumps(name, ensure_ascii=False) + ": "
        value = pc.binary_join_element_wise('"', escaped, '"', "")
        parts.append(pc.binary_join_element_wise(key, pc.fill_null(value, "null"), ""))
    body = pc.binary_join_element_wise(*parts, ", ")
    return pc.binary_join_element_wise("{", body, "}", "")
