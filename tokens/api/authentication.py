"""The authentication class and middleware of client sessions (SPEC §4 flow 8): a client token
(`Authorization: Token …`) or a password (HTTP Basic) on every API call, and a fresh client token
in `X-Authority-Token` on every response to such a call.

Imported while `rest_framework.views` is (through DEFAULT_AUTHENTICATION_CLASSES): nothing here
may import it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from authority.api.authentication import AUTH_CHALLENGE, AuthorityAPIException
from authority.errors import AuthFormat, AuthorityError
from tokens.services.client_sessions import (
    ClientSession,
    client_password_authenticate,
    client_session_start,
    client_token_issue,
    client_token_verify,
)

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Authority-Token"  # noqa: S105 - a header name, not a secret
# Longer headers are refused before any decoding, hashing or HSM work.
MAX_AUTHORIZATION = 4096
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9._~+/=-]+")
# Where the authentication class leaves the login for the middleware (on the Django request).
_SESSION_ATTRIBUTE = "client_session"


def authorization_parse(header: str) -> tuple[str, str]:
    """(scheme in lower case, credentials) of an Authorization header; AuthFormat if malformed."""
    if len(header) > MAX_AUTHORIZATION:
        raise AuthFormat("The Authorization header is too long.")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if not scheme or not credentials:
        raise AuthFormat("The Authorization header needs a scheme and credentials.")
    return scheme.lower(), credentials


def basic_credentials(credentials: str) -> tuple[str, str]:
    """(username, password) of HTTP Basic credentials (RFC 7617 §2, UTF-8)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthFormat("Basic credentials are not base64 of UTF-8 text.") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise AuthFormat("Basic credentials need `username:password`.")
    return username, password


def client_session_forget(request: Request) -> None:
    """No fresh token on this response: the call has just ended the session."""
    setattr(request._request, _SESSION_ATTRIBUTE, None)


class ClientTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <client token>` or `Basic <username:password>`. `Bearer` is left to
    OAuth2Authentication; any other scheme is malformed (auth_format)."""

    def authenticate(self, request: Request) -> tuple[Any, ClientSession] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        try:
            scheme, credentials = authorization_parse(header)
            if scheme == "bearer":
                if not _TOKEN_TEXT.fullmatch(credentials):  # RFC 6750 §2.1: one b64token
                    raise AuthFormat("A bearer token is one word of token characters.")
                return None  # OAuth2Authentication's
            if scheme == "token":
                if not _TOKEN_TEXT.fullmatch(credentials):
                    raise AuthFormat("A client token is one word of token characters.")
                user, session = client_token_verify(token=credentials)
            elif scheme == "basic":
                username, password = basic_credentials(credentials)
                user = client_password_authenticate(username=username, password=password)
                session = client_session_start(user=user)
            else:
                raise AuthFormat("Unknown Authorization scheme; use Token, Basic or Bearer.")
        except AuthorityError as error:
            raise AuthorityAPIException(error) from None
        setattr(request._request, _SESSION_ATTRIBUTE, session)
        return user, session

    def authenticate_header(self, request: Request) -> str:
        return AUTH_CHALLENGE


class ClientTokenMiddleware:
    """Puts a fresh client token on every response to a call a client token or a password
    authenticated — errors, throttling and refusals included: all of them pass through here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session: ClientSession | None = getattr(request, _SESSION_ATTRIBUTE, None)
        if session is not None:
            try:
                response[TOKEN_HEADER] = client_token_issue(session=session)
            except AuthorityError as error:  # the key went (a reset) or the HSM is away
                logger.info("no fresh client token: %s", error.code)
            else:
                response["Cache-Control"] = "no-store"
        return response
