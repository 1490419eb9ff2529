"""Copy the loyalty service's state into the analytical warehouse (``omnicrm loyalty export``).

Tables written (grain first; money is ``DECIMAL(14, 2)``, times are UTC timestamps):

=========================== ==============================================================
table                       one row per
=========================== ==============================================================
``loyalty_members``         member: customer id, tier, status, balance, ledger chain head
                            (contact data, birthday and consents are *not* exported)
``loyalty_tiers``           tier of ``tiers.toml``: threshold, earn multiplier, rank
``loyalty_ledger``          ledger entry (append-only; copied incrementally by entry id)
``loyalty_orders``          committed order of a member: totals, points, returns
``loyalty_promotions``      promotion: benefit type, schedule, budget, uses
``loyalty_discounts``       promotion applied to an order: amount, cost, bonus points
``loyalty_discount_lines``  (order, promotion, line): the discount on that line
``loyalty_coupon_uses``     coupon use: code kind, batch, order, member
=========================== ==============================================================

Every table but the ledger is rewritten (``create_table(..., overwrite=True)``); the ledger is
append-only in the operational database, so only entries newer than the warehouse's highest
``entry_id`` are appended (``full=True`` rewrites it too). The chain heads in
``loyalty_members`` anchor the tamper-evident ledger outside the operational database.

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import export, members
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> from omnicrm.warehouse import connect
>>> session, rules = memory_session(), load_rules()
>>> _ = members.enrol(session, members.MemberInput("C-1"), Context("cli"), rules)
>>> con = connect("duckdb://")
>>> counts = export.export_all(session, con, rules)
>>> counts["loyalty_members"], counts["loyalty_tiers"]
(1, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from omnicrm.loyalty.models import LedgerEntry, LoyaltyOrder, Member
from omnicrm.loyalty.promotions.models import AppliedPromotion, Coupon, CouponUse, PromotionRow
from omnicrm.loyalty.rules import Rules

MONEY = pa.decimal128(14, 2)
TS = pa.timestamp("us", tz="UTC")
BATCH = 50_000


@dataclass(frozen=True)
class Export:
    """One warehouse table: its Arrow schema and the query producing its rows."""

    name: str
    schema: pa.Schema
    query: Callable[[], Select]


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in fields])


EXPORTS = (
    Export(
        "loyalty_members",
        _schema(
            ("member_id", pa.string()),
            ("customer_id", pa.string()),
            ("tier", pa.string()),
            ("status", pa.string()),
            ("points_balance", pa.int64()),
            ("tier_since", TS),
            ("tier_review_at", TS),
            ("ledger_seq", pa.int64()),
            ("ledger_head", pa.string()),
            ("created_at", TS),
            ("updated_at", TS),
        ),
        lambda: select(
            Member.id,
            Member.customer_id,
            Member.tier,
            Member.status,
            Member.points_balance,
            Member.tier_since,
            Member.tier_review_at,
            Member.ledger_seq,
            Member.ledger_head,
            Member.created_at,
            Member.updated_at,
        ).order_by(Member.id),
    ),
    Export(
        "loyalty_orders",
        _schema(
            ("order_ref", pa.string()),
            ("member_id", pa.string()),
            ("store_id", pa.string()),
            ("channel", pa.string()),
            ("currency", pa.string()),
            ("purchased_at", TS),
            ("total_amount", MONEY),
            ("points_earned", pa.int64()),
            ("qualifying_points", pa.int64()),
            ("returned_amount", MONEY),
            ("points_clawed_back", pa.int64()),
        ),
        lambda: select(
            LoyaltyOrder.order_ref,
            LoyaltyOrder.member_id,
            LoyaltyOrder.store_id,
            LoyaltyOrder.channel,
            LoyaltyOrder.currency,
            LoyaltyOrder.purchased_at,
            LoyaltyOrder.total_amount,
            LoyaltyOrder.points_earned,
            LoyaltyOrder.qualifying_points,
            LoyaltyOrder.returned_amount,
            LoyaltyOrder.points_clawed_back,
        ).order_by(LoyaltyOrder.id),
    ),
    Export(
        "loyalty_promotions",
        _schema(
            ("promotion_id", pa.string()),
            ("name", pa.string()),
            ("active", pa.bool_()),
            ("priority", pa.int64()),
            ("exclusive", pa.bool_()),
            ("stack_group", pa.string()),
            ("requires_code", pa.bool_()),
            ("starts_at", TS),
            ("ends_at", TS),
            ("budget", MONEY),
            ("budget_used", MONEY),
            ("max_uses", pa.int64()),
            ("uses", pa.int64()),
            ("per_customer", pa.int64()),
        ),
        lambda: select(
            PromotionRow.id,
            PromotionRow.name,
            PromotionRow.active,
            PromotionRow.priority,
            PromotionRow.exclusive,
            PromotionRow.stack_group,
            PromotionRow.requires_code,
            PromotionRow.starts_at,
            PromotionRow.ends_at,
            PromotionRow.budget,
            PromotionRow.budget_used,
            PromotionRow.max_uses,
            PromotionRow.uses,
            PromotionRow.per_customer,
        ).order_by(PromotionRow.id),
    ),
    Export(
        "loyalty_discounts",
        _schema(
            ("order_ref", pa.string()),
            ("member_id", pa.string()),
            ("promotion_id", pa.string()),
            ("benefit", pa.string()),
            ("coupon_id", pa.int64()),
            ("amount", MONEY),
            ("cost", MONEY),
            ("bonus_points", pa.int64()),
            ("created_at", TS),
        ),
        lambda: select(
            AppliedPromotion.order_ref,
            AppliedPromotion.member_id,
            AppliedPromotion.promotion_id,
            AppliedPromotion.benefit,
            AppliedPromotion.coupon_id,
            AppliedPromotion.amount,
            AppliedPromotion.cost,
            AppliedPromotion.bonus_points,
            AppliedPromotion.created_at,
        ).order_by(AppliedPromotion.id),
    ),
    Export(
        "loyalty_coupon_uses",
        _schema(
            ("coupon_id", pa.int64()),
            ("promotion_id", pa.string()),
            ("kind", pa.string()),
            ("batch", pa.string()),
            ("order_ref", pa.string()),
            ("member_id", pa.string()),
            ("used_at", TS),
        ),
        lambda: (
            select(
                CouponUse.coupon_id,
                CouponUse.promotion_id,
                Coupon.kind,
                Coupon.batch,
                CouponUse.order_ref,
                CouponUse.member_id,
                CouponUse.used_at,
            )
            .join(Coupon, Coupon.id == CouponUse.coupon_id)
            .order_by(CouponUse.id)
        ),
    ),
)

LEDGER_SCHEMA = _schema(
    ("entry_id", pa.int64()),
    ("member_id", pa.string()),
    ("seq", pa.int64()),
    ("kind", pa.string()),
    ("points", pa.int64()),
    ("balance_after", pa.int64()),
    ("qualifying_points", pa.int64()),
    ("spend", MONEY),
    ("occurred_at", TS),
    ("created_at", TS),
    ("order_ref", pa.string()),
    ("reference", pa.string()),
    ("actor", pa.string()),
    ("hash", pa.string()),
)
TIER_SCHEMA = _schema(
    ("tier", pa.string()),
    ("name", pa.string()),
    ("rank", pa.int64()),
    ("threshold", pa.decimal128(18, 2)),
    ("earn_multiplier", pa.decimal128(9, 4)),
    ("member_prices", pa.bool_()),
)
LINE_SCHEMA = _schema(
    ("order_ref", pa.string()),
    ("promotion_id", pa.string()),
    ("line_no", pa.int64()),
    ("amount", MONEY),
)


def _arrow(rows: Sequence[Sequence], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.table(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _ledger_since(session: Session, after: int) -> list[tuple]:
    stmt = (
        select(
            LedgerEntry.id,
            LedgerEntry.member_id,
            LedgerEntry.seq,
            LedgerEntry.kind,
            LedgerEntry.points,
            LedgerEntry.balance_after,
            LedgerEntry.qualifying_points,
            LedgerEntry.spend,
            LedgerEntry.occurred_at,
            LedgerEntry.created_at,
            LoyaltyOrder.order_ref,
            LedgerEntry.reference,
            LedgerEntry.actor,
            LedgerEntry.hash,
        )
        .outerjoin(LoyaltyOrder, LoyaltyOrder.id == LedgerEntry.order_id)
        .where(LedgerEntry.id > after)
        .order_by(LedgerEntry.id)
    )
    return [tuple(r) for r in session.execute(stmt)]


def export_ledger(session: Session, con: BaseBackend, *, full: bool = False) -> int:
    """Append ledger entries newer than the warehouse's highest ``entry_id``; return how many."""
    name = "loyalty_ledger"
    after = 0
    exists = name in con.list_tables()
    if exists and not full:
        top = con.table(name).entry_id.max().execute()
        after = 0 if top is None else int(top)
    rows = _ledger_since(session, after)
    data = _arrow(rows, LEDGER_SCHEMA)
    if exists and not full:
        if rows:
            for start in range(0, len(rows), BATCH):
                con.insert(name, data.slice(start, BATCH))
    else:
        con.create_table(name, data, overwrite=True)
    return len(rows)


def export_all(
    session: Session, con: BaseBackend, rules: Rules, *, full: bool = False
) -> dict[str, int]:
    """Write every loyalty table to the warehouse ``con``; return rows written per table.

    Parameters
    ----------
    session : Session
        A session on the operational database (only read).
    con : ibis backend
        From :func:`omnicrm.warehouse.connect`.
    rules : Rules
        For the tier table.
    full : bool
        Rewrite the ledger instead of appending new entries.
    """
    counts: dict[str, int] = {}
    for spec in EXPORTS:
        rows = [tuple(r) for r in session.execute(spec.query())]
        con.create_table(spec.name, _arrow(rows, spec.schema), overwrite=True)
        counts[spec.name] = len(rows)
    tiers = [
        (t.code, t.name, t.rank, t.threshold, t.earn_multiplier, t.member_prices)
        for t in rules.tiers.tiers
    ]
    con.create_table("loyalty_tiers", _arrow(tiers, TIER_SCHEMA), overwrite=True)
    counts["loyalty_tiers"] = len(tiers)
    lines = [
        (a.order_ref, a.promotion_id, int(n), Decimal(v))
        for a in session.scalars(select(AppliedPromotion).order_by(AppliedPromotion.id))
        for n, v in sorted(a.lines.items(), key=lambda kv: int(kv[0]))
    ]
    con.create_table("loyalty_discount_lines", _arrow(lines, LINE_SCHEMA), overwrite=True)
    counts["loyalty_discount_lines"] = len(lines)
    counts["loyalty_ledger"] = export_ledger(session, con, full=full)
    session.rollback()
    return counts
