"""Owner-scoped reads of sessions."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from authority.conf import authority_settings
from authority.errors import InvalidInput
from authority.principals import Principal
from authority.selectors import get_by_uuid
from hsm.rotation import CACHE_MARGIN
from tokens.models import BearerGrant, Session, SessionQuerySet, SessionState


def session_list(
    *,
    principal: Principal,
    state: str | None = None,
    renewer: str | None = None,
    container: bytes | None = None,
) -> SessionQuerySet:
    sessions = Session.objects.visible_to(principal).select_related(
        "owner", "renewer_user", "renewer_application"
    )
    if state == SessionState.ACTIVE:
        sessions = sessions.active(timezone.now())
    elif state == SessionState.EXPIRED:
        sessions = sessions.expired(timezone.now())
    elif state == SessionState.CANCELLED:
        sessions = sessions.cancelled()
    elif state:
        raise InvalidInput("One of active, expired, cancelled.", field="state")
    if renewer:
        kind, _, name = renewer.partition(":")
        if kind == "user":
            sessions = sessions.filter(renewer_user__username=name)
        elif kind == "app":
            sessions = sessions.filter(renewer_application__client_id=name)
        else:
            raise InvalidInput("user:<username> or app:<client_id>.", field="renewer")
    if container is not None:
        sessions = sessions.filter(container_cid=container)
    return sessions


def session_get(*, principal: Principal, session_id: str) -> Session:
    return get_by_uuid(session_list(principal=principal), session_id, field="pk", what="session")


def bearer_grant_list(*, principal: Principal) -> QuerySet[BearerGrant]:
    return BearerGrant.objects.visible_to(principal).select_related("owner")


def bearer_grant_get(*, principal: Principal, grant_id: str) -> BearerGrant:
    return get_by_uuid(
        bearer_grant_list(principal=principal), grant_id, field="pk", what="bearer grant"
    )


def access_token_keys_needed(now: dt.datetime) -> Q:
    """Retired access-token keys whose tokens may still be presented: signed until CACHE_MARGIN
    after the key retired (other processes), and valid for ACCESS_TOKEN_TTL (hsm.rotation)."""
    access_ttl = dt.timedelta(seconds=authority_settings.ACCESS_TOKEN_TTL)
    return Q(retired_at__gt=now - access_ttl - CACHE_MARGIN)


def client_session_keys_needed(now: dt.datetime) -> Q:
    """Retired client-session keys of logins that may still be alive: every client token of a
    login is MACed under the login's key (tokens.services.client_sessions), and no login outlives
    CLIENT_TOKEN_MAX_AGE."""
    max_age = dt.timedelta(seconds=authority_settings.CLIENT_TOKEN_MAX_AGE)
    return Q(retired_at__gt=now - max_age - CACHE_MARGIN)


def delegation_keys_needed(now: dt.datetime) -> Q:
    """Retired delegation HMAC keys of sessions that may still trade or introspect: not cancelled
    and within their maximum lifetime (hsm.rotation)."""
    return Q(
        pk__in=Session.objects.filter(
            cancelled_at__isnull=True, max_expires_at__gt=now, secret_key_id__isnull=False
        ).values("secret_key_id")
    )


def session_counts_by_owner(*, now: dt.datetime | None = None) -> dict[tuple[str, str], int]:
    """Sessions by (owner slug, state), every owner: for the metrics endpoint, which alone may see
    across owners (it answers operators, not tenants). Three grouped counts, one per state."""
    now = now or timezone.now()
    states = {
        SessionState.ACTIVE.value: Session.objects.active(now),
        SessionState.EXPIRED.value: Session.objects.expired(now),
        SessionState.CANCELLED.value: Session.objects.cancelled(),
    }
    counts: dict[tuple[str, str], int] = {}
    for state, sessions in states.items():
        for slug, count in sessions.order_by().values_list("owner__slug").annotate(n=Count("pk")):
            counts[(slug, state)] = count
    return counts
