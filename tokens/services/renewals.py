"""Renewal schedules: renew a session on its renewer's behalf at ~90% of each period.

Due schedules are taken in bounded batches with SKIP LOCKED, so beat may start the task while a
previous run is still working. A renewal that the session's state refuses (cancelled, expired, at
its maximum lifetime) stops the schedule; any other failure (HSM or database trouble) is retried
with exponential backoff and shown in the admin.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from authority.errors import AuthorityError, Conflict, InvalidInput, NotAllowed
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from tokens.models import RenewalSchedule, Session
from tokens.services.sessions import (
    is_renewer,
    renew_period,
    require_renewer_or_admin,
    session_renew,
)

RENEW_AT = 0.9
BATCH_SIZE = 500
MAX_BACKOFF = 3600


def _renewer(session: Session) -> Principal:
    return Principal(user=session.renewer_user, application=session.renewer_application)


def require_renewer(actor: Principal, session: Session) -> None:
    """A schedule renews as the renewer, so only the renewer may set one going: anyone else
    (an owner admin included, who may cancel but not renew) would renew through it. 404 for a
    stranger, else 403."""
    if not is_renewer(actor, session):
        require_renewer_or_admin(actor, session)  # a stranger's 404 (and a non-admin's 403)
        raise NotAllowed("Only the session's renewer may schedule its renewals.")


@transaction.atomic
def renewal_schedule_create(
    *, actor: Principal, session: Session, stop_at: dt.datetime | None = None
) -> RenewalSchedule:
    """Only the renewer schedules renewals of its session."""
    require_renewer(actor, session)
    if session.renewer_user_id is None and session.renewer_application_id is None:
        raise Conflict("The session has no renewer left to renew on behalf of.")
    now = timezone.now()
    if stop_at is not None and stop_at <= now:
        raise InvalidInput("The stop time is in the past.", field="stop_at")
    period = renew_period(session.owner)
    schedule, _ = RenewalSchedule.objects.update_or_create(
        session=session,
        defaults={
            "period": period,
            "stop_at": stop_at,
            "active": True,
            "failures": 0,
            "next_run_at": now + dt.timedelta(seconds=period * RENEW_AT),
        },
    )
    audit_record(
        actor=actor, owner=session.owner, action=AuditAction.RENEWAL_SCHEDULE_SET,
        object_type="session", object_id=str(session.id),
        detail={"period": period, "stop_at": stop_at},
    )  # fmt: skip
    return schedule


def renewal_schedules_run(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
    only: list[int] | None = None,
) -> int:  # fmt: skip
    """Runs every due schedule (of `only`, when given: primary keys) once; returns how many
    ran."""
    ran = 0
    schedules = (
        RenewalSchedule.objects.all()
        if only is None
        else RenewalSchedule.objects.filter(pk__in=only)
    )
    while True:
        with transaction.atomic():
            due = list(
                schedules.select_for_update(skip_locked=True, of=("self",))
                .select_related(
                    "session__owner", "session__renewer_user", "session__renewer_application"
                )
                .filter(active=True, next_run_at__lte=now or timezone.now())
                .order_by("next_run_at")[:batch_size]
            )
            for schedule in due:
                _run_one(schedule, now or timezone.now())
            ran += len(due)
        if len(due) < batch_size:
            return ran


def _run_one(schedule: RenewalSchedule, now: dt.datetime) -> None:
    schedule.last_run_at = now
    if schedule.stop_at is not None and now >= schedule.stop_at:
        schedule.active, schedule.last_outcome = False, "stopped: stop time reached"
    else:
        try:
            with transaction.atomic():
                session = session_renew(actor=_renewer(schedule.session), session=schedule.session)
        except (Conflict, NotAllowed) as exc:
            schedule.active, schedule.last_outcome = False, f"stopped: {exc.detail}"
        except AuthorityError as exc:  # HSM or other trouble: try again later
            schedule.failures += 1
            backoff = min(30 * 2 ** (schedule.failures - 1), MAX_BACKOFF)
            schedule.next_run_at = now + dt.timedelta(seconds=backoff)
            schedule.last_outcome = f"failed ({schedule.failures}): {exc.detail}"
        else:
            schedule.failures = 0
            schedule.last_outcome = f"renewed until {session.expires_at.isoformat()}"
            schedule.next_run_at = now + dt.timedelta(seconds=schedule.period * RENEW_AT)
    schedule.save(
        update_fields=["last_run_at", "active", "last_outcome", "failures", "next_run_at"]
    )


@transaction.atomic
def renewal_schedule_update(
    *, actor: Principal, schedule: RenewalSchedule, stop_at: dt.datetime | None, active: bool
) -> RenewalSchedule:
    """Changes when a schedule stops, or pauses/resumes it. An owner admin may pause it (as it
    may cancel the session); only the renewer may keep it renewing."""
    session = schedule.session
    if active:
        require_renewer(actor, session)
    else:
        require_renewer_or_admin(actor, session)
    if active and stop_at is not None and stop_at <= timezone.now():
        raise InvalidInput("The stop time is in the past.", field="stop_at")
    schedule.stop_at, schedule.active = stop_at, active
    schedule.save(update_fields=["stop_at", "active"])
    audit_record(
        actor=actor, owner=session.owner, action=AuditAction.RENEWAL_SCHEDULE_SET,
        object_type="session", object_id=str(session.id),
        detail={"stop_at": stop_at, "active": active},
    )  # fmt: skip
    return schedule


def renewal_schedules_run_now(*, actor: Principal, schedules: list[RenewalSchedule]) -> int:
    """Runs these active schedules at once, each only if the actor is its session's renewer
    (a run renews); returns how many ran."""
    now = timezone.now()
    chosen = []
    with transaction.atomic():
        for schedule in schedules:
            session = schedule.session
            require_renewer(actor, session)
            chosen.append(schedule.pk)
            audit_record(
                actor=actor, owner=session.owner, action=AuditAction.RENEWAL_SCHEDULE_RUN_NOW,
                object_type="session", object_id=str(session.id),
            )  # fmt: skip
        RenewalSchedule.objects.filter(pk__in=chosen, active=True).update(next_run_at=now)
    return renewal_schedules_run(now=now, only=chosen)
