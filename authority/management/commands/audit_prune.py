"""Archives and removes audit rows past the retention period, keeping the chains verifiable."""

from typing import Any

from django.core.management.base import BaseCommand

from authority.services.audit import audit_prune


class Command(BaseCommand):
    help = "Prune audit rows older than AUDIT_RETENTION_DAYS (archived to var/audit-archive)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Pruned {audit_prune()} audit row(s).")
