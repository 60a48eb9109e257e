"""`POST /o/token/`: django-oauth-toolkit's token endpoint behind a throttle per client id and
per client address (issue 17), answered in OAuth2's JSON error shape (RFC 6749 §5.2)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from oauth2_provider import views as oauth2_views
from oauth2_provider.signals import app_authorized

from authority.errors import Throttled
from authority.request_context import current_request
from authority.services.oauth2_clients import MAX_CLIENT_ID, oauth2_token_throttle


def _client_id(request: HttpRequest) -> str | None:
    """The client id a token request names (HTTP Basic, else the form body), unverified."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()[:1024]).decode()
        except (binascii.Error, ValueError):
            return None
        return unquote_plus(decoded.partition(":")[0])[:MAX_CLIENT_ID] or None
    client_id = request.POST.get("client_id")
    return client_id[:MAX_CLIENT_ID] if client_id else None


class TokenView(oauth2_views.TokenView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            oauth2_token_throttle(
                client_id=_client_id(request), address=current_request().client_address
            )
        except Throttled as error:
            # RFC 6749 §5.2 names no error for "too often"; RFC 8628 §3.5's slow_down says it.
            response = JsonResponse(
                {"error": "slow_down", "error_description": error.detail}, status=error.status
            )
            response["Retry-After"] = str(error.retry_after)
            response["Cache-Control"] = "no-store"
            return response
        if request.POST.get("grant_type") == "client_credentials" and not app_authorized.receivers:
            return self._client_credentials_response(request)
        answer: HttpResponse = super().post(request, *args, **kwargs)
        return answer

    def _client_credentials_response(self, request: HttpRequest) -> HttpResponse:
        """DOT's answer to a token request without the query that reloads the new token for the
        `app_authorized` signal, which nothing here receives (with a receiver, DOT answers)."""
        _, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response


class BearerScheme(DjangoOAuthToolkitScheme):
    """The OpenAPI security scheme of authority.api.bearer.BearerAuthentication: DOT's (defined
    here, with the URLs, since the authentication class may not import drf-spectacular)."""

    target_class = "authority.api.bearer.BearerAuthentication"
