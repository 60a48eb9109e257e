"""OAuth2 bearer authentication of the API (RFC 6750), in DRF's DEFAULT_AUTHENTICATION_CLASSES.

Imported while `rest_framework.views` is (authority.api.authentication says why): nothing here
may import it.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.request import Request

from authority.services.oauth2_clients import bearer_cached, bearer_checksum, bearer_remember


class BearerAuthentication(OAuth2Authentication):
    """django-oauth-toolkit's bearer authentication, with two changes:

    - the token is taken from the `Authorization` header only (RFC 6750 §2.1): a token in the
      query (§2.3) or in a form body (§2.2) is never looked at — those land in access logs and
      proxies' caches — so such a request is simply unauthenticated (401);
    - a token DOT validated is remembered per process (authority.caches, `oauth2_principals`:
      at most OAUTH2_PRINCIPAL_TTL seconds, never past the token's expiry, dropped at once when
      the token is deleted in this process), so a request does not pay DOT's ~6 ms again.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        token = credentials.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        checksum = bearer_checksum(token)
        access_token = bearer_cached(checksum)
        if access_token is not None:
            return access_token.user, access_token
        authenticated: tuple[Any, Any] | None = super().authenticate(request)
        if authenticated is not None:
            bearer_remember(checksum, authenticated[1])
        return authenticated
