"""Runs the expiry sweep once (the Celery task runs the same service on a schedule)."""

from typing import Any

from django.core.management.base import BaseCommand

from tokens.services.expiry import BATCH_SIZE, session_expiry_sweep


class Command(BaseCommand):
    help = "Mark expired sessions and purge expired deny-list entries, in batches."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        result = session_expiry_sweep(batch_size=options["batch_size"])
        self.stdout.write(
            f"Expired {result.sessions_expired} session(s) in {result.batches} batch(es); "
            f"purged {result.revoked_tokens_purged} deny-list entr(ies)."
        )
