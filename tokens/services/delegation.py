"""The opaque delegation token `sa1.<session id>.<secret>` (broker session token) and its secret's
digest.

The secret has 256 bits from `secrets`; the server keeps only HMAC-SHA256(secret) under an HMAC
key held in the HSM, and compares digests in constant time. A secret the HSM has confirmed once is
remembered by this process as an HMAC under a random key of its own (never the secret itself), so
repeated trades of one session spend no HSM call; a failed check is never remembered.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any

from authority.caches import Event, registry
from authority.lru import LRU
from hsm.models import KeyRecord
from hsm.selectors import key_by_pk_cached
from hsm.services import key_hmac
from tokens.models import Session, SessionKind

PREFIX = "sa1"
SECRET_BYTES = 32


def delegation_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def delegation_token(session_id: uuid.UUID, secret: str) -> str:
    return f"{PREFIX}.{session_id}.{secret}"


def delegation_token_parse(token: str) -> tuple[uuid.UUID, str] | None:
    """(session id, secret), or None when the text is not a delegation token."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not 32 <= len(parts[2]) <= 128:
        return None
    try:
        session_id = uuid.UUID(parts[1])
    except ValueError:
        return None
    if str(session_id) != parts[1]:  # only the canonical spelling: one token, one string
        return None
    return session_id, parts[2]


def delegation_digest(key: KeyRecord, session_id: uuid.UUID, secret: str) -> str:
    return key_hmac(key=key, data=f"{PREFIX}:{session_id}:{secret}".encode()).hex()


def delegation_digest_matches(
    key: KeyRecord, session_id: uuid.UUID, secret: str, stored: str
) -> bool:
    return hmac.compare_digest(delegation_digest(key, session_id, secret), stored)


# Secrets confirmed by the HSM: session id -> (stored digest, HMAC of the secret under
# _LOCAL_KEY, the primary key of the HMAC key that made the digest).
_LOCAL_KEY = secrets.token_bytes(32)


def _evict_key(
    cache: LRU[uuid.UUID, tuple[str, bytes, int]], event: Event, facts: dict[str, Any]
) -> None:
    cache.evict_if(lambda session_id, confirmed: confirmed[2] == facts["key_pk"])


_confirmed: LRU[uuid.UUID, tuple[str, bytes, int]] = registry.lru(
    "tokens.confirmed_secrets", evict=_evict_key
)


def _local_mac(secret: str) -> bytes:
    return hmac.digest(_LOCAL_KEY, secret.encode(), "sha256")


def delegation_session_matches(session: Session | None, secret: str) -> bool:
    """Whether `secret` is the delegation secret of `session` (False for no session)."""
    if session is None or session.kind != SessionKind.DELEGATION or session.secret_key_id is None:
        return False
    if delegation_secret_confirmed(session.id, session.secret_digest, secret):
        return True
    key = key_by_pk_cached(session.secret_key_id)
    if not delegation_digest_matches(key, session.id, secret, session.secret_digest):
        return False
    _confirmed.put(session.id, (session.secret_digest, _local_mac(secret), session.secret_key_id))
    return True


def delegation_secret_confirmed(session_id: uuid.UUID, secret_digest: str, secret: str) -> bool:
    """Whether the HSM confirmed `secret` for this session (and digest) in this process before:
    a local check only (False says nothing; `delegation_session_matches` asks the HSM)."""
    confirmed = _confirmed.get(session_id)
    return (
        confirmed is not None
        and hmac.compare_digest(confirmed[0], secret_digest)
        and hmac.compare_digest(confirmed[1], _local_mac(secret))
    )
