"""The fingerprint audit rows carry for a known token, to search the log for it (Vault's
audit-hash). Give the token on standard input (`-`, or no argument) rather than on the command
line, where the process list and the shell's history would keep it."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.services.audit import audit_hash


class Command(BaseCommand):
    help = "Print a token's audit fingerprint (search the audit log's token_fingerprint for it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "token", nargs="?", default="-", help="the token; '-' or nothing: read standard input"
        )
        parser.add_argument(
            "--all-keys",
            action="store_true",
            help="also under each older audit key (rows written before a rotation)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["token"]
        if token == "-":  # noqa: S105 - standard input, not a password
            token = sys.stdin.readline()
        try:
            fingerprints = audit_hash(token=token)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not options["all_keys"]:
            self.stdout.write(fingerprints[0].value)
            return
        for found in fingerprints:
            mark = "current" if found.current else "older"
            self.stdout.write(f"{found.value}  key {found.key_id} ({mark})")
