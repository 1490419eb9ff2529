"""Check the ledger: hash chain, running balances, lot allocations, member counters.

:func:`verify_ledger` walks every entry in id order (streaming, constant memory per member)
and reports every inconsistency, the first one first. Checks, per entry:

1. ``seq`` follows the member's previous entry (no gap, no reorder);
2. ``prev_hash`` equals the hash of the member's previous entry;
3. ``balance_after`` equals the previous balance plus ``points``;
4. the entry's lot allocations add up to its ``points``;
5. ``hash`` equals SHA-256 of the canonical serialisation of its fields.

Then, per member: the chain head and balance stored on the member row match the last
entry (removing the newest entries is detected), and for every lot the allocations add up to
what remains.

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty.verify import verify_ledger
>>> verify_ledger(memory_session()).summary()
'ok, 0 entries'
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from omnicrm.loyalty.ledger import GENESIS_HASH, entry_fields, entry_hash
from omnicrm.loyalty.models import LedgerEntry, LotAllocation, Member, PointLot

CHUNK = 2000


@dataclass(frozen=True)
class Problem:
    """One inconsistency: the entry (if any), the member and what differs."""

    member_id: str
    detail: str
    entry_id: int | None = None

    def __str__(self) -> str:
        where = (
            f"entry {self.entry_id} (member {self.member_id})"
            if self.entry_id is not None
            else f"member {self.member_id}"
        )
        return f"{where}: {self.detail}"


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_ledger`."""

    entries: int = 0
    members: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return f"ok, {self.entries} entries"
        return f"TAMPERED: {self.first} ({len(self.problems)} problem(s) in {self.entries} entries)"


@dataclass
class _Chain:
    seq: int = 0
    hash: str = GENESIS_HASH
    balance: int = 0


def _check_entry(entry: LedgerEntry, allocs: list[tuple[int, int]], chain: _Chain) -> list[str]:
    issues = []
    if entry.seq != chain.seq + 1:
        issues.append(
            f"seq is {entry.seq}, expected {chain.seq + 1} (an entry is missing or moved)"
        )
    if entry.prev_hash != chain.hash:
        issues.append(
            f"prev_hash {entry.prev_hash[:12]}… does not match the previous entry's "
            f"hash {chain.hash[:12]}…"
        )
    if entry.balance_after != chain.balance + entry.points:
        issues.append(
            f"balance_after is {entry.balance_after} but previous balance "
            f"{chain.balance} + points {entry.points} = {chain.balance + entry.points}"
        )
    moved = sum(p for _, p in allocs)
    if moved != entry.points:
        issues.append(f"lot allocations add up to {moved}, points is {entry.points}")
    computed = entry_hash(entry_fields(entry, allocs))
    if computed != entry.hash:
        issues.append(
            f"stored hash {entry.hash[:12]}… differs from the hash of its fields "
            f"{computed[:12]}… (a field was changed after it was written)"
        )
    return issues


def verify_ledger(session: Session, member_id: str | None = None) -> VerifyReport:
    """Verify every entry (or one member's), reporting problems in entry-id order."""
    report = VerifyReport()
    chains: dict[str, _Chain] = defaultdict(_Chain)
    last_id = 0
    while True:
        stmt = select(LedgerEntry).where(LedgerEntry.id > last_id)
        if member_id is not None:
            stmt = stmt.where(LedgerEntry.member_id == member_id)
        batch = list(session.scalars(stmt.order_by(LedgerEntry.id).limit(CHUNK)))
        if not batch:
            break
        ids = [e.id for e in batch]
        allocs: dict[int, list[tuple[int, int]]] = defaultdict(list)
        rows = session.execute(
            select(LotAllocation.entry_id, LotAllocation.lot_id, LotAllocation.points).where(
                LotAllocation.entry_id.in_(ids)
            )
        )
        for entry_id, lot_id, points in rows:
            allocs[entry_id].append((lot_id, points))
        for entry in batch:
            chain = chains[entry.member_id]
            for issue in _check_entry(entry, allocs[entry.id], chain):
                report.problems.append(Problem(entry.member_id, issue, entry.id))
            chain.seq, chain.hash, chain.balance = entry.seq, entry.hash, entry.balance_after
            report.entries += 1
        last_id = ids[-1]
        session.expunge_all()
    members = select(Member)
    if member_id is not None:
        members = members.where(Member.id == member_id)
    for member in session.scalars(members.order_by(Member.id)):
        report.members += 1
        chain = chains.get(member.id, _Chain())
        if (member.ledger_seq, member.ledger_head) != (chain.seq, chain.hash):
            report.problems.append(
                Problem(
                    member.id,
                    (
                        f"member row says the chain ends at seq {member.ledger_seq} "
                        f"({member.ledger_head[:12]}…), the ledger ends at seq {chain.seq} "
                        f"({chain.hash[:12]}…): entries were removed or added"
                    ),
                )
            )
        if member.points_balance != chain.balance:
            report.problems.append(
                Problem(
                    member.id,
                    (
                        f"points_balance {member.points_balance} differs from the ledger "
                        f"sum {chain.balance}"
                    ),
                )
            )
    lot_sums = (
        select(
            PointLot.id,
            PointLot.member_id,
            PointLot.remaining,
            func.coalesce(func.sum(LotAllocation.points), 0),
        )
        .join(LotAllocation, LotAllocation.lot_id == PointLot.id, isouter=True)
        .group_by(PointLot.id, PointLot.member_id, PointLot.remaining)
        .order_by(PointLot.id)
    )
    if member_id is not None:
        lot_sums = lot_sums.where(PointLot.member_id == member_id)
    for lot_id, owner, remaining, moved in session.execute(lot_sums):
        if remaining != moved:
            report.problems.append(
                Problem(
                    owner,
                    (
                        f"lot {lot_id} has {remaining} points remaining, its allocations "
                        f"add up to {moved}"
                    ),
                )
            )
    report.problems.extend(_expiry_bounds(session, member_id))
    return report


def _expiry_bounds(session: Session, member_id: str | None) -> list[Problem]:
    """Members whose ``next_expiry_at`` is after a lot that still holds points: expiry would
    skip that lot (the bound must never be later than the earliest such lot)."""
    earliest = (
        select(PointLot.member_id, func.min(PointLot.expires_at).label("first"))
        .where(PointLot.remaining > 0)
        .group_by(PointLot.member_id)
        .subquery()
    )
    stmt = (
        select(Member.id, Member.next_expiry_at, earliest.c.first)
        .join(earliest, earliest.c.member_id == Member.id)
        .where(or_(Member.next_expiry_at.is_(None), Member.next_expiry_at > earliest.c.first))
        .order_by(Member.id)
    )
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    return [
        Problem(
            owner,
            f"next_expiry_at is {bound or 'not set'} but a lot with points left expires at "
            f"{first}: the expiry of that lot would be skipped",
        )
        for owner, bound, first in session.execute(stmt)
    ]
