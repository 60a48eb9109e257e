"""How a call authenticates (the client-session contract): a password (HTTP Basic), a client token,
OAuth2 client credentials, or the token in the session file. Each gives the `Authorization` header
for the next call; the interceptor in `Client` writes back whatever `X-Authority-Token` answers."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tokens.client.session_file import SessionFile

if TYPE_CHECKING:
    from tokens.client.client import Client


class Credentials(Protocol):
    def authorization(self, client: Client) -> str | None:
        """The Authorization header value for the next call; None sends none."""
        ...

    def refused(self) -> bool:
        """Called after a 401; True when fresh credentials are worth one more try."""
        ...


@dataclass(frozen=True)
class Password:
    """A member's username and password, sent as HTTP Basic on every call: it overrides the
    session file (seed 003), and every answer carries a fresh client token for it."""

    username: str
    password: str = field(repr=False)

    def authorization(self, client: Client) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def refused(self) -> bool:
        return False


@dataclass(frozen=True)
class ClientToken:
    """A client token given explicitly (`SA_TOKEN`)."""

    token: str = field(repr=False)

    def authorization(self, client: Client) -> str:
        return f"Token {self.token}"

    def refused(self) -> bool:
        return False


class SessionFileToken:
    """The token in the session file, read at the start of every call (seed 003: the file is the
    one place the token lives; no copy is kept)."""

    def __init__(self, session_file: SessionFile) -> None:
        self.session_file = session_file

    def authorization(self, client: Client) -> str | None:
        token = self.session_file.read()
        return f"Token {token}" if token else None

    def refused(self) -> bool:
        return False


class ClientCredentials:
    """OAuth2 client credentials (RFC 6749 §4.4) at `POST /o/token/`: the access token is fetched
    on first use, refreshed a little before it expires, and once more after a 401."""

    # Refresh this long before the server's expiry, so that a token does not lapse in flight.
    _MARGIN = 30.0

    def __init__(self, client_id: str, client_secret: str, *, scope: str | None = None) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r})"

    def authorization(self, client: Client) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                token, lifetime = client.oauth2_token(
                    client_id=self.client_id, client_secret=self._secret, scope=self.scope
                )
                self._token = token
                self._expires = time.monotonic() + max(lifetime - self._MARGIN, lifetime / 2)
            return f"Bearer {self._token}"

    def refused(self) -> bool:
        with self._lock:
            had = self._token is not None
            self._token = None
            return had
