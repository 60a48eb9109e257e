"""Access tokens: ES256 JWTs in the RFC 9068 profile, signed in the HSM — signing, verifying their
claims (introspection, revocation), and the JWKS that lets anyone verify them.

The trade that hands them out is tokens.services.trade.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from authority.caches import Event, registry
from authority.conf import authority_settings
from authority.lru import LRU
from hsm.models import KeyPurpose, KeyRecord
from hsm.selectors import key_verifying_list
from hsm.services import key_active_or_generate, key_sign
from tokens.models import Session
from tokens.wire.signature import Scheme, load_public_key


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_kid(key: KeyRecord) -> str:
    return bytes(key.key_id).hex()


def access_token_sign(
    *, session: Session, verbs: list[str], audience: str, now: dt.datetime,
    expires_at: dt.datetime,
) -> tuple[str, str]:  # fmt: skip
    """(the signed access token, the kid of the key that signed it)."""
    key = key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    kid = key_kid(key)
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    claims: dict[str, Any] = {  # RFC 9068 §2.2
        "iss": authority_settings.ISSUER,
        "sub": getattr(session, "owner_neofs_id", None) or session.owner.neofs_owner_id,
        "aud": audience,
        "exp": int(expires_at.timestamp()),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "jti": uuid.uuid4().hex,
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
    return f"{signing_input}.{_b64url(signature)}", kid


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


def _evict_kid(
    cache: LRU[str, ec.EllipticCurvePublicKey], event: Event, facts: dict[str, Any]
) -> None:
    cache.pop(facts["kid"])


_verifying_keys: LRU[str, ec.EllipticCurvePublicKey] = registry.lru(
    "tokens.verifying_keys", evict=_evict_kid
)


# (kid, claims) by token; an entry counts only while its key is in `_verifying_keys`, so it
# needs no eviction of its own when a key is destroyed (see access_token_check).
_verified: LRU[str, tuple[str, dict[str, Any]]] = registry.lru("tokens.verified_access_tokens")


# RFC 9068 §4: a resource server refuses a JWT whose `typ` is not `at+jwt` (its media type form
# `application/at+jwt` included), so an ID token or another JWT signed by the same key is no
# access token.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


def access_token_check(
    token: str, *, audience: str | None = None
) -> tuple[dict[str, Any] | None, str]:
    """An access token judged as a resource server judges it: (its claims, "") when it is
    signed (ES256 only, whatever its header proposes) by one of our keys that is not destroyed,
    typed `at+jwt`, issued by us, for `audience` (when given), and within `nbf`/`exp`; else
    (None, the reason): `bad_access_token`, `expired` or `not_yet_valid`. Revocation and the
    session's state are the caller's to read (from the database, or remembered only until a
    write is announced: authority.state_changes).

    What never changes for given bytes — the header, the signature, the issuer — is checked once
    per process and remembered (`_verified`), for no longer than the key that signed it is
    (`_verifying_keys`: evicted when destroyed here, within KEY_TTL when destroyed elsewhere);
    the times and the audience are checked on every call."""
    found = _verified.get(token)
    if found is not None and _verifying_keys.get(found[0]) is None:
        found = None  # its key aged out of this process's memory: read (and judged) again
    if found is None:
        kid, claims, reason = _signed_claims(token)
        if claims is None:
            return None, reason
        _verified.put(token, (kid, claims))
    else:
        claims = found[1]
    reason = _time_and_audience_reason(claims, audience)
    return (None, reason) if reason else (dict(claims), "")


def _signed_claims(token: str) -> tuple[str, dict[str, Any] | None, str]:
    """(the kid, the claims, "") of a token signed by one of our keys, typed `at+jwt` and issued
    by us, before its times and audience are judged; else ("", None, the reason)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return "", None, "bad_access_token"
    kid = header.get("kid")
    if header.get("typ") not in ACCESS_TOKEN_TYPES or not isinstance(kid, str) or len(kid) != 32:
        return "", None, "bad_access_token"
    public = _verifying_keys.get(kid)
    if public is None:
        record = (
            key_verifying_list(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
            .filter(key_id=bytes.fromhex(kid) if _is_hex(kid) else b"")
            .first()
        )
        if record is None:
            return "", None, "bad_access_token"
        public = load_public_key(bytes(record.public_key or b""))
        _verifying_keys.put(kid, public)
    try:
        claims = jwt.decode(
            token,
            key=public,
            algorithms=["ES256"],  # never anything the token's header proposes
            issuer=authority_settings.ISSUER,
            options={
                "verify_aud": False,  # judged on every call, with the times
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "require": ["exp", "iat", "jti", "sid", "sub"],
            },
        )
    except jwt.PyJWTError:
        return "", None, "bad_access_token"
    times = [claims[name] for name in ("exp", "iat", "nbf") if name in claims]
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in times):
        return "", None, "bad_access_token"
    return kid, claims, ""


def _time_and_audience_reason(claims: dict[str, Any], audience: str | None) -> str:
    """RFC 7519 §4.1.3-5 as PyJWT judges them, without leeway: expired when `exp` is now or
    past, not yet valid while `nbf` or `iat` is ahead; the audience, when asked for, among the
    token's."""
    now = time.time()
    if claims["exp"] <= now:
        return "expired"
    if claims.get("nbf", 0) > now or claims["iat"] > now:
        return "not_yet_valid"
    if audience is not None:
        granted = claims.get("aud")
        audiences = [granted] if isinstance(granted, str) else granted
        if not isinstance(audiences, list) or audience not in audiences:
            return "bad_access_token"
    return ""


def access_token_claims(token: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token signed by one of our keys that is not
    destroyed (any audience: the introspecting resource server checks its own); else None."""
    return access_token_check(token)[0]


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
