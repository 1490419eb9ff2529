"""A short-lived, per-worker cache of authenticated API keys.

Looking a key up costs a database round trip and a session on every request; a POS calls
many times a second with the same key. :class:`KeyCache` remembers, for ``ttl`` seconds, the
:class:`~omnicrm.api.core.security.Principal` a key authenticated as. Entries are keyed by
the key's HMAC digest (plaintext keys are not kept), only successful lookups are cached (an
unknown or revoked key always goes to the database), and the cache is bounded. The price is
that a revoked key keeps working in a worker for at most ``ttl`` seconds after it was last
looked up there; ``OMNICRM_KEY_CACHE_SECONDS=0`` turns the cache off.

Examples
--------
>>> from omnicrm.api.core.keycache import KeyCache
>>> from omnicrm.api.core.security import Principal
>>> now = [0.0]
>>> cache = KeyCache(ttl=2.0, clock=lambda: now[0])
>>> cache.put("digest", Principal(key_id=1, scope="pos", name="till-1"))
>>> cache.get("digest").scope
'pos'
>>> now[0] = 2.5  # past the time to live: look the key up again
>>> cache.get("digest") is None
True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from omnicrm.api.core.security import Principal


class KeyCache:
    """Principals by key digest for ``ttl`` seconds, at most ``size`` of them; thread-safe."""

    def __init__(
        self, ttl: float, *, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        """The cached principal of ``digest``, or ``None`` if absent or expired."""
        entry = self._entries.get(digest)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        """Remember ``principal`` for ``ttl`` seconds (no-op when ``ttl`` is 0)."""
        if self.ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= self.size:
                    self._entries.clear()
            self._entries[digest] = (now + self.ttl, principal)
