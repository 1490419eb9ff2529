"""Data contract: canonical tables, their grain, columns, types and checks."""

from omnicrm.schema.tables import (
    CHANNELS,
    EVENT_TYPES,
    ID_TYPES,
    SYSTEM_TABLES,
    TABLES,
    get_table,
)
from omnicrm.schema.types import Check, Column, NotZero, OneOf, Range, Table

__all__ = [
    "CHANNELS",
    "EVENT_TYPES",
    "ID_TYPES",
    "SYSTEM_TABLES",
    "TABLES",
    "Check",
    "Column",
    "NotZero",
    "OneOf",
    "Range",
    "Table",
    "get_table",
]
