"""Tables of promotions and coupons (SQLAlchemy 2 ORM; migration ``0003``).

Grain:

* ``loyalty_promotions`` — one row per promotion: its definition (canonical JSON), the
  columns pricing filters on, and its counters ``uses`` / ``budget_used``, which only move
  through one conditional ``UPDATE … WHERE uses < max_uses AND budget_used + x <= budget``
  (CHECK constraints repeat the limits as the last line of defence).
* ``loyalty_coupons`` — one row per coupon code: bulk-generated single-use codes
  (``max_uses = 1``) or shared codes (``max_uses`` empty or large). Only the SHA-256 of the
  normalised code is stored (unique), with its last 4 characters as a hint for support.
* ``loyalty_coupon_uses`` — one row per (coupon, order) use.
* ``loyalty_applied_promotions`` — one row per promotion applied to a committed order:
  money cost (discount + gifts), bonus points, per-line discounts — the input of ROI reports.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from omnicrm.db.base import Base, Money, UTCDateTime
from omnicrm.loyalty.models import BigID


class PromotionRow(Base):
    __tablename__ = "loyalty_promotions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    stack_group: Mapped[str | None] = mapped_column(String(40))
    requires_code: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    budget_used: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    max_uses: Mapped[int | None] = mapped_column(BigInteger)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    per_customer: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("budget_used >= 0", name="budget_used_not_negative"),
        CheckConstraint("budget IS NULL OR budget_used <= budget", name="within_budget"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="within_max_uses"),
    )


class Coupon(Base):
    __tablename__ = "loyalty_coupons"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    promotion_id: Mapped[str] = mapped_column(ForeignKey("loyalty_promotions.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(10))
    batch: Mapped[str | None] = mapped_column(String(40), index=True)
    max_uses: Mapped[int | None] = mapped_column(BigInteger)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("loyalty_members.id"))
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind in ('single', 'shared')", name="kind_known"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="within_max_uses"),
    )


class CouponUse(Base):
    __tablename__ = "loyalty_coupon_uses"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("loyalty_coupons.id"))
    promotion_id: Mapped[str] = mapped_column(String(40))
    order_ref: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str | None] = mapped_column(String(40))
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("coupon_id", "order_ref"),)


class AppliedPromotion(Base):
    __tablename__ = "loyalty_applied_promotions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    order_ref: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_orders.id"))
    member_id: Mapped[str | None] = mapped_column(String(40))
    promotion_id: Mapped[str] = mapped_column(ForeignKey("loyalty_promotions.id"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_coupons.id"))
    benefit: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("order_ref", "promotion_id"),
        Index("ix_loyalty_applied_promotions_member_promotion", "member_id", "promotion_id"),
    )
