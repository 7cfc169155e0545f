"""Rate limits per credential and per client address, on the `limits` library (slowapi's engine).

Why not slowapi's decorators: slowapi keys a limit on the request before the route runs, so the key could
only be the raw credential string, and a client rotating bogus keys would get a fresh bucket each time.
Here the authenticated caller is the key (one bucket per API key, token subject or session user), and
failed sign-ins are counted per client address. Storage is in-process by default, or Redis to share the
counts between workers (``CARETRAIL_RATE_LIMIT_STORAGE=redis://...``).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from assistant.errors import TooManyRequests


class RateLimits:
    def __init__(self, storage_uri: str, per_caller: str, auth_failures: str) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self._per_caller = parse(per_caller)
        self._auth_failures = parse(auth_failures)

    def _hit(self, item: RateLimitItem, *keys: str) -> None:
        if not self._limiter.hit(item, *keys):
            reset = self._limiter.get_window_stats(item, *keys).reset_time
            raise TooManyRequests(f"rate limit {item} exceeded; retry in {max(1, math.ceil(reset - time.time()))} s")

    def caller(self, key: str) -> None:
        """Count one request for an authenticated credential; raises TooManyRequests over the limit."""
        self._hit(self._per_caller, "caller", key)

    def auth_failure(self, client: str) -> None:
        """Count one failed sign-in from a client address; raises TooManyRequests over the limit."""
        self._hit(self._auth_failures, "auth-failure", client)

    def auth_blocked(self, client: str) -> bool:
        """True when this address has used up its failed sign-ins (checked before trying a credential)."""
        return not self._limiter.test(self._auth_failures, "auth-failure", client)
