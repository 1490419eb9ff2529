"""The append-only points ledger: lots, allocations and the per-member hash chain.

Every change of a member's points is one :class:`~omnicrm.loyalty.models.LedgerEntry`. Credits
(earn, bonus, positive adjustment) create a lot; debits (redeem, clawback, expiry, negative
adjustment) take points from lots, oldest-expiring first. Each movement is a
:class:`~omnicrm.loyalty.models.LotAllocation`, so for every entry the allocations add up to its
points and for every lot they add up to what remains. The member's ``points_balance`` counter
moves with every entry, so balance = sum of lot remainders = sum of ledger points.

Each entry stores ``hash = SHA-256(canonical JSON of its fields, prev_hash)`` where
``prev_hash`` is the hash of the member's previous entry (64 zeros for the first). The
member row keeps the chain head (``ledger_seq``, ``ledger_head``) so removing the newest
entries is detected too. Nothing in this module commits: callers (services) hold the member's
row lock (:func:`lock_member`) and commit once.

Examples
--------
>>> from omnicrm.loyalty.ledger import canonical_json, GENESIS_HASH
>>> canonical_json({"b": 1, "a": "x"})
b'{"a":"x","b":1}'
>>> len(GENESIS_HASH)
64
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from omnicrm.loyalty.errors import InsufficientPointsError, MemberNotFoundError
from omnicrm.loyalty.models import LedgerEntry, LotAllocation, Member, PointLot

GENESIS_HASH = "0" * 64
CREDIT_KINDS = ("earn", "bonus", "adjust")
KINDS = ("earn", "bonus", "redeem", "clawback", "expire", "adjust")


@dataclass(frozen=True)
class Movement:
    """Points moved into (positive) or out of (negative) one lot.

    ``filled`` marks the movement that creates a lot: the lot is inserted already holding its
    points (one ``INSERT`` rather than an ``INSERT`` and an ``UPDATE``).
    """

    lot: PointLot
    points: int
    filled: bool = False


def canonical_json(fields: dict) -> bytes:
    """Canonical serialisation: sorted keys, no whitespace, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def iso_utc(value: dt.datetime | None) -> str | None:
    """``value`` as ISO 8601 in UTC with microseconds (``2026-01-02T03:04:05.000000Z``)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_fields(entry: LedgerEntry, allocations: Sequence[tuple[int, int]]) -> dict:
    """The fields covered by an entry's hash (everything but ``id`` and ``hash``)."""
    return {
        "member_id": entry.member_id,
        "seq": entry.seq,
        "kind": entry.kind,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "qualifying_points": entry.qualifying_points,
        "spend": f"{Decimal(entry.spend):.2f}",
        "occurred_at": iso_utc(entry.occurred_at),
        "created_at": iso_utc(entry.created_at),
        "order_id": entry.order_id,
        "reference": entry.reference,
        "reason": entry.reason,
        "actor": entry.actor,
        "prev_hash": entry.prev_hash,
        "allocations": sorted([int(lot), int(points)] for lot, points in allocations),
    }


def entry_hash(fields: dict) -> str:
    """SHA-256 hex digest of the canonical serialisation of ``fields``."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


# Statements of the hot paths are built once, with bound parameters: building a select and
# computing its cache key cost more CPU than PostgreSQL spends running it.
_LOCK_MEMBER = (
    select(Member)
    .where(Member.id == bindparam("member_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_LOT_WHERE = (
    PointLot.member_id == bindparam("member_id"),
    PointLot.remaining > 0,
    PointLot.expires_at > bindparam("now"),
)
_LOT_ORDER = (PointLot.expires_at, PointLot.id)


def _needed_lots() -> Select:
    before = func.sum(PointLot.remaining).over(order_by=_LOT_ORDER) - PointLot.remaining
    needed = select(PointLot.id, before.label("before")).where(*_LOT_WHERE).subquery()
    return (
        select(PointLot)
        .join(needed, needed.c.id == PointLot.id)
        .where(needed.c.before < bindparam("points"))
        .order_by(*_LOT_ORDER)
    )


_NEEDED_LOTS = _needed_lots()
_INSERT_LOT = insert(PointLot.__table__)
_INSERT_ENTRY = insert(LedgerEntry.__table__)
_INSERT_ALLOCATION = insert(LotAllocation.__table__)
_SPENDABLE_LOTS = select(PointLot).where(*_LOT_WHERE).order_by(*_LOT_ORDER)


def lock_member(session: Session, member_id: str) -> Member:
    """Load ``member_id`` with a row lock held until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite: the transaction already holds the write
    lock (``BEGIN IMMEDIATE``). Every service that changes a member's points takes this lock
    first, so the member row is the single point of serialisation: lots and entries of a
    member are only touched under it.
    """
    member = session.execute(_LOCK_MEMBER, {"member_id": member_id}).scalar_one_or_none()
    if member is None:
        raise member_not_found(member_id)
    return member


def member_not_found(member_id: str) -> MemberNotFoundError:
    """The error for a write on a member that does not exist."""
    return MemberNotFoundError(
        f"member {member_id!r} does not exist; enrol it with POST /v1/members"
    )


def spendable_lots(
    session: Session,
    member_id: str,
    now: dt.datetime,
    *,
    first_order_id: int | None = None,
    points: int | None = None,
) -> list[PointLot]:
    """Lots with points left that have not expired at ``now``, in consumption order.

    Oldest-expiring first (ties by id). With ``first_order_id``, lots earned by that order
    come first (returns claw back from the points the order itself created). With ``points``,
    only the lots that taking that many points touches (every lot when they hold fewer): a
    long-standing member has hundreds of lots, and a redemption needs the oldest few, so
    the database picks them with a running sum instead of loading them all.
    """
    params = {"member_id": member_id, "now": now}
    if points is not None and first_order_id is None:
        return list(session.scalars(_NEEDED_LOTS, {**params, "points": points}))
    lots = list(session.scalars(_SPENDABLE_LOTS, params))
    if first_order_id is not None:
        lots.sort(key=lambda lot: lot.order_id != first_order_id)
    return lots


def spendable_balance(session: Session, member_id: str, now: dt.datetime) -> int:
    """Points the member can spend at ``now`` (lots not yet expired)."""
    stmt = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
        PointLot.member_id == member_id, PointLot.remaining > 0, PointLot.expires_at > now
    )
    return int(session.execute(stmt).scalar_one())


def take_points(lots: Sequence[PointLot], points: int) -> list[Movement]:
    """Plan taking ``points`` from ``lots`` in the order given (no database access).

    Raises
    ------
    InsufficientPointsError
        The lots hold fewer than ``points``.
    """
    movements: list[Movement] = []
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            movements.append(Movement(lot, -take))
            left -= take
    if left > 0:
        have = points - left
        raise InsufficientPointsError(
            f"the member has {have} spendable points, this needs {points}; "
            f"ask for at most {have} points"
        )
    return movements


def new_lot(
    session: Session,
    member: Member,
    points: int,
    *,
    now: dt.datetime,
    expires_at: dt.datetime,
    order_id: int | None = None,
) -> Movement:
    """Create a lot of ``points`` for ``member`` and return the movement that fills it.

    The lot is inserted at once (one ``INSERT``, no unit-of-work flush) and returned as a
    detached :class:`~omnicrm.loyalty.models.PointLot` carrying its id; the member's
    ``next_expiry_at`` bound moves to the new lot's expiry if that is earlier.
    """
    values = {
        "member_id": member.id,
        "order_id": order_id,
        "points": points,
        "remaining": points,
        "expires_at": expires_at,
        "created_at": now,
    }
    lot_id = session.execute(_INSERT_LOT, values).inserted_primary_key[0]
    if member.next_expiry_at is None or expires_at < member.next_expiry_at:
        member.next_expiry_at = expires_at
    return Movement(PointLot(id=lot_id, **values), points, filled=True)


def append_entry(
    session: Session,
    member: Member,
    *,
    kind: str,
    movements: Sequence[Movement],
    now: dt.datetime,
    actor: str,
    occurred_at: dt.datetime | None = None,
    qualifying_points: int = 0,
    spend: Decimal = Decimal("0.00"),
    order_id: int | None = None,
    reference: str | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """Append one entry for ``member`` (locked by the caller), apply its lot movements.

    The entry's points are the sum of the movements; the member's balance and chain head
    move with it. Never commits.
    """
    if kind not in KINDS:
        raise ValueError(f"ledger kind {kind!r} is not one of {KINDS}")
    points = sum(m.points for m in movements)
    balance = member.points_balance + points
    if balance < 0:  # take_points prevents this; kept as a last line of defence
        raise InsufficientPointsError(
            f"member {member.id} has {member.points_balance} points; cannot apply {points}"
        )
    values = {
        "member_id": member.id,
        "seq": member.ledger_seq + 1,
        "kind": kind,
        "points": points,
        "balance_after": balance,
        "qualifying_points": qualifying_points,
        "spend": spend,
        "occurred_at": occurred_at or now,
        "created_at": now,
        "order_id": order_id,
        "reference": reference,
        "reason": reason,
        "actor": actor,
        "prev_hash": member.ledger_head,
    }
    entry = LedgerEntry(**values)
    pairs = [(m.lot.id, m.points) for m in movements]
    entry.hash = entry_hash(entry_fields(entry, pairs))
    # Plain INSERTs rather than the session's unit of work: an operation writes a handful of
    # rows it never reads back, and a flush per row costs several times the statement itself.
    entry.id = session.execute(_INSERT_ENTRY, {**values, "hash": entry.hash}).inserted_primary_key[
        0
    ]
    if pairs:
        session.execute(
            _INSERT_ALLOCATION,
            [{"entry_id": entry.id, "lot_id": lot, "points": moved} for lot, moved in pairs],
        )
    for movement in movements:
        if not movement.filled:
            movement.lot.remaining += movement.points
    member.points_balance = balance
    member.ledger_seq = entry.seq
    member.ledger_head = entry.hash
    member.updated_at = now
    return entry


def expire_due(
    session: Session, member: Member, now: dt.datetime, *, actor: str
) -> LedgerEntry | None:
    """Expire every lot of ``member`` (locked) whose expiry is at or before ``now``.

    One ``expire`` entry takes what remains of all due lots. Returns it, or ``None`` when
    nothing was due. While the member's ``next_expiry_at`` bound is after ``now`` nothing can
    be due and no lot is read; otherwise the bound moves to the earliest expiry left. Never
    commits.
    """
    if member.next_expiry_at is None or member.next_expiry_at > now:
        return None
    stmt = select(PointLot).where(
        PointLot.member_id == member.id, PointLot.remaining > 0, PointLot.expires_at <= now
    )
    due = list(session.scalars(stmt.order_by(PointLot.expires_at, PointLot.id)))
    entry = None
    if due:
        entry = append_entry(
            session,
            member,
            kind="expire",
            movements=[Movement(lot, -lot.remaining) for lot in due],
            now=now,
            actor=actor,
            reason=f"{len(due)} lot(s) reached their expiry date",
        )
    member.next_expiry_at = session.scalar(
        select(func.min(PointLot.expires_at)).where(
            PointLot.member_id == member.id, PointLot.remaining > 0, PointLot.expires_at > now
        )
    )
    return entry
