"""Throttling of the token endpoints (429 with Retry-After), keyed by what each protects.

- The trade and the token exchange: per session token (the subject token, by a keyed hash), so
  every session of a batch cluster behind one NAT has its own bucket; and a looser second bucket
  per client address, which bounds guessing with ever-new tokens.
- Introspection: per authenticated caller.
- Addresses come from authority.request_context.client_address: X-Forwarded-For only as far as
  NUM_PROXIES trusted proxies vouch for it.

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
from authority.request_context import client_address


class WindowThrottle(SimpleRateThrottle):
    """A fixed-window DRF throttle; subclasses say what a request is counted against
    (`subject`), None for a request this throttle does not count."""

    num_requests: int  # set by SimpleRateThrottle from the scope's rate
    duration: int

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return (None, None) if rate is None else ratelimit.parse_rate(rate)

    def get_ident(self, request: Any) -> str:
        return client_address(request.META) or "unknown"

    def subject(self, request: Any) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        subject = self.subject(request)
        if subject is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": subject}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.key = key
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        return ratelimit.allow(
            self.key, window=window, duration=self.duration, limit=self.num_requests
        )

    def wait(self) -> float:
        return max(1.0, self.window_end - time.time())


class ClientRateThrottle(WindowThrottle):
    """Keyed by the authenticated principal, or by client address for unauthenticated callers."""

    def subject(self, request: Any) -> str | None:
        principal = principal_from_request(request)
        if principal is not None:
            return principal.label
        return ratelimit.subject_key("address", self.get_ident(request))


class SubjectTokenThrottle(WindowThrottle):
    """Keyed by the presented session token. A request without one is left to the address
    bucket and to the view's 400."""

    def subject(self, request: Any) -> str | None:
        data = request.data  # parsed here, by the API's parsers (their 400s stand)
        token = data.get("subject_token") if hasattr(data, "get") else None
        if not isinstance(token, str) or not token.strip():
            return None
        return ratelimit.subject_key("session-token", token.strip())


class AddressThrottle(WindowThrottle):
    def subject(self, request: Any) -> str | None:
        return ratelimit.subject_key("address", self.get_ident(request))


class TradeThrottle(SubjectTokenThrottle):
    scope = "trade"


class TradeAddressThrottle(AddressThrottle):
    scope = "trade_address"


class TokenExchangeThrottle(SubjectTokenThrottle):
    scope = "token"


class TokenExchangeAddressThrottle(AddressThrottle):
    scope = "token_address"


class IntrospectThrottle(ClientRateThrottle):
    scope = "introspect"
