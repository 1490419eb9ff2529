"""Loyalty core: members, consents, orders, ledger, lots, redemptions, idempotency, audit, keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 20:37:55.699045

Types are spelled out (``sa.DateTime``, ``sa.Numeric``) instead of the ORM's decorated types,
so this script keeps working whatever later happens to the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "scope in ('pos', 'app', 'analyst', 'admin')", name=op.f("ck_api_keys_scope_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "loyalty_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_audit")),
    )
    with op.batch_alter_table("loyalty_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loyalty_audit_at"), ["at"], unique=False)

    op.create_table(
        "loyalty_idempotency",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=50), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_idempotency")),
        sa.UniqueConstraint("client", "key", name=op.f("uq_loyalty_idempotency_client_key")),
    )
    op.create_table(
        "loyalty_members",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=False),
        sa.Column("tier_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tier_review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points_balance", sa.BigInteger(), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_head", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('active', 'closed')", name=op.f("ck_loyalty_members_status_known")
        ),
        sa.CheckConstraint(
            "points_balance >= 0", name=op.f("ck_loyalty_members_balance_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_members")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_loyalty_members_customer_id")),
    )
    op.create_table(
        "loyalty_consents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_consents_member_id_loyalty_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_consents")),
    )
    with op.batch_alter_table("loyalty_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_consents_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "loyalty_orders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=False),
        sa.Column("store_id", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purchased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("returned_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("points_clawed_back", sa.BigInteger(), nullable=False),
        sa.Column("clawback_shortfall", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_orders_member_id_loyalty_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_orders")),
        sa.UniqueConstraint("order_ref", name=op.f("uq_loyalty_orders_order_ref")),
    )
    with op.batch_alter_table("loyalty_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_orders_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "loyalty_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("spend", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_loyalty_ledger_balance_after_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_ledger_member_id_loyalty_members"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["loyalty_orders.id"],
            name=op.f("fk_loyalty_ledger_order_id_loyalty_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_ledger")),
        sa.UniqueConstraint("member_id", "seq", name=op.f("uq_loyalty_ledger_member_id_seq")),
    )
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loyalty_ledger_member_kind_occurred",
            ["member_id", "kind", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "loyalty_lots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 and remaining <= points",
            name=op.f("ck_loyalty_lots_remaining_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_lots_member_id_loyalty_members"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["loyalty_orders.id"],
            name=op.f("fk_loyalty_lots_order_id_loyalty_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_lots")),
    )
    with op.batch_alter_table("loyalty_lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loyalty_lots_member_expiry", ["member_id", "expires_at", "id"], unique=False
        )

    op.create_table(
        "loyalty_order_discounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["loyalty_orders.id"],
            name=op.f("fk_loyalty_order_discounts_order_id_loyalty_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_order_discounts")),
    )
    with op.batch_alter_table("loyalty_order_discounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_order_discounts_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "loyalty_order_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("returned_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("points_clawed_back", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["loyalty_orders.id"],
            name=op.f("fk_loyalty_order_lines_order_id_loyalty_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_order_lines")),
        sa.UniqueConstraint(
            "order_id", "line_no", name=op.f("uq_loyalty_order_lines_order_id_line_no")
        ),
    )
    with op.batch_alter_table("loyalty_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_order_lines_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "loyalty_lot_allocations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["loyalty_ledger.id"],
            name=op.f("fk_loyalty_lot_allocations_entry_id_loyalty_ledger"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["loyalty_lots.id"],
            name=op.f("fk_loyalty_lot_allocations_lot_id_loyalty_lots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_lot_allocations")),
        sa.UniqueConstraint(
            "entry_id", "lot_id", name=op.f("uq_loyalty_lot_allocations_entry_id_lot_id")
        ),
    )
    with op.batch_alter_table("loyalty_lot_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_lot_allocations_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loyalty_lot_allocations_lot_id"), ["lot_id"], unique=False
        )

    op.create_table(
        "loyalty_redemptions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reward_code", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("voucher_code", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["loyalty_ledger.id"],
            name=op.f("fk_loyalty_redemptions_entry_id_loyalty_ledger"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_redemptions_member_id_loyalty_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_redemptions")),
        sa.UniqueConstraint("voucher_code", name=op.f("uq_loyalty_redemptions_voucher_code")),
    )
    with op.batch_alter_table("loyalty_redemptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_redemptions_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_redemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_redemptions_member_id"))

    op.drop_table("loyalty_redemptions")
    with op.batch_alter_table("loyalty_lot_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_lot_allocations_lot_id"))
        batch_op.drop_index(batch_op.f("ix_loyalty_lot_allocations_entry_id"))

    op.drop_table("loyalty_lot_allocations")
    with op.batch_alter_table("loyalty_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_order_lines_order_id"))

    op.drop_table("loyalty_order_lines")
    with op.batch_alter_table("loyalty_order_discounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_order_discounts_order_id"))

    op.drop_table("loyalty_order_discounts")
    with op.batch_alter_table("loyalty_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_lots_member_expiry")

    op.drop_table("loyalty_lots")
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_ledger_member_kind_occurred")

    op.drop_table("loyalty_ledger")
    with op.batch_alter_table("loyalty_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_orders_member_id"))

    op.drop_table("loyalty_orders")
    with op.batch_alter_table("loyalty_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_consents_member_id"))

    op.drop_table("loyalty_consents")
    op.drop_table("loyalty_members")
    op.drop_table("loyalty_idempotency")
    with op.batch_alter_table("loyalty_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_audit_at"))

    op.drop_table("loyalty_audit")
    op.drop_table("api_keys")
