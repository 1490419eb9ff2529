"""Declarative base and column types shared by every operational table.

The operational database (loyalty, campaigns, feedback) is separate from the analytical
warehouse. All its ORM models derive from :class:`Base`, whose metadata carries a naming
convention so that Alembic migrations name constraints identically on SQLite and PostgreSQL.

Examples
--------
>>> from omnicrm.db.base import Base, utcnow
>>> Base.metadata.naming_convention["pk"]
'pk_%(table_name)s'
>>> utcnow().tzinfo is not None
True
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import DateTime, MetaData, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no timezone type: values are normalised to UTC before they are written and
    tagged as UTC when read, so Python code never sees a naive datetime. Writing a naive
    datetime is refused, because its meaning is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """An exact amount of money with two decimal places (``NUMERIC(14, 2)``).

    PostgreSQL stores it exactly. SQLite has no decimal type and keeps NUMERIC values as
    8-byte floats, which represent every cent amount below 10^13 exactly after rounding back
    to cents; this type always hands Python code a :class:`~decimal.Decimal` quantised to
    cents and refuses to store sub-cent values. SQL sums on SQLite are rounded back to cents.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        value = Decimal(value)
        if value != value.quantize(CENT):
            raise ValueError(f"amount {value} has more than 2 decimal places")
        return value.quantize(CENT)

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(CENT)


class Base(DeclarativeBase):
    """Base class of every operational ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
