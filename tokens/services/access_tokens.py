"""Trading a session token for a short-lived access token (broker GetAccessToken, RFC 8693), and
the access tokens themselves: ES256 JWTs in the RFC 9068 profile, signed in the HSM.

The hot path: a first trade of a session reads it (one prepared statement) and writes its
audit row (one statement); a repeated trade of a delegation session is one statement that
records the trade only if the session is still active at the access generation of the cached
token (`_trade_again`). Keys, confirmed secrets and recently issued access tokens come from
per-process caches, but the session's state always comes from the database, so a cancelled or
expired session trades nothing at once, whatever is cached; revoking an access token bumps the
session's `access_generation`, which is part of the cache key, so no process hands it out again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from authority.conf import authority_settings
from authority.epoch import current_epoch
from authority.errors import BadCredentials, Conflict, InvalidInput
from authority.lru import LRU
from authority.principals import Principal
from authority.raw import fetch_instance
from authority.services.audit import audit_record, audit_record_if
from hsm.models import KeyPurpose, KeyRecord
from hsm.selectors import key_verifying_list
from hsm.services import key_active_or_generate, key_sign
from tokens.models import Session, SessionKind, SessionState
from tokens.services.delegation import (
    delegation_secret_confirmed,
    delegation_session_matches,
    delegation_token_parse,
    neofs_token_matches,
    neofs_token_parse,
)
from tokens.wire.proof import proof_message
from tokens.wire.signature import Scheme, Signature, load_public_key, verify

MIN_REUSE_SECONDS = 30  # a cached token is handed out again only while it has this much life


@dataclass(frozen=True)
class Proof:
    """Proof of possession of a static token's session key (SPEC §4.3)."""

    time: int
    nonce: str
    signature: bytes


@dataclass(frozen=True)
class TradeResult:
    access_token: str
    expires_in: int
    scope: str
    session_id: uuid.UUID
    cached: bool


@dataclass(frozen=True)
class KnownSession:
    """What a full trade learnt of a session: facts that never change, and the access generation
    its cached tokens belong to (checked again by the database on every trade)."""

    owner_id: int
    secret_digest: str
    verbs: tuple[str, ...]
    access_generation: int


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_kid(key: KeyRecord) -> str:
    return bytes(key.key_id).hex()


# The trade's one read, as hand-written SQL: setting up an ORM query costs several times the
# round trip itself, on the path that runs for every trade. The model's other fields stay deferred.
_TRADE_SESSION_FIELDS = (
    "id", "owner_id", "subject", "kind", "verbs", "container_cid", "token", "secret_digest",
    "secret_key_id", "expires_at", "cancelled_at", "access_generation",
)  # fmt: skip
_TRADE_SESSION_SQL = f"""
    SELECT {", ".join(f"s.{name}" for name in _TRADE_SESSION_FIELDS)}, o.neofs_owner_id
    FROM tokens_session s JOIN authority_owner o ON o.id = s.owner_id
    WHERE s.id = %s
"""  # noqa: S608 - column names from the tuple above, the id a parameter


def _session_by_id(session_id: uuid.UUID) -> Session | None:
    """What a trade reads, with the owner's NeoFS id (the token's `sub`) as `owner_neofs_id`."""
    key = Session._meta.pk.get_db_prep_value(session_id, connection)  # type: ignore[union-attr]
    return fetch_instance(
        Session, _TRADE_SESSION_SQL, [key], fields=_TRADE_SESSION_FIELDS, extra=("owner_neofs_id",)
    )


def session_from_subject_token(subject_token: str, proof: Proof | None) -> Session:
    """The session a presented token proves, or BadCredentials (never saying which part failed)."""
    parsed = delegation_token_parse(subject_token)
    if parsed is not None:
        session = _session_by_id(parsed[0])
        if not delegation_session_matches(session, parsed[1]):
            raise BadCredentials("Unknown or invalid session token.")
        return session  # type: ignore[return-value]
    return _session_from_neofs_token(subject_token, proof)


def _session_from_neofs_token(subject_token: str, proof: Proof | None) -> Session:
    parsed = neofs_token_parse(subject_token)
    session = _session_by_id(parsed[0]) if parsed else None
    if parsed is None or session is None or not neofs_token_matches(session, parsed[1]):
        raise BadCredentials("Unknown or invalid session token.")
    lifetime = parsed[2].body.lifetime
    if lifetime is None or not lifetime.valid_at(current_epoch()):
        raise Conflict("The NeoFS session token is outside its epoch lifetime.")
    if proof is None:
        raise BadCredentials("A NeoFS session token needs a proof of possession of its key.")
    _check_proof(session, parsed[2].body.session_key, proof)
    return session


def _check_proof(session: Session, session_key: bytes, proof: Proof) -> None:
    window = authority_settings.PROOF_WINDOW
    if abs(timezone.now().timestamp() - proof.time) > window:
        raise BadCredentials(f"The proof's time is more than {window} s away.")
    if not 8 <= len(proof.nonce) <= 128:
        raise InvalidInput("The nonce has 8 to 128 characters.", field="proof.nonce")
    message = proof_message(session.id, proof.time, proof.nonce)
    if not verify(message, Signature(session_key, proof.signature, Scheme.ECDSA_RFC6979_SHA256)):
        raise BadCredentials("The proof of possession does not verify.")
    # Single use: the nonce is remembered past the time window (cache.add is atomic in Redis).
    if not cache.add(f"sa:pop:{session.id}:{proof.nonce}", 1, timeout=3 * window):
        raise BadCredentials("This proof was already used.")


def _scope(verbs: Sequence[str], scope: str | None) -> list[str]:
    if not scope:
        return list(verbs)
    wanted = scope.split()
    extra = [verb for verb in wanted if verb not in verbs]
    if extra:
        raise InvalidInput(f"Beyond the session's verbs: {', '.join(extra)}.", field="scope")
    return [verb for verb in verbs if verb in wanted]  # the session's order, deduplicated


# Recently issued access tokens of this process, (token, expiry) by session, access generation,
# scope and audience; and the delegation sessions they were traded from.
issued_tokens: LRU[tuple[Any, ...], tuple[str, float]] = LRU()
known_sessions: LRU[uuid.UUID, KnownSession] = LRU()

# The session is active (`Session.state_at`) and its cached tokens are still of its current
# access generation: checked in the statement that records the trade.
_STILL_LIVE = (
    "EXISTS (SELECT 1 FROM tokens_session WHERE id = %s AND cancelled_at IS NULL"
    " AND expires_at > %s AND access_generation = %s)"
)


def access_token_trade(
    *, subject_token: str, scope: str | None = None, audience: str | None = None,
    proof: Proof | None = None,
) -> TradeResult:  # fmt: skip
    """A session token for an access token scoped to the session (or narrower).

    A repeated trade of a delegation session whose access token this process holds takes one
    statement (`_trade_again`); every other trade reads the session, checks it, and signs or
    reuses a token (`_trade`). Both re-check the session's state in the database."""
    audience = audience or authority_settings.ACCESS_TOKEN_AUDIENCE
    parsed = delegation_token_parse(subject_token)
    if parsed is not None and proof is None:
        again = _trade_again(parsed[0], parsed[1], scope, audience)
        if again is not None:
            return again
    return _trade(subject_token, scope, audience, proof)


def _trade_again(
    session_id: uuid.UUID, secret: str, scope: str | None, audience: str
) -> TradeResult | None:
    """The cached access token for a session this process traded before, recorded in the same
    statement that finds the session still active at the same access generation; None when any
    of that is not so (the full trade then says why)."""
    known = known_sessions.get(session_id)
    if known is None or not delegation_secret_confirmed(session_id, known.secret_digest, secret):
        return None
    try:
        verbs = _scope(known.verbs, scope)
    except InvalidInput:
        return None  # the full trade answers, in its order of checks
    now = timezone.now()
    cached = issued_tokens.get((session_id, known.access_generation, " ".join(verbs), audience))
    if cached is None or cached[1] - now.timestamp() < MIN_REUSE_SECONDS:
        return None
    token, expires = cached
    key = Session._meta.pk.get_db_prep_value(session_id, connection)  # type: ignore[union-attr]
    moment = Session._meta.get_field("expires_at").get_db_prep_value(now, connection)
    if not audit_record_if(
        _STILL_LIVE,
        [key, moment, known.access_generation],
        **_trade_audit(session_id, known.owner_id, token, verbs, cached=True),
    ):
        return None
    return TradeResult(token, int(expires - now.timestamp()), " ".join(verbs), session_id, True)


def _trade(
    subject_token: str, scope: str | None, audience: str, proof: Proof | None
) -> TradeResult:
    session = session_from_subject_token(subject_token, proof)
    now = timezone.now()
    state = session.state_at(now)
    if state != SessionState.ACTIVE:
        raise Conflict(f"The session is {state}.")
    verbs = _scope(session.verbs, scope)
    slot = (session.id, session.access_generation, " ".join(verbs), audience)
    cached = issued_tokens.get(slot)
    if cached is not None and cached[1] - now.timestamp() >= MIN_REUSE_SECONDS:
        token, expires = cached
        reused = True
    else:
        expires_at = min(
            now + dt.timedelta(seconds=authority_settings.ACCESS_TOKEN_TTL), session.expires_at
        )
        if (expires_at - now).total_seconds() < 1:
            raise Conflict("The session expires too soon to issue an access token.")
        token, _ = _sign_access_token(session, verbs, audience, now, expires_at)
        expires, reused = expires_at.timestamp(), False
        issued_tokens.put(slot, (token, expires))
    if session.kind == SessionKind.DELEGATION:
        known_sessions.put(
            session.id,
            KnownSession(
                session.owner_id, session.secret_digest, tuple(session.verbs),
                session.access_generation,
            ),
        )  # fmt: skip
    audit_record(
        **_trade_audit(session.id, session.owner_id, token, verbs, cached=reused),
        synchronous=False,
    )
    return TradeResult(token, int(expires - now.timestamp()), " ".join(verbs), session.id, reused)


def _trade_audit(
    session_id: uuid.UUID, owner_id: int, token: str, verbs: list[str], *, cached: bool
) -> dict[str, Any]:
    return {
        "actor": Principal(system=f"session-holder:{session_id}"),
        "owner": owner_id,
        "action": "session.trade",
        "object_type": "session",
        "object_id": str(session_id),
        "token": token,
        "detail": {"scope": verbs, "cached": cached},
    }


def _sign_access_token(
    session: Session, verbs: list[str], audience: str, now: dt.datetime, expires_at: dt.datetime
) -> tuple[str, str]:
    key = key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    jti = uuid.uuid4().hex
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key_kid(key)}
    claims: dict[str, Any] = {  # RFC 9068 §2.2
        "iss": authority_settings.ISSUER,
        "sub": getattr(session, "owner_neofs_id", None) or session.owner.neofs_owner_id,
        "aud": audience,
        "exp": int(expires_at.timestamp()),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "jti": jti,
        "client_id": session.subject,
        "scope": " ".join(verbs),
        "sid": str(session.id),
        "cid": session.container_id,
    }
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    # ES256 (RFC 7518 §3.4) is r ‖ s over SHA-256: exactly the HSM's raw ECDSA output.
    signature = key_sign(key=key, data=signing_input.encode(), scheme=Scheme.ECDSA_RFC6979_SHA256)
    return f"{signing_input}.{_b64url(signature)}", jti


def _jwk(key: KeyRecord) -> dict[str, str]:
    numbers = load_public_key(bytes(key.public_key or b"")).public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
        "kid": key_kid(key),
        "use": "sig",
        "alg": "ES256",
    }


def jwks_document() -> dict[str, list[dict[str, str]]]:
    """Active and retired access-token keys: tokens signed before a rotation still verify."""
    keys = key_verifying_list(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING).order_by("-created_at")
    return {"keys": [_jwk(key) for key in keys]}


_verifying_keys: LRU[str, Any] = LRU(1_000)  # public keys by kid


def access_token_claims(token: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token signed by one of our keys; else None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    if not isinstance(kid, str) or len(kid) != 32:
        return None
    public = _verifying_keys.get(kid)
    if public is None:
        record = (
            key_verifying_list(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
            .filter(key_id=bytes.fromhex(kid) if _is_hex(kid) else b"")
            .first()
        )
        if record is None:
            return None
        public = load_public_key(bytes(record.public_key or b""))
        _verifying_keys.put(kid, public)
    try:
        return jwt.decode(  # type: ignore[no-any-return]
            token,
            key=public,
            algorithms=["ES256"],  # never anything the token's header proposes
            issuer=authority_settings.ISSUER,
            options={"verify_aud": False, "require": ["exp", "iat", "jti", "sid"]},
        )
    except jwt.PyJWTError:
        return None


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
