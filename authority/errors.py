"""Domain errors raised by services; the API maps each to the SPEC §5 error body and status."""

from __future__ import annotations


class AuthorityError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(AuthorityError):
    status = 400
    code = "invalid"


class BadCredentials(AuthorityError):
    """No usable credential: an unknown or wrong token, a failed proof of possession."""

    status = 401
    code = "invalid_token"


class NotAllowed(AuthorityError):
    """Authenticated, can see the object, but may not do this to it."""

    status = 403
    code = "forbidden"


class NotFound(AuthorityError):
    """Unknown, or not the caller's: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(AuthorityError):
    status = 409
    code = "conflict"


class Unavailable(AuthorityError):
    status = 503
    code = "unavailable"
    retry_after = 5


# The three authentication failures of the API (SPEC §4 flow 8, seed 003): a client tells them
# apart to decide whether to ask for a password (missing, denied) or give up (format).
class AuthMissing(AuthorityError):
    """No credentials where the endpoint needs them."""

    status = 401
    code = "auth_missing"


class AuthDenied(AuthorityError):
    """Credentials present but not accepted: wrong password; unknown, expired, reset or
    logged-out token."""

    status = 401
    code = "auth_denied"


class AuthFormat(AuthorityError):
    """A malformed Authorization header: a client's programming error, not a wrong secret."""

    status = 400
    code = "auth_format"


class Throttled(AuthorityError):
    """Too many attempts; `retry_after` seconds until the window ends."""

    status = 429
    code = "throttled"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
