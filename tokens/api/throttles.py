"""Per-client throttling of the token endpoints (429 with Retry-After)."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from authority.principals import principal_from_request


class ClientRateThrottle(SimpleRateThrottle):
    """Keyed by the authenticated principal, or by client address for bearer-of-token callers."""

    def get_cache_key(self, request: Any, view: Any) -> str:
        principal = principal_from_request(request)
        ident = principal.label if principal is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TradeThrottle(ClientRateThrottle):
    scope = "trade"


class TokenExchangeThrottle(ClientRateThrottle):
    scope = "token"


class IntrospectThrottle(ClientRateThrottle):
    scope = "introspect"
