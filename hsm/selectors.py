"""Reads of key records."""

from __future__ import annotations

import time

from django.db.models import QuerySet

from authority.models import Owner
from hsm.errors import KeyUnusable
from hsm.models import KeyPurpose, KeyRecord, KeyState


def key_active_get(*, purpose: KeyPurpose, owner: Owner | None = None) -> KeyRecord:
    """The key that signs now for this purpose (and owner)."""
    key = (
        KeyRecord.objects.filter(purpose=purpose, owner=owner, state=KeyState.ACTIVE)
        .order_by("-created_at")
        .first()
    )
    if key is None:
        raise KeyUnusable(f"No active {purpose} key.")
    return key


def key_verifying_list(*, purpose: KeyPurpose, owner: Owner | None = None) -> QuerySet[KeyRecord]:
    """Keys whose signatures still verify: the active one and the retired ones."""
    return KeyRecord.objects.filter(
        purpose=purpose, owner=owner, state__in=[KeyState.ACTIVE, KeyState.RETIRED]
    )


_ACTIVE_CACHE_SECONDS = 30.0
_active_cache: dict[tuple[str, int | None], tuple[float, KeyRecord]] = {}


def key_active_cached(*, purpose: KeyPurpose, owner: Owner | None = None) -> KeyRecord:
    """The active key, from a per-process cache refreshed every 30 s: the hot paths (trade,
    introspect) then spend no query on it. A rotation is seen within 30 s; until then the retired
    key, which still verifies, goes on signing."""

    cache_key = (str(purpose), owner.pk if owner else None)
    cached = _active_cache.get(cache_key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _ACTIVE_CACHE_SECONDS:
        return cached[1]
    key = key_active_get(purpose=purpose, owner=owner)
    _active_cache[cache_key] = (now, key)
    return key


def key_active_cache_clear() -> None:
    """After a key is made or rotated (records by primary key never change, and stay)."""
    _active_cache.clear()


def key_cache_clear() -> None:
    """Everything (tests roll their database back)."""
    _active_cache.clear()
    _by_pk.clear()


_by_pk: dict[int, KeyRecord] = {}


def key_by_pk_cached(pk: int) -> KeyRecord:
    """A key record by primary key, cached per process (its CKA_ID and material never change;
    a destroyed key fails in the key store itself)."""
    key = _by_pk.get(pk)
    if key is None:
        key = _by_pk[pk] = KeyRecord.objects.get(pk=pk)
    return key
