"""Member services: enrol, read, update (contact data, birthday, status, consents).

Consent is recorded per channel (``email``, ``sms``, ``push``, ``marketing``) as an
append-only history: each change adds a row with the time and the source (``pos``, ``app``,
``web``, an agent id …); the current consent of a channel is its newest row.

Examples
--------
>>> from omnicrm.db import memory_session
>>> from omnicrm.loyalty import members
>>> from omnicrm.loyalty.operations import Context
>>> from omnicrm.loyalty.rules import load_rules
>>> session, rules = memory_session(), load_rules()
>>> view = members.enrol(session, members.MemberInput(customer_id="C-1"), Context("cli"), rules)
>>> view["tier"]["code"], view["points"]["balance"]
('silver', 0)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.errors import InvalidRequestError, MemberExistsError, MemberNotFoundError
from omnicrm.loyalty.ledger import GENESIS_HASH, iso_utc, lock_member, spendable_balance
from omnicrm.loyalty.models import Consent, Member, PointLot
from omnicrm.loyalty.rules import Rules
from omnicrm.loyalty.tiers import EPSILON, qualification_value, review_if_due

CONSENT_CHANNELS = ("email", "sms", "push", "marketing")


@dataclass(frozen=True)
class ConsentInput:
    """One consent change."""

    channel: str
    granted: bool
    source: str


@dataclass(frozen=True)
class MemberInput:
    """Data of a new member. ``customer_id`` links to the warehouse ``customers`` table."""

    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: dt.date | None = None
    consents: Sequence[ConsentInput] = ()
    member_id: str | None = None


@dataclass(frozen=True)
class MemberChanges:
    """Fields to change; ``fields`` holds only the attributes actually sent."""

    fields: dict[str, object] = field(default_factory=dict)
    consents: Sequence[ConsentInput] = ()


def new_member_id() -> str:
    """A fresh opaque member id (``m_`` + 16 hex characters)."""
    return "m_" + secrets.token_hex(8)


def _add_consents(
    session: Session, member_id: str, consents: Sequence[ConsentInput], now: dt.datetime
) -> None:
    for c in consents:
        if c.channel not in CONSENT_CHANNELS:
            raise InvalidRequestError(
                f"consent channel {c.channel!r} is unknown; "
                f"use one of {', '.join(CONSENT_CHANNELS)}",
                field="consents.channel",
            )
        session.add(
            Consent(
                member_id=member_id,
                channel=c.channel,
                granted=c.granted,
                source=c.source,
                recorded_at=now,
            )
        )


def current_consents(session: Session, member_id: str) -> dict[str, dict]:
    """Newest consent per channel: ``{channel: {granted, source, recorded_at}}``."""
    newest = (
        select(Consent.channel, func.max(Consent.id).label("id"))
        .where(Consent.member_id == member_id)
        .group_by(Consent.channel)
        .subquery()
    )
    rows = session.scalars(select(Consent).join(newest, Consent.id == newest.c.id))
    return {
        c.channel: {"granted": c.granted, "source": c.source, "recorded_at": iso_utc(c.recorded_at)}
        for c in sorted(rows, key=lambda c: c.channel)
    }


def consent_history(session: Session, member_id: str) -> list[dict]:
    """Every consent change of the member, oldest first."""
    rows = session.scalars(
        select(Consent).where(Consent.member_id == member_id).order_by(Consent.id)
    )
    return [
        {
            "channel": c.channel,
            "granted": c.granted,
            "source": c.source,
            "recorded_at": iso_utc(c.recorded_at),
        }
        for c in rows
    ]


def expiring_soon(session: Session, member_id: str, now: dt.datetime, days: int) -> list[dict]:
    """Points that expire within ``days``, grouped by expiry instant, soonest first."""
    until = now + dt.timedelta(days=days)
    stmt = (
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .where(
            PointLot.member_id == member_id,
            PointLot.remaining > 0,
            PointLot.expires_at > now,
            PointLot.expires_at <= until,
        )
        .group_by(PointLot.expires_at)
        .order_by(PointLot.expires_at)
    )
    return [{"points": int(p), "expires_at": iso_utc(at)} for at, p in session.execute(stmt)]


def member_view(
    session: Session, member: Member, rules: Rules, now: dt.datetime, *, expiring_days: int = 30
) -> dict:
    """Public state of a member as a JSON-ready dict (balance derived from lots at ``now``)."""
    tier = rules.tiers.get(member.tier)
    qualifying = qualification_value(session, member.id, rules, now + EPSILON)
    return {
        "member_id": member.id,
        "customer_id": member.customer_id,
        "name": member.name,
        "email": member.email,
        "phone": member.phone,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "status": member.status,
        "tier": {
            "code": tier.code,
            "name": tier.name,
            "since": iso_utc(member.tier_since),
            "review_at": iso_utc(member.tier_review_at),
            "grace_until": iso_utc(member.grace_until),
            "earn_multiplier": str(tier.earn_multiplier),
            "member_prices": tier.member_prices,
        },
        "points": {
            "balance": spendable_balance(session, member.id, now),
            "qualifying": str(qualifying) if rules.tiers.metric == "spend" else int(qualifying),
            "qualification_metric": rules.tiers.metric,
            "expiring_soon": expiring_soon(session, member.id, now, expiring_days),
            "expiring_within_days": expiring_days,
        },
        "consents": current_consents(session, member.id),
        "created_at": iso_utc(member.created_at),
        "updated_at": iso_utc(member.updated_at),
    }


def enrol(session: Session, data: MemberInput, ctx: operations.Context, rules: Rules) -> dict:
    """Enrol a member in the entry tier; one commit.

    Raises
    ------
    MemberExistsError
        The customer (or the requested member id) is already enrolled.
    """
    replay = operations.start(session, ctx, "enrol")
    if replay is not None:
        return replay
    now = ctx.clock()
    existing = session.scalar(select(Member.id).where(Member.customer_id == data.customer_id))
    if existing is not None:
        raise MemberExistsError(
            f"customer {data.customer_id!r} is already enrolled as member {existing}"
        )
    member_id = data.member_id or new_member_id()
    if data.member_id and session.get(Member, member_id) is not None:
        raise MemberExistsError(
            f"member id {member_id!r} is taken; omit member_id to get a new one", field="member_id"
        )
    member = Member(
        id=member_id,
        customer_id=data.customer_id,
        name=data.name,
        email=data.email,
        phone=data.phone,
        birthday=data.birthday,
        status="active",
        tier=rules.tiers.base.code,
        tier_since=now,
        tier_review_at=None,
        grace_until=None,
        points_balance=0,
        ledger_seq=0,
        ledger_head=GENESIS_HASH,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise MemberExistsError(
            f"customer {data.customer_id!r} was enrolled concurrently"
        ) from None
    _add_consents(session, member_id, data.consents, now)
    session.flush()
    view = member_view(session, member, rules, now)
    return operations.finish(session, ctx, "enrol", view, target=member_id)


def get_member_row(session: Session, member_id: str) -> Member:
    """The member row (no lock); :class:`MemberNotFoundError` if there is none."""
    member = session.get(Member, member_id)
    if member is None:
        raise MemberNotFoundError(f"member {member_id!r} does not exist")
    return member


def get_member(
    session: Session, member_id: str, rules: Rules, now: dt.datetime, *, expiring_days: int = 30
) -> dict:
    """Read a member (no lock, no write)."""
    member = get_member_row(session, member_id)
    return member_view(session, member, rules, now, expiring_days=expiring_days)


EDITABLE = ("name", "email", "phone", "birthday", "status")


def update(
    session: Session, member_id: str, changes: MemberChanges, ctx: operations.Context, rules: Rules
) -> dict:
    """Change contact data, birthday, status and/or record consent changes; one commit."""
    replay = operations.start(session, ctx, "update_member")
    if replay is not None:
        return replay
    now = ctx.clock()
    member = lock_member(session, member_id)
    for key, value in changes.fields.items():
        if key not in EDITABLE:
            raise InvalidRequestError(
                f"field {key!r} cannot be changed; editable: {', '.join(EDITABLE)}", field=key
            )
        if key == "status" and value not in ("active", "closed"):
            raise InvalidRequestError(
                f"status {value!r} is invalid; use active or closed", field="status"
            )
        setattr(member, key, value)
    _add_consents(session, member_id, changes.consents, now)
    review_if_due(session, member, rules, now)
    member.updated_at = now
    session.flush()
    view = member_view(session, member, rules, now)
    return operations.finish(session, ctx, "update_member", view, target=member_id)
