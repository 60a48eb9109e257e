"""Typed results of the v1 API: one frozen dataclass per answer shape, built from the JSON body.

Each keeps the body it came from in `raw` (not compared), for fields a newer server adds.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tokens.wire.bearer import BearerToken
from tokens.wire.session import SessionToken

T = TypeVar("T")


def _datetime(value: Any) -> Any:
    return None if value is None else dt.datetime.fromisoformat(value)


def _neofs_token(value: Any) -> Any:
    return None if value is None else NeoFSToken(binary=value["binary"], json=value["json"])


def _tuple(value: Any) -> Any:
    return None if value is None else tuple(value)


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    if hint in (dt.datetime, dt.datetime | None):
        return _datetime
    if hint in (NeoFSToken, NeoFSToken | None):
        return _neofs_token
    if hint == tuple[str, ...]:
        return _tuple
    return None


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """(field, converter) of a result class, worked out once: `build` runs on every call."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls) if f.name != "raw"
    )


def build(cls: type[T], body: dict[str, Any]) -> T:
    """An instance of the dataclass `cls` from an API body; fields the body lacks take defaults."""
    values = {
        name: convert(body[name]) if convert else body[name]
        for name, convert in _plan(cls)  # type: ignore[arg-type]
        if name in body
    }
    return cls(**values, raw=body)  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class NeoFSToken:
    """A NeoFS token as the API returns it: base64 of the binary form, and its NeoFS JSON."""

    binary: str
    json: dict[str, Any]

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.binary)

    def session_token(self) -> SessionToken:
        return SessionToken.decode(self.data)

    def bearer_token(self) -> BearerToken:
        return BearerToken.decode(self.data)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    owner: str
    kind: str
    context: str
    verbs: tuple[str, ...]
    container: str | None
    objects: tuple[str, ...]
    subject: str
    renewer: str
    session_key: str | None
    state: str
    created_at: dt.datetime
    expires_at: dt.datetime
    max_expires_at: dt.datetime
    cancelled_at: dt.datetime | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IssuedSession(Session):
    """An issued session: `token` is the delegation token (shown once), `neofs_token` the signed
    NeoFS token of a static session."""

    token: str | None = None
    neofs_token: NeoFSToken | None = None


@dataclass(frozen=True, slots=True)
class DynamicSession(Session):
    blank_token: NeoFSToken | None = None


@dataclass(frozen=True, slots=True)
class CompletedSession:
    id: str
    neofs_token: NeoFSToken
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SessionSignature:
    key: str
    signature: str
    scheme: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.signature)


@dataclass(frozen=True, slots=True)
class AccessToken:
    access_token: str
    issued_token_type: str
    token_type: str
    expires_in: int
    scope: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Introspection:
    """RFC 7662 §2.2: `active`, and the token's claims when it is."""

    active: bool
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.raw[name]


@dataclass(frozen=True, slots=True)
class BearerGrant:
    id: str
    owner: str
    container: str
    receiver: str
    flavour: str
    exp: int
    nbf: int
    iat: int
    issued_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    token: NeoFSToken
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    reason: str
    record: Any
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


@dataclass(frozen=True, slots=True)
class Owner:
    slug: str
    name: str
    neofs_owner_id: str | None
    public_key: str | None
    signs_own_tokens: bool
    bearer_flavour: str
    renew_period: int | None
    max_lifetime: int | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Container:
    container_id: str
    owner: str
    name: str
    basic_acl: Any
    eacl_table: str | None
    created_at: dt.datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EACLTable:
    id: str
    owner: str
    container: str | None
    name: str
    table: dict[str, Any]
    rules: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Epoch:
    epoch: int
    duration: int
    origin: dt.datetime
    started_at: dt.datetime
    next_epoch_at: dt.datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Login:
    """The answer of `POST /api/v1/auth/login` (the client-session contract)."""

    token: str
    token_type: str
    idle_timeout: int
    expires_at: dt.datetime
    user: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list (DRF limit/offset): `count` in all, `results` here."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]
