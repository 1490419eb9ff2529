"""Render the data contract as Markdown (``docs/data-model.md`` is this module's output).

Run ``python -m omnicrm.schema.docs > docs/data-model.md`` (or ``make docs``); a test fails when
the committed file and the contract disagree.

Examples
--------
>>> from omnicrm.schema.docs import render_markdown
>>> "## order_lines" in render_markdown()
True
"""

from __future__ import annotations

from omnicrm.schema.tables import SYSTEM_TABLES, TABLES
from omnicrm.schema.types import Table

_HEADER = """# Data model

<!-- Generated from src/omnicrm/schema/tables.py by `make docs`; do not edit by hand. -->

The warehouse holds one table per entity below. Each states its **grain** (what one row is) and
its **natural key** (two rows with the same key are duplicates: the first one loaded is kept
and later ones are counted as duplicates). Ids are strings. `money` is `DECIMAL(18,2)`,
`quantity` is `DECIMAL(18,3)` (weighed goods), timestamps are timezone-aware and stored in UTC.
A row that breaks a rule marked *required* or a check is not loaded: it goes to `quarantine`
with its file, line, raw content and the reason.
"""


def _table_markdown(table: Table) -> str:
    lines = [
        f"## {table.name}",
        "",
        table.description,
        "",
        f"- **Grain**: {table.grain}",
        f"- **Natural key**: {', '.join(f'`{k}`' for k in table.key)}",
        "",
        "| column | type | required | checks | description |",
        "|---|---|---|---|---|",
    ]
    for c in table.columns:
        checks = [ch.describe() for ch in c.checks]
        if c.references:
            checks.append(f"references `{c.references}`")
        if c.pii:
            checks.append("PII (hashed in analytics)")
        if c.default is not None:
            checks.append(f"default {c.default!r}")
        lines.append(
            f"| `{c.name}` | {c.type} | {'yes' if c.required else ''} | "
            f"{'; '.join(checks)} | {c.description} |"
        )
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    """Return the whole data-model document."""
    parts = [_HEADER, "# Contract tables\n"]
    parts += [_table_markdown(t) for t in TABLES.values()]
    parts.append("# System tables\n")
    parts += [_table_markdown(t) for t in SYSTEM_TABLES.values()]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_markdown(), end="")
