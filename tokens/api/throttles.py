"""Per-client throttling of the token endpoints (429 with Retry-After).

A fixed-window counter leased per process (authority.ratelimit) rather than DRF's sliding log,
whose cached list of timestamps grows with the allowed rate and is re-read and re-written whole
on every request — at trade rates that list alone costs more than the trade.
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from authority import ratelimit
from authority.principals import principal_from_request


class ClientRateThrottle(SimpleRateThrottle):
    """Keyed by the authenticated principal, or by client address for bearer-of-token callers."""

    num_requests: int  # set by SimpleRateThrottle from the scope's rate
    duration: int

    def get_cache_key(self, request: Any, view: Any) -> str:
        principal = principal_from_request(request)
        ident = principal.label if principal is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        return ratelimit.allow(
            self.key, window=window, duration=self.duration, limit=self.num_requests
        )

    def wait(self) -> float:
        return max(1.0, self.window_end - time.time())


class TradeThrottle(ClientRateThrottle):
    scope = "trade"


class TokenExchangeThrottle(ClientRateThrottle):
    scope = "token"


class IntrospectThrottle(ClientRateThrottle):
    scope = "introspect"
