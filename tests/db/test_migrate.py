"""Migrations: upgrade from empty, rerun safely, downgrade, and refuse stale databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from omnicrm.db import (
    NotMigratedError,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    make_session_factory,
    require_current,
    upgrade,
)
from omnicrm.db.base import Base
from omnicrm.db.registry import import_models
from omnicrm.db.testing import temporary_schema
from omnicrm.loyalty import members, points
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.rules import load_rules

TABLES = {
    "api_keys",
    "loyalty_applied_promotions",
    "loyalty_audit",
    "loyalty_coupon_uses",
    "loyalty_coupons",
    "loyalty_consents",
    "loyalty_idempotency",
    "loyalty_ledger",
    "loyalty_lot_allocations",
    "loyalty_lots",
    "loyalty_members",
    "loyalty_order_discounts",
    "loyalty_order_lines",
    "loyalty_orders",
    "loyalty_promotions",
    "loyalty_redemptions",
}


def roundtrip(engine) -> None:
    assert current_revision(engine) is None
    with pytest.raises(NotMigratedError, match="has never been migrated"):
        require_current(engine)
    upgrade(engine)
    upgrade(engine)  # rerunning is a no-op
    assert current_revision(engine) == head_revision()
    require_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    factory = make_session_factory(engine)
    with factory() as session:
        ctx, rules = Context("test"), load_rules()
        member = members.enrol(session, members.MemberInput("C-1"), ctx, rules)["member_id"]
        points.adjust(session, member, 10, "one entry", ctx, rules)
    with factory() as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("delete from loyalty_ledger"))
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) is None


def test_upgrade_and_downgrade_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    roundtrip(engine)
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_and_downgrade_on_postgres(postgres_url):
    with temporary_schema(postgres_url, "loyalty_mig") as url:
        engine = make_engine(url)
        roundtrip(engine)
        engine.dispose()


def test_the_migration_creates_exactly_the_tables_of_the_models(tmp_path):
    import_models()
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    created = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert created == set(Base.metadata.tables) == TABLES


def test_models_and_migration_agree_column_by_column(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import_models()
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
