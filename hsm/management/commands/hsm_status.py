"""Prints the key store's status: module, token, mechanisms, this process's sessions."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hsm.errors import HSMUnavailable
from hsm.keystore import keystore


class Command(BaseCommand):
    help = "Show the HSM (or software key store) status."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = keystore().status()
        except HSMUnavailable as exc:
            raise CommandError(f"HSM unavailable: {exc.detail}") from None
        if not status["hardware_backed"]:
            self.stderr.write("WARNING: the software key store is not hardware-backed.")
        self.stdout.write(json.dumps(status, indent=2, default=str))
