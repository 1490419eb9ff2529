"""Tables of the loyalty domain (SQLAlchemy 2 ORM).

Grain of each table:

* ``loyalty_members`` — one row per enrolled member, linked to one warehouse ``customer_id``.
  Carries the tier state and two counters kept in step with the ledger under the member's row
  lock: the spendable ``points_balance`` and the hash chain head (``ledger_seq``,
  ``ledger_head``).
* ``loyalty_consents`` — one row per consent *change* (channel, granted or withdrawn, source,
  time); the current consent of a channel is its newest row. History is never updated.
* ``loyalty_orders`` / ``loyalty_order_lines`` — one row per committed order (and line) that
  earned points, with what was returned and clawed back. ``loyalty_order_discounts`` records
  discounts applied to an order (filled by checkout pricing later; accepted on earn today).
* ``loyalty_ledger`` — one row per balance change, append-only, hash-chained per member.
* ``loyalty_lots`` — one row per credit (earn, bonus, positive adjustment): points, what
  remains, when it expires. The entry that created a lot is its positive allocation.
* ``loyalty_lot_allocations`` — one row per (ledger entry, lot) movement. For every entry the
  allocations add up to its points; for every lot they add up to what remains.
* ``loyalty_redemptions`` — one row per reward redeemed.
* ``loyalty_idempotency`` — one row per (client, idempotency key) with the stored result.
* ``loyalty_audit`` — one row per administrative action.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omnicrm.db.base import Base, Money, UTCDateTime, utcnow

ID = String(40)
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class Member(Base):
    __tablename__ = "loyalty_members"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    tier: Mapped[str] = mapped_column(String(40))
    tier_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    tier_review_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    grace_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    ledger_seq: Mapped[int] = mapped_column(Integer, default=0)
    ledger_head: Mapped[str] = mapped_column(String(64))
    next_expiry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """No lot of the member with points left expires before this (``None``: no such lot).
    A lower bound kept by :mod:`omnicrm.loyalty.ledger`; it lets writes skip the search for
    due lots."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    consents: Mapped[list[Consent]] = relationship(
        back_populates="member", order_by="Consent.id", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("points_balance >= 0", name="balance_not_negative"),
        CheckConstraint("status in ('active', 'closed')", name="status_known"),
    )


class Consent(Base):
    __tablename__ = "loyalty_consents"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("loyalty_members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="consents")


class LoyaltyOrder(Base):
    __tablename__ = "loyalty_orders"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("loyalty_members.id"), index=True)
    order_ref: Mapped[str] = mapped_column(String(100), unique=True)
    store_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    purchased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    total_amount: Mapped[Decimal] = mapped_column(Money)
    points_earned: Mapped[int] = mapped_column(BigInteger)
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    returned_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    points_clawed_back: Mapped[int] = mapped_column(BigInteger, default=0)
    clawback_shortfall: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.line_no", lazy="raise")


class OrderLine(Base):
    __tablename__ = "loyalty_order_lines"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("loyalty_orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    points: Mapped[int] = mapped_column(BigInteger)
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    returned_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    points_clawed_back: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (UniqueConstraint("order_id", "line_no"),)


class OrderDiscount(Base):
    __tablename__ = "loyalty_order_discounts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("loyalty_orders.id"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)


class LedgerEntry(Base):
    __tablename__ = "loyalty_ledger"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("loyalty_members.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    qualifying_points: Mapped[int] = mapped_column(BigInteger, default=0)
    spend: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_orders.id"))
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    allocations: Mapped[list[LotAllocation]] = relationship(
        order_by="LotAllocation.lot_id", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("member_id", "seq"),
        Index("ix_loyalty_ledger_member_kind_occurred", "member_id", "kind", "occurred_at"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    )


class PointLot(Base):
    __tablename__ = "loyalty_lots"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("loyalty_members.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_orders.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("remaining >= 0 and remaining <= points", name="remaining_in_range"),
        Index("ix_loyalty_lots_member_expiry", "member_id", "expires_at", "id"),
    )


class LotAllocation(Base):
    __tablename__ = "loyalty_lot_allocations"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_ledger.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("loyalty_lots.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("entry_id", "lot_id"),)


class Redemption(Base):
    __tablename__ = "loyalty_redemptions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("loyalty_members.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_ledger.id"))
    reward_code: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[Decimal | None] = mapped_column(Money)
    voucher_code: Mapped[str] = mapped_column(String(40), unique=True)
    order_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    __tablename__ = "loyalty_idempotency"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(50))
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("client", "key"),)


class AuditEntry(Base):
    __tablename__ = "loyalty_audit"

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict] = mapped_column(JSON)
