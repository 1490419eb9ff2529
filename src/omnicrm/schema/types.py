"""Building blocks of the data contract: logical types, value checks, columns and tables.

The contract is plain data. Ingestion validates against it, the warehouse creates tables from
it, ``docs/data-model.md`` is generated from it and tests are parametrised over it.

Examples
--------
>>> from omnicrm.schema.types import Column, Range
>>> price = Column("unit_price", "money", required=True, checks=(Range(min=0),),
...                description="Price per unit before discounts.")
>>> price.checks[0].describe()
'>= 0'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LogicalType = Literal["string", "integer", "money", "quantity", "timestamp", "date", "boolean"]

LOGICAL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "money": "DECIMAL(18,2)",
    "quantity": "DECIMAL(18,3)",
    "timestamp": "TIMESTAMP WITH TIME ZONE (stored in UTC)",
    "date": "DATE",
    "boolean": "BOOLEAN",
}
"""Logical type -> warehouse type, as documented in ``docs/data-model.md``."""

MONEY_PRECISION, MONEY_SCALE = 18, 2
QUANTITY_PRECISION, QUANTITY_SCALE = 18, 3


@dataclass(frozen=True)
class Check:
    """A rule every non-null value of a column must satisfy."""

    def describe(self) -> str:  # pragma: no cover - overridden by every subclass
        """Return the rule in a few words, for documentation and error messages."""
        raise TypeError(f"{type(self).__name__} must define describe()")


@dataclass(frozen=True)
class Range(Check):
    """Value lies between ``min`` and ``max`` (inclusive); either bound may be omitted."""

    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"between {self.min:g} and {self.max:g}"
        if self.min is not None:
            return f">= {self.min:g}"
        return f"<= {self.max:g}"


@dataclass(frozen=True)
class NotZero(Check):
    """Value is not zero (a quantity of 0 carries no information)."""

    def describe(self) -> str:
        return "!= 0"


@dataclass(frozen=True)
class OneOf(Check):
    """Value is one of a fixed set of codes (compared exactly, case-sensitive)."""

    values: tuple[str, ...] = ()

    def describe(self) -> str:
        return "one of " + ", ".join(self.values)


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Parameters
    ----------
    name : str
        Column name in the warehouse (snake_case).
    type : LogicalType
        Logical type; see :data:`LOGICAL_TYPES`.
    required : bool
        A missing (null/empty) value rejects the row.
    description : str
        What the value means, in one sentence.
    checks : tuple of Check
        Value rules applied to non-null values.
    pii : bool
        Personal data: enters analytics tables only as a keyed hash.
    references : str, optional
        ``"table.column"`` this column points to (checked on request).
    default : object, optional
        Value used when the source has no such column.
    """

    name: str
    type: LogicalType
    required: bool = False
    description: str = ""
    checks: tuple[Check, ...] = ()
    pii: bool = False
    references: str | None = None
    default: object = None

    @property
    def warehouse_type(self) -> str:
        """The warehouse SQL type of this column."""
        return LOGICAL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One contract table: its grain, natural key and columns.

    Parameters
    ----------
    name : str
        Table name in the warehouse.
    grain : str
        What one row is ("one row per order line").
    key : tuple of str
        Natural key; two rows with the same key are duplicates (the first one loaded wins).
    columns : tuple of Column
        Columns in warehouse order.
    description : str
        What the table is for.
    """

    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name!r} declares a column twice: {names}")
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"table {self.name!r}: key columns {missing} are not columns")
        self._by_name.update({c.name: c for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        """Column names in warehouse order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the columns a row cannot lack."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """Return the column called ``name``.

        Raises
        ------
        KeyError
            If the table has no such column; the message lists the ones it has.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(
                f"table {self.name!r} has no column {name!r}; "
                f"its columns are: {', '.join(self.column_names)}"
            ) from None
