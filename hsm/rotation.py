"""Scheduled key rotation: new active keys by purpose on a period, and retired keys destroyed once
nothing they signed or keyed can still be presented."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from authority.conf import authority_settings
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_destroy, key_rotate

# Other processes may sign with a retired key until their 30 s key cache refreshes.
CACHE_MARGIN = dt.timedelta(seconds=60)


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
    from tokens.models import Session

    destroyed = []
    access_ttl = dt.timedelta(seconds=authority_settings.ACCESS_TOKEN_TTL)
    spent_access = KeyRecord.objects.filter(
        purpose=KeyPurpose.ACCESS_TOKEN_SIGNING,
        state=KeyState.RETIRED,
        retired_at__lte=now - access_ttl - CACHE_MARGIN,
    )
    # A delegation secret stays checkable while any session keyed by it may still trade.
    live = Session.objects.filter(
        Q(cancelled_at__isnull=True), max_expires_at__gt=now, secret_key_id__isnull=False
    ).values("secret_key_id")
    spent_hmac = KeyRecord.objects.filter(
        purpose=KeyPurpose.DELEGATION_HMAC,
        state=KeyState.RETIRED,
        retired_at__lte=now - CACHE_MARGIN,
    ).exclude(pk__in=live)
    # Every client token of a login is MACed under the login's key (tokens.services.
    # client_sessions), and no login outlives CLIENT_TOKEN_MAX_AGE.
    spent_client = KeyRecord.objects.filter(
        purpose=KeyPurpose.CLIENT_SESSION_HMAC,
        state=KeyState.RETIRED,
        retired_at__lte=now
        - dt.timedelta(seconds=authority_settings.CLIENT_TOKEN_MAX_AGE)
        - CACHE_MARGIN,
    )
    for key in [*spent_access, *spent_hmac, *spent_client]:
        destroyed.append(key_destroy(key=key).label)
    return destroyed
