"""Promotions, coupon codes, coupon uses and applied promotions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 21:20:00

Budgets, total uses and single-use codes are enforced by conditional updates in the
services and repeated here as CHECK constraints (``uses <= max_uses``,
``budget_used <= budget``), so no code path can exceed them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(14, 2)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "loyalty_promotions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("stack_group", sa.String(40), nullable=True),
        sa.Column("requires_code", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("budget", MONEY, nullable=True),
        sa.Column("budget_used", MONEY, nullable=False),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("per_customer", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "budget_used >= 0", name=op.f("ck_loyalty_promotions_budget_used_not_negative")
        ),
        sa.CheckConstraint(
            "budget IS NULL OR budget_used <= budget",
            name=op.f("ck_loyalty_promotions_within_budget"),
        ),
        sa.CheckConstraint(
            "max_uses IS NULL OR uses <= max_uses",
            name=op.f("ck_loyalty_promotions_within_max_uses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_promotions")),
    )
    op.create_table(
        "loyalty_coupons",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("promotion_id", sa.String(40), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("batch", sa.String(40), nullable=True),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.String(40), nullable=True),
        sa.Column("valid_from", TS, nullable=True),
        sa.Column("valid_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "kind in ('single', 'shared')", name=op.f("ck_loyalty_coupons_kind_known")
        ),
        sa.CheckConstraint(
            "max_uses IS NULL OR uses <= max_uses", name=op.f("ck_loyalty_coupons_within_max_uses")
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["loyalty_promotions.id"],
            name=op.f("fk_loyalty_coupons_promotion_id_loyalty_promotions"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.id"],
            name=op.f("fk_loyalty_coupons_member_id_loyalty_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_coupons")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_loyalty_coupons_code_hash")),
    )
    op.create_index(op.f("ix_loyalty_coupons_promotion_id"), "loyalty_coupons", ["promotion_id"])
    op.create_index(op.f("ix_loyalty_coupons_batch"), "loyalty_coupons", ["batch"])
    op.create_table(
        "loyalty_coupon_uses",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("coupon_id", BIG_ID, nullable=False),
        sa.Column("promotion_id", sa.String(40), nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=False),
        sa.Column("member_id", sa.String(40), nullable=True),
        sa.Column("used_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["loyalty_coupons.id"],
            name=op.f("fk_loyalty_coupon_uses_coupon_id_loyalty_coupons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_coupon_uses")),
        sa.UniqueConstraint(
            "coupon_id", "order_ref", name=op.f("uq_loyalty_coupon_uses_coupon_id_order_ref")
        ),
    )
    op.create_index(op.f("ix_loyalty_coupon_uses_order_ref"), "loyalty_coupon_uses", ["order_ref"])
    op.create_table(
        "loyalty_applied_promotions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=False),
        sa.Column("order_id", BIG_ID, nullable=True),
        sa.Column("member_id", sa.String(40), nullable=True),
        sa.Column("promotion_id", sa.String(40), nullable=False),
        sa.Column("coupon_id", BIG_ID, nullable=True),
        sa.Column("benefit", sa.String(30), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["loyalty_orders.id"],
            name=op.f("fk_loyalty_applied_promotions_order_id_loyalty_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["loyalty_promotions.id"],
            name=op.f("fk_loyalty_applied_promotions_promotion_id_loyalty_promotions"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["loyalty_coupons.id"],
            name=op.f("fk_loyalty_applied_promotions_coupon_id_loyalty_coupons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_applied_promotions")),
        sa.UniqueConstraint(
            "order_ref",
            "promotion_id",
            name=op.f("uq_loyalty_applied_promotions_order_ref_promotion_id"),
        ),
    )
    op.create_index(
        "ix_loyalty_applied_promotions_member_promotion",
        "loyalty_applied_promotions",
        ["member_id", "promotion_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_loyalty_applied_promotions_member_promotion", table_name="loyalty_applied_promotions"
    )
    op.drop_table("loyalty_applied_promotions")
    op.drop_index(op.f("ix_loyalty_coupon_uses_order_ref"), table_name="loyalty_coupon_uses")
    op.drop_table("loyalty_coupon_uses")
    op.drop_index(op.f("ix_loyalty_coupons_batch"), table_name="loyalty_coupons")
    op.drop_index(op.f("ix_loyalty_coupons_promotion_id"), table_name="loyalty_coupons")
    op.drop_table("loyalty_coupons")
    op.drop_table("loyalty_promotions")
