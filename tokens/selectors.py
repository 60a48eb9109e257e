"""Owner-scoped reads of sessions."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from authority.conf import authority_settings
from authority.errors import InvalidInput
from authority.models import AuditEvent
from authority.principals import Principal
from authority.selectors import get_by_uuid
from authority.services.audit import AuditAction
from hsm.rotation import CACHE_MARGIN
from tokens.models import (
    BearerGrant,
    RenewalSchedule,
    Session,
    SessionQuerySet,
    SessionState,
    session_state_q,
)

# What the console calls "expiring soon": active, and ending within this much unless renewed.
EXPIRING_SOON = dt.timedelta(hours=24)
TRADE_ACTION = AuditAction.SESSION_TRADE  # tokens.services.trade's audit row, one per trade


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
        sessions = session_filter_renewer(sessions, renewer)
    if container is not None:
        sessions = sessions.filter(container_cid=container)
    return sessions


def session_filter_renewer(sessions: SessionQuerySet, renewer: str) -> SessionQuerySet:
    """The sessions whose renewer is `user:<username>` or `app:<client_id>`."""
    kind, _, name = renewer.partition(":")
    if kind == "user":
        return sessions.filter(renewer_user__username=name)
    if kind == "app":
        return sessions.filter(renewer_application__client_id=name)
    raise InvalidInput("user:<username> or app:<client_id>.", field="renewer")


def session_expiring_soon(sessions: SessionQuerySet, now: dt.datetime) -> SessionQuerySet:
    """Active sessions that end within EXPIRING_SOON unless they are renewed."""
    return sessions.active(now).filter(expires_at__lte=now + EXPIRING_SOON)


def session_cancelled_today_q(now: dt.datetime) -> Q:
    """Cancelled since midnight UTC (the console's "cancelled today")."""
    midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return session_state_q(SessionState.CANCELLED, now) & Q(cancelled_at__gte=midnight)


def session_figures_by_owner(
    *, principal: Principal, now: dt.datetime
) -> dict[int, dict[str, int]]:
    """Per visible owner with any: sessions live, live but expiring within EXPIRING_SOON, and
    cancelled since midnight UTC — one grouped query over the live and today's cancelled rows."""
    live = session_state_q(SessionState.ACTIVE, now)
    cancelled_today = session_cancelled_today_q(now)
    rows = (
        Session.objects.visible_to(principal)
        .filter(live | cancelled_today)
        .order_by()
        .values("owner_id")
        .annotate(
            live=Count("pk", filter=live),
            expiring=Count("pk", filter=live & Q(expires_at__lte=now + EXPIRING_SOON)),
            cancelled_today=Count("pk", filter=cancelled_today),
        )
    )
    return {
        row["owner_id"]: {
            "live": row["live"],
            "expiring": row["expiring"],
            "cancelled_today": row["cancelled_today"],
        }
        for row in rows
    }


def bearer_grant_live(grants: QuerySet[BearerGrant], epoch: int) -> QuerySet[BearerGrant]:
    """Grants not revoked whose lifetime has not ended (a token is valid through its `exp`
    epoch, tokens.wire.lifetime)."""
    return grants.filter(revoked_at__isnull=True, exp__gte=epoch)


def bearer_grant_live_by_owner(*, principal: Principal, epoch: int) -> dict[int, int]:
    grants = bearer_grant_live(BearerGrant.objects.visible_to(principal), epoch)
    rows = grants.order_by().values("owner_id").annotate(live=Count("pk"))
    return {row["owner_id"]: row["live"] for row in rows}


def renewal_schedule_failing(schedules: QuerySet[RenewalSchedule]) -> QuerySet[RenewalSchedule]:
    """Schedules still running whose last run failed (`failures` counts failed runs in a row)."""
    return schedules.filter(active=True, failures__gt=0)


def renewal_schedule_failing_by_owner(*, principal: Principal) -> dict[int, int]:
    schedules = renewal_schedule_failing(RenewalSchedule.objects.visible_to(principal))
    rows = schedules.order_by().values("session__owner_id").annotate(failing=Count("pk"))
    return {row["session__owner_id"]: row["failing"] for row in rows}


def trades_per_minute(
    *, principal: Principal, now: dt.datetime, minutes: int = 60
) -> list[tuple[dt.datetime, int]]:
    """Trades of the visible owners in each of the last `minutes` whole minutes, oldest first
    (from the trade's audit rows: one grouped query, zero-filled here)."""
    end = now.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    start = end - dt.timedelta(minutes=minutes)
    rows = (
        AuditEvent.objects.visible_to(principal)
        .filter(action=TRADE_ACTION, created_at__gte=start, created_at__lt=end)
        .annotate(minute=TruncMinute("created_at", tzinfo=dt.UTC))
        .order_by()
        .values("minute")
        .annotate(trades=Count("pk"))
    )
    counted = {row["minute"]: row["trades"] for row in rows}
    moments = (start + dt.timedelta(minutes=i) for i in range(minutes))
    return [(moment, counted.get(moment, 0)) for moment in moments]


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
