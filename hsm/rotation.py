"""Scheduled key rotation: new active keys by purpose on a period, and retired keys destroyed once
nothing they signed or keyed can still be presented.

What may still be presented is the business of the app that uses a purpose's keys, above this
one: it registers, in its AppConfig.ready(), which retired keys it still needs
(`key_retention_register`; tokens.apps does for access-token and delegation keys). Rotation
destroys retired keys of registered purposes only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from authority.caches import KEY_TTL
from authority.conf import authority_settings
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_destroy, key_rotate

# Other processes may sign with a retired key until their key cache lets it go (KEY_TTL), and
# twice that leaves room for a process that read the key just before the rotation.
CACHE_MARGIN = dt.timedelta(seconds=2 * KEY_TTL)

# By purpose: at a moment, the condition on KeyRecord of retired keys still needed.
_retention: dict[KeyPurpose, Callable[[dt.datetime], Q]] = {}


def key_retention_register(purpose: KeyPurpose, still_needed: Callable[[dt.datetime], Q]) -> None:
    _retention[purpose] = still_needed


@dataclass(frozen=True)
class RotationResult:
    rotated: list[str]
    destroyed: list[str]


def keys_rotate_due(*, now: dt.datetime | None = None) -> RotationResult:
    now = now or timezone.now()
    rotated = []
    for purpose, seconds in authority_settings.KEY_ROTATION.items():
        due = KeyRecord.objects.filter(
            purpose=purpose, owner=None, state=KeyState.ACTIVE,
            created_at__lte=now - dt.timedelta(seconds=seconds),
        )  # fmt: skip
        if due.exists():
            rotated.append(key_rotate(purpose=KeyPurpose(purpose)).label)
    return RotationResult(rotated, _destroy_spent(now))


def _destroy_spent(now: dt.datetime) -> list[str]:
    destroyed = []
    for purpose, still_needed in list(_retention.items()):
        spent = KeyRecord.objects.filter(
            purpose=purpose, state=KeyState.RETIRED, retired_at__lte=now - CACHE_MARGIN
        ).exclude(still_needed(now))
        for key in spent:
            destroyed.append(key_destroy(key=key).label)
    return destroyed
