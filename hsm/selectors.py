"""Reads of key records."""

from __future__ import annotations

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
