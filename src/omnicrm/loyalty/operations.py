"""One business operation = one transaction: idempotent replay, audit, single commit.

Every write service follows the same shape::

    replay = start(session, ctx, "redeem")      # stored result of an earlier identical call?
    if replay is not None:
        return replay
    ...                                         # helpers change rows, never commit
    return finish(session, ctx, "redeem", result, target=member_id)   # the one commit

The services that change a member's points begin with :func:`start_locked` instead: the same
replay check and the member's row lock (which serialises the writers of that member) in one
statement.

The idempotency record is written in the same transaction as the change it describes, so
either both exist or neither: a retried request either replays the stored result or runs for
the first time. Two concurrent requests with the same key are resolved by the unique
constraint on (client, key): the loser rolls back and replays the winner's result.

Examples
--------
>>> from omnicrm.loyalty.operations import Context, request_fingerprint
>>> ctx = Context(actor="cli")
>>> ctx.idempotency_key is None
True
>>> len(request_fingerprint("redeem", {"reward": "CASH10"}))
64
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnicrm.db.base import utcnow
from omnicrm.loyalty.errors import IdempotencyConflictError
from omnicrm.loyalty.ledger import canonical_json
from omnicrm.loyalty.models import AuditEntry, IdempotencyRecord, Member


@dataclass(frozen=True)
class Context:
    """Who is asking, under which idempotency key, and at what time.

    Parameters
    ----------
    actor : str
        Recorded on ledger entries and audit rows, e.g. ``"key:3"``, ``"cli"``, ``"system"``.
    client : str, optional
        Namespace of idempotency keys (each API key has its own); defaults to ``actor``.
    idempotency_key : str, optional
        The caller's key; ``None`` disables replay.
    request_hash : str, optional
        Fingerprint of the request (:func:`request_fingerprint`); a key reused with another
        fingerprint is refused.
    audit : bool
        Write an audit row for this operation (admin actions).
    now : datetime, optional
        The operation's clock (tests travel in time); defaults to the time the context is
        created, so every retry of the operation uses the same instant.
    """

    actor: str
    client: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    audit: bool = False
    now: dt.datetime = field(default_factory=utcnow)

    def clock(self) -> dt.datetime:
        """The operation's time (fixed when the context is made, so retries reuse it)."""
        return self.now

    @property
    def namespace(self) -> str:
        return self.client or self.actor


def request_fingerprint(operation: str, payload: object) -> str:
    """SHA-256 of the operation name and its canonical JSON payload."""
    return hashlib.sha256(canonical_json({"op": operation, "payload": payload})).hexdigest()


_LOOKUP = select(IdempotencyRecord).where(
    IdempotencyRecord.client == bindparam("client"), IdempotencyRecord.key == bindparam("key")
)


_INSERT_RECORD = insert(IdempotencyRecord.__table__)


def _lookup(session: Session, ctx: Context, operation: str) -> dict | None:
    params = {"client": ctx.namespace, "key": ctx.idempotency_key}
    record = session.execute(_LOOKUP, params).scalar_one_or_none()
    if record is None:
        return None
    return _replay(record, ctx, operation)


def _replay(record: IdempotencyRecord, ctx: Context, operation: str) -> dict:
    """The stored result of ``record``, if it was stored for this very request."""
    if record.operation != operation or record.request_hash != (ctx.request_hash or ""):
        raise IdempotencyConflictError(
            f"Idempotency-Key {ctx.idempotency_key!r} was already used on "
            f"{record.created_at:%Y-%m-%d %H:%M:%S} UTC for a different request "
            f"({record.operation}); send a new key for a new request"
        )
    return dict(record.result)


def start(session: Session, ctx: Context, operation: str) -> dict | None:
    """Return the stored result if this exact request already succeeded, else ``None``.

    Raises
    ------
    IdempotencyConflictError
        The key was used before for a different operation or body.
    """
    if ctx.idempotency_key is None:
        return None
    return _lookup(session, ctx, operation)


@dataclass(frozen=True)
class Started:
    """What :func:`start_locked` found: a stored result to replay, and the locked member.

    ``member`` is ``None`` when there is no such member (the caller raises that after its own
    input checks, in the order :func:`start` and ``lock_member`` would have).
    """

    replay: dict | None
    member: Member | None


_LOCK_WITH_RECORD = (
    select(Member, IdempotencyRecord)
    .outerjoin(
        IdempotencyRecord,
        and_(
            IdempotencyRecord.client == bindparam("client"),
            IdempotencyRecord.key == bindparam("key"),
        ),
    )
    .where(Member.id == bindparam("member_id"))
    .with_for_update(of=Member)
    .execution_options(populate_existing=True)
)


def start_locked(session: Session, ctx: Context, operation: str, member_id: str) -> Started:
    """:func:`start` and the member's row lock in one statement (one round trip, not two).

    The write services of a member begin with both: a retried request must find its stored
    result, and a new one must hold the member's lock (``SELECT ... FOR UPDATE``, see
    :func:`omnicrm.loyalty.ledger.lock_member`). A replay takes the lock too, briefly: it
    waits for a concurrent writer of the same member, and changes nothing.

    Raises
    ------
    IdempotencyConflictError
        The key was used before for a different operation or body.
    """
    params = {"member_id": member_id, "client": ctx.namespace, "key": ctx.idempotency_key}
    row = session.execute(_LOCK_WITH_RECORD, params).one_or_none()
    if row is None:
        return Started(replay=None, member=None)
    member, record = row
    if record is None or ctx.idempotency_key is None:
        return Started(replay=None, member=member)
    return Started(replay=_replay(record, ctx, operation), member=member)


def finish(
    session: Session,
    ctx: Context,
    operation: str,
    result: dict,
    *,
    target: str | None = None,
    last: Callable[[], None] | None = None,
) -> dict:
    """Store the idempotency record and audit row, then commit — the operation's one commit.

    ``last``, when given, runs after everything else is written and just before the commit:
    the place for updates of rows that many requests share (promotion budgets, coupons), so
    that their row locks are held for one round trip and the commit, not for the whole
    operation. Whatever it raises propagates (the caller rolls back).

    Returns ``result``, or the winner's result when a concurrent request with the same key
    committed first.
    """
    now = ctx.clock()
    if ctx.audit:
        session.add(
            AuditEntry(at=now, actor=ctx.actor, action=operation, target=target, detail=result)
        )
    try:
        if ctx.idempotency_key is not None:
            session.execute(
                _INSERT_RECORD,
                {
                    "client": ctx.namespace,
                    "key": ctx.idempotency_key,
                    "operation": operation,
                    "request_hash": ctx.request_hash or "",
                    "result": result,
                    "created_at": now,
                },
            )
        if last is not None:
            session.flush()
            last()
        session.commit()
    except IntegrityError:
        session.rollback()
        if ctx.idempotency_key is None:
            raise
        winner = _lookup(session, ctx, operation)
        session.rollback()
        if winner is None:
            raise
        return winner
    return result


def audit(
    session: Session, *, actor: str, action: str, target: str | None, detail: dict, at: dt.datetime
) -> None:
    """Add an audit row to the current transaction (no commit)."""
    session.add(AuditEntry(at=at, actor=actor, action=action, target=target, detail=detail))
