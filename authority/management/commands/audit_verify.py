"""Checks every audit hash chain; exits non-zero when a row was edited, deleted or moved."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authority.services.audit import audit_chain_verify, audit_unsealed_count


class Command(BaseCommand):
    help = "Verify the audit log's hash chains."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = audit_chain_verify()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} audit chain problem(s) found")
        self.stdout.write(self.style.SUCCESS("Every audit chain verifies."))
        unsealed = audit_unsealed_count()
        if unsealed:
            self.stdout.write(f"{unsealed} row(s) not yet sealed (their contents verify).")
