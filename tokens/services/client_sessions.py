"""Client sessions (SPEC §4 flow 8, seed 003): the CLI's own login, the client token that rolls
on every response, logout, and the key reset that ends every client session at once.

A client token is `sac1.<payload>.<mac>`, both parts base64url without padding. The payload is
version ‖ user id ‖ key record id ‖ login time ‖ issue time ‖ absolute expiry ‖ 32 random bytes
(times in microseconds since the Unix epoch); the MAC is HMAC-SHA256 over `sac1:` ‖ payload,
computed inside the HSM under a client-session key (KeyPurpose.CLIENT_SESSION_HMAC). The server
stores nothing per token. A token works while
- now - issue time ≤ CLIENT_TOKEN_IDLE_TIMEOUT, now < expiry and now - login ≤ CLIENT_TOKEN_MAX_AGE;
- its key is active or retired (scheduled rotation retires keys: logins go on) — reset-key
  destroys every key but the new one, so tokens MACed under them die at once, in every process:
  the key's state is read from the database with the user on every request;
- its login is after the user's not-before (logout).
Every fresh token of a login is MACed under that login's key, never the newest one, so a request
in flight during a reset or a logout cannot hand out a token that outlives it.

The HSM call to verify a MAC is remembered per process for tokens it confirmed (or minted), as an
HMAC under a random key of the process's own, never the token; a failed check is never
remembered. Remembering never skips the time, key-state and not-before checks.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hmac
import logging
import math
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from authority.cache import count_in_window
from authority.caches import registry
from authority.conf import authority_settings
from authority.errors import AuthDenied, Throttled
from authority.lru import LRU
from authority.principals import Principal
from authority.ratelimit import parse_rate, subject_key
from authority.raw import fetch_instance
from authority.request_context import current_request
from authority.services.audit import AuditAction, Outcome, audit_record, token_fingerprint
from authority.services.oauth2_clients import oauth2_tokens_end
from hsm.errors import KeyUnusable
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.selectors import key_active_get, key_by_pk_cached
from hsm.services import key_active_or_generate, key_destroy, key_hmac, key_rotate
from tokens.models import ClientSessionCutoff

logger = logging.getLogger(__name__)

PREFIX = "sac1"
VERSION = 1
NONCE_BYTES = 32
_PAYLOAD = struct.Struct(">BQQqqq32s")  # version, user, key, login, issued, expires, nonce
# The only lengths a well-formed token has; anything else is refused before any work.
_PAYLOAD_CHARS = math.ceil(_PAYLOAD.size * 4 / 3)
_MAC_CHARS = math.ceil(32 * 4 / 3)
TOKEN_LENGTH = len(PREFIX) + 1 + _PAYLOAD_CHARS + 1 + _MAC_CHARS
# An issue time may be this far ahead of this process's clock (another process's clock).
CLOCK_SKEW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class ClientSession:
    """One login's chain of client tokens: whose, under which key, since when, until when."""

    user_id: int
    key_pk: int
    login_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class IssuedClientToken:
    token: str
    session: ClientSession
    username: str


def _micros(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _moment(micros: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac_input(payload: bytes) -> bytes:
    return f"{PREFIX}:".encode() + payload


# --- the per-process memory of confirmed MACs -----------------------------------------------

_LOCAL_KEY = secrets.token_bytes(32)
# Every declared event clears it: a destroyed client-session key (reset-key) forgets them all.
_confirmed: LRU[bytes, bool] = registry.lru("tokens.confirmed_client_tokens")


def _local_mac(token: str) -> bytes:
    return hmac.digest(_LOCAL_KEY, token.encode(), "sha256")


# --- issuing and verifying ------------------------------------------------------------------


def _client_key(key_pk: int) -> KeyRecord | None:
    try:
        key = key_by_pk_cached(key_pk)
    except KeyRecord.DoesNotExist:
        return None
    return key if key.purpose == KeyPurpose.CLIENT_SESSION_HMAC else None


def _login_key() -> KeyRecord:
    """The active client-session key, read afresh: the per-process key cache lags up to 30 s, and
    a login just after a reset in another process must not take the key the reset destroyed."""
    try:
        return key_active_get(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    except KeyUnusable:  # none yet: made on first need
        return key_active_or_generate(purpose=KeyPurpose.CLIENT_SESSION_HMAC)


def client_session_start(*, user: Any) -> ClientSession:
    """A new login of `user` under the active client-session key."""
    key = _login_key()
    now = timezone.now()
    max_age = dt.timedelta(seconds=authority_settings.CLIENT_TOKEN_MAX_AGE)
    return ClientSession(user_id=user.pk, key_pk=key.pk, login_at=now, expires_at=now + max_age)


def client_token_issue(*, session: ClientSession) -> str:
    """A fresh token of `session`: its idle time starts now; its expiry stays the login's.
    KeyUnusable when the login's key has been destroyed (a reset)."""
    key = _client_key(session.key_pk)
    if key is None:
        raise KeyUnusable("The client session's key is gone.")
    payload = _PAYLOAD.pack(
        VERSION,
        session.user_id,
        session.key_pk,
        _micros(session.login_at),
        _micros(timezone.now()),
        _micros(session.expires_at),
        secrets.token_bytes(NONCE_BYTES),
    )
    mac = key_hmac(key=key, data=_mac_input(payload))
    token = f"{PREFIX}.{_b64(payload)}.{_b64(mac)}"
    _confirmed.put(_local_mac(token), True)
    return token


@dataclass(frozen=True)
class _Claims:
    session: ClientSession
    issued_at: dt.datetime
    payload: bytes
    mac: bytes


def _claims(token: str) -> _Claims | None:
    """What a token says, unchecked; None when it is not a client token of this version."""
    if len(token) != TOKEN_LENGTH:
        return None
    prefix, _, rest = token.partition(".")
    encoded_payload, _, encoded_mac = rest.partition(".")
    if prefix != PREFIX or len(encoded_payload) != _PAYLOAD_CHARS:
        return None
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except (binascii.Error, ValueError):
        return None
    if (
        len(payload) != _PAYLOAD.size
        or len(mac) != 32
        or token
        != (
            f"{PREFIX}.{_b64(payload)}.{_b64(mac)}"  # one token, one spelling
        )
    ):
        return None
    version, user_id, key_pk, login, issued, expires, _nonce = _PAYLOAD.unpack(payload)
    if version != VERSION:
        return None
    try:
        session = ClientSession(user_id, key_pk, _moment(login), _moment(expires))
        return _Claims(session, _moment(issued), payload, mac)
    except (OverflowError, OSError, ValueError):  # times no clock can show
        return None


def _in_time(claims: _Claims, now: dt.datetime) -> bool:
    idle = dt.timedelta(seconds=authority_settings.CLIENT_TOKEN_IDLE_TIMEOUT)
    max_age = dt.timedelta(seconds=authority_settings.CLIENT_TOKEN_MAX_AGE)
    session = claims.session
    return (
        session.login_at <= claims.issued_at <= now + CLOCK_SKEW
        and now - claims.issued_at <= idle
        and now < session.expires_at
        and now - session.login_at <= max_age  # a lowered setting applies to live tokens too
    )


def _mac_valid(token: str, claims: _Claims) -> bool:
    remembered = _local_mac(token)
    if _confirmed.get(remembered):
        return True
    key = _client_key(claims.session.key_pk)
    if key is None or key.state == KeyState.DESTROYED:
        return False
    try:
        expected = key_hmac(key=key, data=_mac_input(claims.payload))
    except KeyUnusable:  # destroyed by a reset in another process
        return False
    if not hmac.compare_digest(expected, claims.mac):
        return False
    _confirmed.put(remembered, True)
    return True


@functools.cache
def _live_user_statement() -> tuple[str, tuple[str, ...]]:
    """The SELECT of `_live_user` and the user fields it lists, from the models' metadata.

    Hand-written: the ORM's set-up of this query (two subqueries) cost five times its round
    trip, on every call of every client."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    user, key, cutoff = get_user_model()._meta, KeyRecord._meta, ClientSessionCutoff._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    fields = user.concrete_fields
    user_pk = column(user, user.pk.name)
    sql = (
        f"SELECT {', '.join(f'u.{column(user, field.name)}' for field in fields)} "  # noqa: S608
        f"FROM {quote(user.db_table)} u "
        f"WHERE u.{user_pk} = %s AND u.{column(user, 'is_active')} = %s "
        f"AND EXISTS (SELECT 1 FROM {quote(key.db_table)} k WHERE k.{column(key, 'id')} = %s "
        f"AND k.{column(key, 'purpose')} = %s AND k.{column(key, 'state')} IN (%s, %s)) "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(cutoff.db_table)} c "
        f"WHERE c.{column(cutoff, 'user')} = u.{user_pk} "
        f"AND c.{column(cutoff, 'not_before')} >= %s)"
    )  # names from the models' metadata; every value is a parameter
    return sql, tuple(field.attname for field in fields)


registry.attach("tokens.client_session_statement", clear=_live_user_statement.cache_clear)


def _live_user(session: ClientSession) -> Any | None:
    """The login's user if it is active, the login's key still verifies (active or retired: not
    destroyed by a reset) and the user has not logged out since the login: one query."""
    sql, fields = _live_user_statement()
    not_before = ClientSessionCutoff._meta.get_field("not_before")
    params = [
        session.user_id, True,
        session.key_pk, KeyPurpose.CLIENT_SESSION_HMAC.value,
        KeyState.ACTIVE.value, KeyState.RETIRED.value,
        not_before.get_db_prep_value(session.login_at, connections[DEFAULT_DB_ALIAS]),
    ]  # fmt: skip
    return fetch_instance(get_user_model(), sql, params, fields=fields)


def client_token_verify(*, token: str) -> tuple[Any, ClientSession]:
    """The user and login of a client token; AuthDenied for anything that is not a live one."""
    claims = _claims(token)
    if claims is None or not _in_time(claims, timezone.now()):
        raise AuthDenied("The client token is unknown or has expired; log in again.")
    if not _mac_valid(token, claims):
        raise AuthDenied("The client token is unknown or has expired; log in again.")
    user = _live_user(claims.session)
    if user is None:
        raise AuthDenied("The client token is unknown or has expired; log in again.")
    return user, claims.session


# --- passwords, throttled -------------------------------------------------------------------


def _failure_counters(username: str, address: str | None) -> list[tuple[str, int, int]]:
    """The counters a failed login raises, each with (its name, failures allowed, window): per
    user name (LOGIN_THROTTLE) and, looser, per client address (LOGIN_ADDRESS_THROTTLE), so one
    member's typos do not lock out the others behind the same address. Named by keyed hashes:
    the cache holds neither user names nor addresses in the clear."""
    counters = [("user", username, authority_settings.LOGIN_THROTTLE)]
    if address:
        counters.append(("address", address, authority_settings.LOGIN_ADDRESS_THROTTLE))
    named = []
    for kind, value, rate in counters:
        limit, duration = parse_rate(rate)
        named.append(
            (f"client-login:{kind}:{subject_key(f'login-{kind}', value)}", limit, duration)
        )
    return named


def client_password_authenticate(*, username: str, password: str) -> Any:
    """The active user with this username and password; AuthDenied otherwise, audited and
    counted. Throttled once a user name has failed LOGIN_THROTTLE times in the current window, or
    a client address LOGIN_ADDRESS_THROTTLE times (checked before the password, so a throttled
    guess learns nothing)."""
    now = timezone.now().timestamp()
    counters = [
        (f"{name}:{int(now // duration)}", limit, duration)
        for name, limit, duration in _failure_counters(username, current_request().client_address)
    ]
    waits = [
        (int(now // duration) + 1) * duration - now
        for key, limit, duration in counters
        if cache.get(key, 0) >= limit
    ]
    if waits:
        raise Throttled(
            "Too many failed logins; retry later.", retry_after=max(1, math.ceil(max(waits)))
        )
    user = authenticate(username=username, password=password)
    if user is None:
        for key, _, duration in counters:
            count_in_window(key, duration + 1)
        audit_record(
            actor=Principal(system="client-login"), owner=None,
            action=AuditAction.CLIENT_SESSION_LOGIN, object_type="user", object_id="",
            outcome=Outcome.DENIED, reason="bad_credentials",
            detail={"username_fingerprint": token_fingerprint(username)},
        )  # fmt: skip
        raise AuthDenied("Wrong user name or password.")
    audit_record(
        actor=Principal(user=user), owner=None, action=AuditAction.CLIENT_SESSION_LOGIN,
        object_type="user", object_id=user.get_username(),
    )  # fmt: skip
    return user


def client_session_login(*, username: str, password: str) -> IssuedClientToken:
    """POST /api/v1/auth/login: a password for the first token of a new login."""
    user = client_password_authenticate(username=username, password=password)
    session = client_session_start(user=user)
    return IssuedClientToken(client_token_issue(session=session), session, user.get_username())


# --- ending sessions ------------------------------------------------------------------------


@transaction.atomic
def client_session_logout(
    *, user: Any, action: AuditAction = AuditAction.CLIENT_SESSION_LOGOUT
) -> None:
    """Ends every login of `user` so far, in every process (the not-before is read with the
    user on each request)."""
    ClientSessionCutoff.objects.update_or_create(user=user, defaults={"not_before": timezone.now()})
    audit_record(
        actor=Principal(user=user), owner=None, action=action,
        object_type="user", object_id=user.get_username(),
    )  # fmt: skip


class PasswordChangeEndsClientSessions:
    """Django calls every password validator's `password_changed` when a user's new password is
    saved (`set_password` then `save`): the one hook Django gives for it. A changed password ends
    the user's client sessions, as a logout does, and its OAuth2 access and refresh tokens, so a
    token stolen before a reset dies with the old password. It validates nothing."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            client_session_logout(user=user, action=AuditAction.CLIENT_SESSION_PASSWORD_CHANGED)
            oauth2_tokens_end(user=user)

    def get_help_text(self) -> str:
        return ""


def client_session_key_reset(*, actor: Principal) -> KeyRecord:
    """A new client-session key, and every other one destroyed: every client token of every
    user stops working at once, in every process (each request reads its key's state)."""
    with transaction.atomic():
        new = key_rotate(purpose=KeyPurpose.CLIENT_SESSION_HMAC, actor=actor)
        for old in KeyRecord.objects.filter(
            purpose=KeyPurpose.CLIENT_SESSION_HMAC, owner=None, state=KeyState.RETIRED
        ):
            key_destroy(key=old, actor=actor)
        audit_record(
            actor=actor, owner=None, action=AuditAction.CLIENT_SESSION_RESET_KEY, object_type="key",
            object_id=new.label,
        )  # fmt: skip
    return new
