"""The default Celery beat schedules, kept in the database (django-celery-beat) so that the
admin can edit them; `setup_schedules` creates the missing ones and leaves edited ones alone."""

from __future__ import annotations

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

DEFAULT_SCHEDULES = {
    "Seal the audit log": ("authority.seal_audit_log", 10),
    "Sweep expired sessions": ("tokens.sweep_expired_sessions", 60),
    "Run renewal schedules": ("tokens.run_renewal_schedules", 30),
    "Rotate keys": ("hsm.rotate_keys", 3600),
    "Prune the audit log": ("authority.prune_audit_log", 86400),
}


@transaction.atomic
def schedules_setup() -> list[str]:
    """Creates the default periodic tasks that do not exist yet; returns their names."""
    created = []
    for name, (task, seconds) in DEFAULT_SCHEDULES.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        _, made = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval}
        )
        if made:
            created.append(name)
    return created
