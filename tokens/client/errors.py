"""One exception hierarchy mirroring the API's error body `{"error", "detail", "fields"}` (SPEC §5)
and the client-session contract's three authentication failures (seed 003)."""

from __future__ import annotations

from typing import Any


class AuthorityError(Exception):
    """An error answer of the authority (or no answer at all: `Unavailable` with status 0)."""

    default_code = "error"

    def __init__(
        self,
        detail: str,
        *,
        status: int = 0,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code or self.default_code
        self.fields = fields or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        return f"{status}{self.code}: {self.detail}"


class AuthError(AuthorityError):
    """The call could not be authenticated."""


class AuthMissing(AuthError):
    """No credentials were sent where the endpoint needs them (seed: ErrorClientAuthMissing)."""

    default_code = "auth_missing"


class AuthDenied(AuthError):
    """Wrong password, or an unknown, expired, reset or logged-out token (ErrorClientAuthDenied)."""

    default_code = "auth_denied"


class AuthFormat(AuthError):
    """A malformed Authorization header: a programming error (ErrorClientAuthFormat)."""

    default_code = "auth_format"


class InvalidInput(AuthorityError):
    default_code = "invalid"


class Forbidden(AuthorityError):
    default_code = "forbidden"


class NotFound(AuthorityError):
    default_code = "not_found"


class Conflict(AuthorityError):
    default_code = "conflict"


class Throttled(AuthorityError):
    default_code = "throttled"


class Unavailable(AuthorityError):
    """503, or the server could not be reached at all (status 0)."""

    default_code = "unavailable"


class ServerError(AuthorityError):
    default_code = "server_error"


_BY_CODE: dict[str, type[AuthorityError]] = {
    "auth_missing": AuthMissing,
    "auth_denied": AuthDenied,
    "auth_format": AuthFormat,
}
_BY_STATUS: dict[int, type[AuthorityError]] = {
    400: InvalidInput,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: Throttled,
    503: Unavailable,
}


def error_from_response(
    status: int, body: Any, retry_after: float | None, *, sent_credentials: bool
) -> AuthorityError:
    """The exception for an error answer. A 401 without one of the contract's codes (an OAuth2
    bearer token the server refused, say) is AuthDenied when credentials were sent, else
    AuthMissing."""
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or "")
    detail = str(body.get("detail") or body.get("error_description") or f"HTTP {status}")
    fields = body.get("fields") if isinstance(body.get("fields"), dict) else None
    kind = _BY_CODE.get(code)
    if kind is None and status == 401:
        kind = AuthDenied if sent_credentials else AuthMissing
    if kind is None:
        kind = _BY_STATUS.get(status, ServerError if status >= 500 else AuthorityError)
    return kind(detail, status=status, code=code or None, fields=fields, retry_after=retry_after)
