"""API keys are stored as HMAC hashes, shown once, checked in constant time, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from omnicrm.api.core.security import SCOPE_PERMISSIONS, authenticate, create_key, revoke_key
from omnicrm.api.models import ApiKey
from omnicrm.db import memory_session
from omnicrm.errors import InputError

SECRET = "k" * 40


def test_only_the_hash_of_a_key_is_stored_and_the_key_authenticates():
    session = memory_session()
    key, row = create_key(session, scope="pos", name="store-1", secret=SECRET)
    stored = session.scalars(select(ApiKey)).one()
    assert key not in (stored.key_hash, stored.prefix)
    assert authenticate(session, key, SECRET).scope == "pos"
    assert authenticate(session, key + "x", SECRET) is None
    assert authenticate(session, key, "another-secret-" + "x" * 30) is None
    revoke_key(session, row.id)
    assert authenticate(session, key, SECRET) is None


def test_unknown_scope_is_refused():
    with pytest.raises(InputError, match="scope 'root' is unknown; choose one of pos, app"):
        create_key(memory_session(), scope="root", name="x", secret=SECRET)


def test_only_admin_may_adjust_and_analyst_only_reads():
    assert [s for s, perms in SCOPE_PERMISSIONS.items() if "points:adjust" in perms] == ["admin"]
    assert all(p.endswith(":read") for p in SCOPE_PERMISSIONS["analyst"])
