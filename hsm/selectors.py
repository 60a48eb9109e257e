"""Reads of key records."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from authority.caches import Event, registry
from authority.lru import LRU
from authority.models import Owner
from authority.principals import Principal
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


_active_cache: LRU[tuple[str, int | None], KeyRecord] = registry.lru("hsm.active_keys")


def key_active_cached(*, purpose: KeyPurpose, owner: Owner | None = None) -> KeyRecord:
    """The active key, from a per-process cache (authority.caches: rotation and destruction evict
    it here at once, other processes within KEY_TTL): the hot paths (trade, introspect) then
    spend no query on it. Until another process sees a rotation, the retired key, which still
    verifies, goes on signing there."""
    cache_key = (str(purpose), owner.pk if owner else None)
    key = _active_cache.get(cache_key)
    if key is None:
        key = key_active_get(purpose=purpose, owner=owner)
        _active_cache.put(cache_key, key)
    return key


def _evict_by_pk(cache: LRU[int, KeyRecord], event: Event, facts: dict[str, Any]) -> None:
    cache.pop(facts["key_pk"])


_by_pk: LRU[int, KeyRecord] = registry.lru("hsm.keys_by_pk", evict=_evict_by_pk)


def key_by_pk_cached(pk: int) -> KeyRecord:
    """A key record by primary key, cached per process (its CKA_ID never changes; a destroyed key
    is evicted, and fails in the key store itself)."""
    key = _by_pk.get(pk)
    if key is None:
        key = KeyRecord.objects.get(pk=pk)
        _by_pk.put(pk, key)
    return key


def key_counts(*, principal: Principal) -> list[dict[str, Any]]:
    """How many visible key records there are of each purpose in each state (one grouped
    query): `[{"purpose", "state", "keys"}, …]`, ordered by purpose then state."""
    rows = (
        KeyRecord.objects.visible_to(principal)
        .order_by("purpose", "state")
        .values("purpose", "state")
        .annotate(keys=Count("pk"))
    )
    return [dict(row) for row in rows]
