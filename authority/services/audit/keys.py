"""The audit key ring: the key new rows are MACed and sealed under, and the keys old rows were.

Every row names the key that MACed it (`row_mac_key_id`) and, once sealed, the key that made its
chain hash (`hash_key_id`): a row written before a rotation and sealed after it names two keys.
A key id is a public label, a truncated HMAC of a fixed string under the key, from which the key
cannot be recovered. New rows are always MACed and sealed under the current key; the other keys
of the ring only verify.

The current key is AUDIT_KEY when set, else a key derived from SECRET_KEY for this purpose alone.
The ring adds the keys rotated out: AUDIT_KEY_FALLBACKS, and, while the key is derived, the keys
derived from Django's SECRET_KEY_FALLBACKS. With AUDIT_KEY set, SECRET_KEY no longer vouches for
any row, so that holding SECRET_KEY is not enough to forge one.

Token fingerprints are HMACs under the current key alone: after a rotation, finding the rows of
a token seen before it needs its fingerprint under the old key.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.conf import settings

from authority.caches import registry
from authority.conf import authority_settings

# What the rows written before key ids (migration 0003) carry: verify tries every key of the ring.
LEGACY_KEY_ID = "legacy"
_DERIVATION = b"session-authority/audit"
_KEY_ID = b"session-authority/audit-key-id"


@dataclass(frozen=True, slots=True)
class AuditKey:
    key_id: str
    secret: bytes = field(repr=False)


def audit_key() -> bytes:
    """The current key: AUDIT_KEY when set, else a key derived from SECRET_KEY for this purpose."""
    return audit_key_current().secret


def audit_key_current() -> AuditKey:
    return _current(authority_settings.AUDIT_KEY, settings.SECRET_KEY)


def audit_key_ring() -> Mapping[str, AuditKey]:
    """Every key rows may have been MACed or sealed under, by key id, the current key first."""
    return _ring(
        authority_settings.AUDIT_KEY,
        _listed(authority_settings.AUDIT_KEY_FALLBACKS),
        settings.SECRET_KEY,
        _listed(getattr(settings, "SECRET_KEY_FALLBACKS", ())),
    )


def token_fingerprint(token: str | bytes) -> str:
    """What logs and audit rows carry instead of a token or secret (under the current key)."""
    return fingerprint(audit_key(), token)


def fingerprint(key: bytes, token: str | bytes) -> str:
    raw = token.encode() if isinstance(token, str) else token
    return hmac.new(key, raw, hashlib.sha256).hexdigest()[:32]


# Keyed by the settings they derive from, so a changed setting (a rotation, a test's override)
# gives a new entry; a handful of entries covers a process's whole life.
@functools.lru_cache(maxsize=4)
def _current(configured: Any, secret_key: str) -> AuditKey:
    return _keyed(str(configured).encode() if configured else _derived(secret_key))


@functools.lru_cache(maxsize=4)
def _ring(
    configured: Any,
    configured_fallbacks: tuple[str, ...],
    secret_key: str,
    secret_key_fallbacks: tuple[str, ...],
) -> Mapping[str, AuditKey]:
    keys = [_current(configured, secret_key)]
    keys += [_keyed(fallback.encode()) for fallback in configured_fallbacks]
    if not configured:
        keys += [_keyed(_derived(fallback)) for fallback in secret_key_fallbacks]
    ring: dict[str, AuditKey] = {}
    for key in keys:
        ring.setdefault(key.key_id, key)
    return MappingProxyType(ring)


def _derived(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _DERIVATION, hashlib.sha256).digest()


def _keyed(secret: bytes) -> AuditKey:
    return AuditKey(hmac.new(secret, _KEY_ID, hashlib.sha256).hexdigest()[:16], secret)


def _listed(keys: str | Iterable[str]) -> tuple[str, ...]:
    """A fallback list as settings give it: a list, or one comma-separated string."""
    items = keys.split(",") if isinstance(keys, str) else keys
    return tuple(str(item) for item in items if item)


registry.attach("authority.audit_key", clear=_current.cache_clear)
registry.attach("authority.audit_key_ring", clear=_ring.cache_clear)
