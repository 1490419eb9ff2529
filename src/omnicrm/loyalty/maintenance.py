"""Scheduled jobs: expire due lots, apply due tier reviews, purge old idempotency records.

Write operations already do both for the member they touch, so these jobs only catch up
members nobody touched. Each member is processed in its own transaction (lock, change,
commit), so a job can be interrupted and rerun at any time without doing anything twice.

Examples
--------
>>> import datetime as dt
>>> from omnicrm.db import make_engine, make_session_factory, upgrade
>>> from omnicrm.loyalty.maintenance import expire_all
>>> from omnicrm.loyalty.rules import load_rules
>>> engine = make_engine("sqlite://"); upgrade(engine)
>>> report = expire_all(make_session_factory(engine), load_rules())
>>> report.members, report.points
(0, 0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omnicrm.db.base import utcnow
from omnicrm.db.engine import run_transaction
from omnicrm.errors import InputError
from omnicrm.loyalty.ledger import expire_due, lock_member
from omnicrm.loyalty.models import IdempotencyRecord, Member, PointLot
from omnicrm.loyalty.rules import Rules
from omnicrm.loyalty.tiers import review_if_due


@dataclass(frozen=True)
class JobReport:
    """What a job changed: members touched, entries written, points expired."""

    members: int
    entries: int
    points: int


def expire_all(
    factory: Callable[[], Session],
    rules: Rules,
    *,
    now: dt.datetime | None = None,
    actor: str = "system",
) -> JobReport:
    """Expire every lot whose expiry date is at or before ``now`` (default: now)."""
    at = now or utcnow()
    with factory() as session:
        due = list(
            session.scalars(
                select(PointLot.member_id)
                .where(PointLot.remaining > 0, PointLot.expires_at <= at)
                .distinct()
                .order_by(PointLot.member_id)
            )
        )
        session.rollback()
    entries = points = 0

    def one(session: Session, member_id: str) -> int | None:
        """Points expired for the member, or None if another process already did it."""
        member = lock_member(session, member_id)
        entry = expire_due(session, member, at, actor=actor)
        session.commit()
        return None if entry is None else -entry.points

    for member_id in due:
        expired = run_transaction(factory, lambda s, m=member_id: one(s, m))
        if expired is not None:
            entries += 1
            points += expired
    return JobReport(members=len(due), entries=entries, points=points)


def review_all(
    factory: Callable[[], Session], rules: Rules, *, now: dt.datetime | None = None
) -> JobReport:
    """Apply every due tier review; ``members`` counts members whose tier changed."""
    at = now or utcnow()
    with factory() as session:
        due = list(
            session.scalars(
                select(Member.id).where(Member.tier_review_at <= at).order_by(Member.id)
            )
        )
        session.rollback()

    def one(session: Session, member_id: str) -> bool:
        member = lock_member(session, member_id)
        changed = review_if_due(session, member, rules, at)
        session.commit()
        return changed

    changed = sum(run_transaction(factory, lambda s, m=member_id: one(s, m)) for member_id in due)
    return JobReport(members=changed, entries=0, points=0)


def purge_idempotency(
    factory: Callable[[], Session], *, older_than: dt.timedelta, now: dt.datetime | None = None
) -> int:
    """Delete idempotency records older than ``older_than``; return how many.

    A retry that arrives after its record was purged runs again, so keep records longer than
    any client retries (days, not minutes). Natural keys (``order_ref``, ``return_ref``,
    bonus references) keep protecting the big operations after a purge.
    """
    if older_than <= dt.timedelta(0):
        raise InputError(f"older_than {older_than} must be positive, e.g. 30 days")
    cutoff = (now or utcnow()) - older_than

    def purge(session: Session) -> int:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
        )
        session.commit()
        return int(result.rowcount or 0)

    return run_transaction(factory, purge)
