"""Checks every audit hash chain; exits non-zero when a row was edited, deleted or moved. The
result is recorded in the audit log (the console's dashboard shows the last one)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authority.principals import Principal
from authority.services.audit import audit_chain_check, audit_unsealed_count


class Command(BaseCommand):
    help = "Verify the audit log's hash chains."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = audit_chain_check(actor=Principal(system="audit_verify", internal=True))
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} audit chain problem(s) found")
        self.stdout.write(self.style.SUCCESS("Every audit chain verifies."))
        unsealed = audit_unsealed_count()
        if unsealed:
            self.stdout.write(f"{unsealed} row(s) not yet sealed (their contents verify).")
