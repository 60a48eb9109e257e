"""What the API's authentication classes share with its error handler.

Authentication classes are imported while `rest_framework.views` itself is being imported (its
APIView reads DEFAULT_AUTHENTICATION_CLASSES), so they and this module must not import it.
"""

from __future__ import annotations

from rest_framework import exceptions

from authority.errors import AuthorityError

# What a 401 asks for (RFC 9110 §11.6.1): a client token (or, as ever, HTTP Basic or OAuth2).
AUTH_CHALLENGE = 'Token realm="session-authority"'


class AuthorityAPIException(exceptions.APIException):
    """An AuthorityError raised where DRF needs an APIException: in an authentication class, so
    that DRF marks the request unauthenticated. The handler answers for the error it carries."""

    def __init__(self, error: AuthorityError) -> None:
        super().__init__(error.detail)
        self.status_code = error.status
        self.error = error
