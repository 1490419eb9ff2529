"""Migrations: upgrade from empty, rerun safely, downgrade, and refuse stale databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text
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
from omnicrm.loyalty.models import Member
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


def test_upgrading_fills_each_members_next_expiry_from_its_lots(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine, "0003")  # a database from before the column existed
    with_lots, without = "m_with_lots", "m_without"
    with engine.begin() as conn:
        for member in (with_lots, without):
            conn.execute(
                text(
                    "insert into loyalty_members (id, customer_id, status, tier, tier_since, "
                    "points_balance, ledger_seq, ledger_head, created_at, updated_at) values "
                    "(:m, :m, 'active', 'silver', '2026-01-01', 12, 0, '', '2026-01-01', "
                    "'2026-01-01')"
                ),
                {"m": member},
            )
        for remaining, expires in ((0, "2027-01-01"), (5, "2028-03-31"), (7, "2028-06-30")):
            conn.execute(
                text(
                    "insert into loyalty_lots (member_id, points, remaining, expires_at, "
                    "created_at) values (:m, 10, :r, :e, '2026-01-01')"
                ),
                {"m": with_lots, "r": remaining, "e": expires},
            )
    upgrade(engine)
    with make_session_factory(engine)() as session:
        got = {m.id: m.next_expiry_at for m in session.scalars(select(Member))}
    assert got[with_lots] == dt.datetime(2028, 3, 31, tzinfo=dt.UTC)  # the spent lot is ignored
    assert got[without] is None
    engine.dispose()
