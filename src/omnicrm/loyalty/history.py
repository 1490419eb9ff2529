"""Read a member's ledger, newest first, page by page.

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members
>>> from omnicrm.loyalty.history import ledger_page
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> session = memory_session()
>>> m = members.enrol(session, members.MemberInput(customer_id="C-3"), Context("cli"), load_rules())
>>> ledger_page(session, m["member_id"])  # doctest: +ELLIPSIS
{'member_id': ..., 'entries': [], 'next_before_seq': None}
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnicrm.loyalty.errors import InvalidRequestError, MemberNotFoundError
from omnicrm.loyalty.ledger import iso_utc
from omnicrm.loyalty.models import LedgerEntry, LotAllocation, Member

MAX_PAGE = 500


def entry_view(entry: LedgerEntry, allocations: list[tuple[int, int]]) -> dict:
    """Public form of one ledger entry."""
    return {
        "id": entry.id,
        "seq": entry.seq,
        "kind": entry.kind,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "qualifying_points": entry.qualifying_points,
        "spend": f"{entry.spend:.2f}",
        "occurred_at": iso_utc(entry.occurred_at),
        "created_at": iso_utc(entry.created_at),
        "reference": entry.reference,
        "reason": entry.reason,
        "actor": entry.actor,
        "lots": [{"lot_id": lot, "points": p} for lot, p in sorted(allocations)],
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


def ledger_page(
    session: Session, member_id: str, *, limit: int = 50, before_seq: int | None = None
) -> dict:
    """Up to ``limit`` entries of the member, newest first, older than ``before_seq``."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(f"limit {limit} must be between 1 and {MAX_PAGE}", field="limit")
    if session.get(Member, member_id) is None:
        raise MemberNotFoundError(f"member {member_id!r} does not exist")
    stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if before_seq is not None:
        stmt = stmt.where(LedgerEntry.seq < before_seq)
    entries = list(session.scalars(stmt.order_by(LedgerEntry.seq.desc()).limit(limit)))
    allocs: dict[int, list[tuple[int, int]]] = {e.id: [] for e in entries}
    if entries:
        rows = session.execute(
            select(LotAllocation.entry_id, LotAllocation.lot_id, LotAllocation.points).where(
                LotAllocation.entry_id.in_(list(allocs))
            )
        )
        for entry_id, lot_id, points in rows:
            allocs[entry_id].append((lot_id, points))
    more = len(entries) == limit and entries[-1].seq > 1
    return {
        "member_id": member_id,
        "entries": [entry_view(e, allocs[e.id]) for e in entries],
        "next_before_seq": entries[-1].seq if more else None,
    }
