"""API keys: creation, hashing, lookup, and what each scope may do.

A key looks like ``ocrm_<prefix>_<secret>``. Only the prefix (to find the row) and
HMAC-SHA256(``OMNICRM_SECRET_KEY``, key) are stored; the key is shown once at creation.
Comparison is constant-time.

Scopes (rules as data, :data:`SCOPE_PERMISSIONS`):

* ``pos`` — enrol and read members, earn, redeem, returns, price carts, commit orders;
* ``app`` — enrol, read and update members (consents), redeem, bonus events, read the ledger,
  price carts;
* ``analyst`` — read members, ledgers and promotions;
* ``admin`` — everything, including manual adjustments; every admin write is audited.

Examples
--------
>>> from omnicrm.api.core.security import allowed, hash_key, new_key
>>> key, prefix = new_key()
>>> key.startswith("ocrm_" + prefix + "_")
True
>>> len(hash_key(key, "x" * 32))
64
>>> allowed("pos", "points:earn"), allowed("analyst", "points:earn")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnicrm.api.models import ApiKey
from omnicrm.db.base import utcnow
from omnicrm.errors import InputError
from omnicrm.loyalty.operations import audit

SCOPES = ("pos", "app", "analyst", "admin")
PERMISSIONS = (
    "members:read",
    "members:create",
    "members:update",
    "points:earn",
    "points:redeem",
    "points:return",
    "points:events",
    "points:adjust",
    "ledger:read",
    "checkout:price",
    "orders:commit",
    "promotions:read",
    "promotions:manage",
)
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "pos": frozenset(
        {
            "members:read",
            "members:create",
            "points:earn",
            "points:redeem",
            "points:return",
            "checkout:price",
            "orders:commit",
        }
    ),
    "app": frozenset(
        {
            "members:read",
            "members:create",
            "members:update",
            "points:redeem",
            "points:events",
            "ledger:read",
            "checkout:price",
        }
    ),
    "analyst": frozenset({"members:read", "ledger:read", "promotions:read"}),
    "admin": frozenset(PERMISSIONS),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    key_id: int
    scope: str
    name: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def allowed(scope: str, permission: str) -> bool:
    """Whether a key of ``scope`` may use ``permission``."""
    return permission in SCOPE_PERMISSIONS.get(scope, frozenset())


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix."""
    prefix = secrets.token_hex(6)
    return f"ocrm_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_key(key: str, secret: str) -> str:
    """HMAC-SHA256 of ``key`` with the service secret, hex."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def create_key(
    session: Session, *, scope: str, name: str, secret: str, actor: str = "cli"
) -> tuple[str, ApiKey]:
    """Create and commit a key; return the key text (shown once) and its row.

    Raises
    ------
    InputError
        Unknown scope or empty name.
    """
    if scope not in SCOPES:
        raise InputError(f"scope {scope!r} is unknown; choose one of {', '.join(SCOPES)}")
    if not name.strip():
        raise InputError("key name is empty; give --name, e.g. --name store-042-pos")
    key, prefix = new_key()
    now = utcnow()
    row = ApiKey(
        prefix=prefix, key_hash=hash_key(key, secret), scope=scope, name=name, created_at=now
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="create_key",
        target=f"key:{row.id}",
        detail={"scope": scope, "name": name, "prefix": prefix},
        at=now,
    )
    session.commit()
    return key, row


def revoke_key(session: Session, key_id: int, *, actor: str = "cli") -> ApiKey:
    """Revoke key ``key_id`` (it stops working at once) and commit."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise InputError(f"API key id {key_id} does not exist; list keys with `omnicrm keys list`")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(
            session,
            actor=actor,
            action="revoke_key",
            target=f"key:{row.id}",
            detail={"scope": row.scope, "name": row.name},
            at=row.revoked_at,
        )
    session.commit()
    return row


def authenticate(session: Session, key: str, secret: str) -> Principal | None:
    """The principal owning ``key``, or ``None`` if it is unknown, wrong or revoked."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "ocrm":
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key, secret)):
        return None
    return Principal(key_id=row.id, scope=row.scope, name=row.name)
