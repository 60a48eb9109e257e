"""Seals unsealed audit rows into their owners' hash chains (Celery beat runs the same service)."""

from typing import Any

from django.core.management.base import BaseCommand

from authority.services.audit import audit_seal


class Command(BaseCommand):
    help = "Chain unsealed audit rows."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Sealed {audit_seal()} audit row(s).")
