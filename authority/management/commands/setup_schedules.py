"""Creates the default Celery beat schedules (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from authority.services.schedules import schedules_setup


class Command(BaseCommand):
    help = "Create the default periodic tasks (audit sealing, expiry sweep) if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        created = schedules_setup()
        self.stdout.write(f"Created: {', '.join(created)}" if created else "Schedules exist.")
