"""Coupon codes: bulk-generated single-use codes and shared codes, stored hashed.

A single-use code such as ``SPR-7K2M-9QX4-TB3D-H8WN`` carries 80 random bits from
:mod:`secrets` (16 characters of a 32-letter alphabet without 0/O/1/I), so it cannot be
guessed; a shared code (``SPRING25``) is chosen by the marketer and may be used many times.
Only ``SHA-256(normalised code)`` is stored (unique index) with the last 4 characters as a
hint; the codes themselves are shown once, when generated. Codes are normalised before
hashing: upper case, spaces and dashes removed, so ``spr-7k2m 9qx4…`` is the same code.

Examples
--------
>>> from omnicrm.loyalty.promotions.coupons import code_hash, new_code, normalise
>>> code = new_code("SPR")
>>> len(normalise(code)), code.startswith("SPR-")
(19, True)
>>> code_hash("spr-ab cd") == code_hash("SPRABCD")
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnicrm.loyalty import operations
from omnicrm.loyalty.errors import InvalidRequestError, LoyaltyError, MemberNotFoundError
from omnicrm.loyalty.ledger import iso_utc
from omnicrm.loyalty.models import Member
from omnicrm.loyalty.promotions.models import Coupon, PromotionRow

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_CHARS = 16
MAX_BATCH = 100_000
_PREFIX = re.compile(r"^[A-Z0-9]{1,8}$")
_SHARED = re.compile(r"^[A-Z0-9]{4,40}$")


class PromotionNotFoundError(LoyaltyError):
    code = "promotion_not_found"
    field = "promotion_id"


class CouponError(LoyaltyError):
    """A presented code cannot be used; ``code`` says why (unknown, expired, used …)."""

    field = "codes"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalise(code: str) -> str:
    """Upper case without spaces and dashes."""
    return re.sub(r"[\s-]", "", code).upper()


def code_hash(code: str) -> str:
    """SHA-256 hex of the normalised code (what the database stores)."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code(prefix: str = "") -> str:
    """A fresh unguessable code, dash-grouped by 4: ``PREFIX-XXXX-XXXX-XXXX-XXXX``."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    groups = [body[i : i + 4] for i in range(0, RANDOM_CHARS, 4)]
    return "-".join([prefix, *groups] if prefix else groups)


@dataclass(frozen=True)
class CouponCheck:
    """What a presented code is: its row when usable, else an error code and text."""

    code: str
    coupon: Coupon | None
    error: str | None = None
    message: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None


def check_codes(
    session: Session, codes: Sequence[str], now: dt.datetime, member_id: str | None
) -> list[CouponCheck]:
    """Look each presented code up and say whether it can be used now by this member."""
    if not codes:
        return []
    hashes = {code: code_hash(code) for code in codes}
    rows = {
        c.code_hash: c
        for c in session.scalars(select(Coupon).where(Coupon.code_hash.in_(set(hashes.values()))))
    }
    out, seen = [], set()
    for code in codes:
        h = hashes[code]
        row = rows.get(h)
        if h in seen:
            out.append(CouponCheck(code, None, "duplicate_code", "the same code is given twice"))
        elif row is None:
            out.append(CouponCheck(code, None, "unknown_code", f"code {code!r} does not exist"))
        elif row.valid_from is not None and now < row.valid_from:
            out.append(
                CouponCheck(
                    code, row, "coupon_not_yet_valid", f"valid from {iso_utc(row.valid_from)}"
                )
            )
        elif row.valid_until is not None and now >= row.valid_until:
            out.append(
                CouponCheck(code, row, "coupon_expired", f"expired at {iso_utc(row.valid_until)}")
            )
        elif row.max_uses is not None and row.uses >= row.max_uses:
            what = "already used" if row.kind == "single" else f"used {row.uses} times (max)"
            out.append(CouponCheck(code, row, "coupon_used", f"code …{row.hint} was {what}"))
        elif row.member_id is not None and row.member_id != member_id:
            out.append(CouponCheck(code, row, "coupon_not_for_member", "issued to another member"))
        else:
            out.append(CouponCheck(code, row))
        seen.add(h)
    return out


def generate(
    session: Session,
    promotion_id: str,
    ctx: operations.Context,
    *,
    count: int = 1,
    prefix: str = "",
    shared_code: str | None = None,
    max_uses: int | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    member_id: str | None = None,
) -> dict:
    """Create ``count`` single-use codes, or one shared code, for a promotion; one commit.

    The codes are in the result only (shown once); the database keeps their hashes.

    Raises
    ------
    PromotionNotFoundError
        No such promotion.
    InvalidRequestError
        Bad count, prefix, shared code, validity or a shared code that already exists.
    """
    replay = operations.start(session, ctx, "coupons")
    if replay is not None:
        return replay
    if session.get(PromotionRow, promotion_id) is None:
        raise PromotionNotFoundError(f"promotion {promotion_id!r} does not exist")
    if valid_from and valid_until and valid_until <= valid_from:
        raise InvalidRequestError("valid_until must be after valid_from", field="valid_until")
    if member_id is not None and session.get(Member, member_id) is None:
        raise MemberNotFoundError(f"member {member_id!r} does not exist")
    now = ctx.clock()
    batch = f"B{now:%Y%m%d%H%M%S}{secrets.token_hex(3)}"
    if shared_code is not None:
        code = normalise(shared_code)
        if not _SHARED.match(code):
            raise InvalidRequestError(
                f"shared code {shared_code!r} must be 4-40 letters or digits", field="code"
            )
        if max_uses is not None and max_uses < 1:
            raise InvalidRequestError("max_uses must be >= 1", field="max_uses")
        codes, kind, limit = [code], "shared", max_uses
    else:
        prefix = normalise(prefix)
        if prefix and not _PREFIX.match(prefix):
            raise InvalidRequestError(
                f"prefix {prefix!r} must be 1-8 letters or digits", field="prefix"
            )
        if not 1 <= count <= MAX_BATCH:
            raise InvalidRequestError(
                f"count {count} must be between 1 and {MAX_BATCH}", field="count"
            )
        codes, kind, limit = [new_code(prefix) for _ in range(count)], "single", 1
    session.add_all(
        Coupon(
            promotion_id=promotion_id,
            code_hash=code_hash(code),
            hint=normalise(code)[-4:],
            kind=kind,
            batch=batch,
            max_uses=limit,
            uses=0,
            member_id=member_id,
            valid_from=valid_from,
            valid_until=valid_until,
            created_at=now,
        )
        for code in codes
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise InvalidRequestError(
            "this code already exists; choose another shared code", field="code"
        ) from None
    result = {
        "promotion_id": promotion_id,
        "batch": batch,
        "kind": kind,
        "max_uses": limit,
        "valid_from": iso_utc(valid_from),
        "valid_until": iso_utc(valid_until),
        "codes": codes,
    }
    stored = {**result, "codes": [f"…{normalise(c)[-4:]}" for c in codes]}
    operations.audit(
        session, actor=ctx.actor, action="coupons", target=promotion_id, detail=stored, at=now
    )
    # A replay (same Idempotency-Key) answers the masked codes: codes are shown only once.
    operations.finish(session, replace(ctx, audit=False), "coupons", stored, target=promotion_id)
    return result
