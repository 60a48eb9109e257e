"""Typed results of the v1 API: one frozen dataclass per answer shape, built from the JSON body.

Each keeps the body it came from in `raw` (not compared), for fields a newer server adds.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import typing
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tokens.wire.bearer import BearerToken
from tokens.wire.session import SessionToken

T = TypeVar("T")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if hint in (dt.datetime, dt.datetime | None):
        return dt.datetime.fromisoformat(value)
    if hint in (NeoFSToken, NeoFSToken | None):
        return NeoFSToken(binary=value["binary"], json=value["json"])
    if hint in (tuple[str, ...],):
        return tuple(value)
    return value


def build(cls: type[T], body: dict[str, Any]) -> T:
    """An instance of the dataclass `cls` from an API body; fields the body lacks take defaults."""
    hints = _hints(cls)  # type: ignore[arg-type]
    values = {
        f.name: _value(hints[f.name], body[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in body and f.name != "raw"
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
