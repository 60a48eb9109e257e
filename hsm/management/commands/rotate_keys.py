"""Rotates the authority's keys that are due and destroys retired keys nothing depends on."""

from typing import Any

from django.core.management.base import BaseCommand

from hsm.rotation import keys_rotate_due


class Command(BaseCommand):
    help = "Rotate due keys; destroy spent retired keys."

    def handle(self, *args: Any, **options: Any) -> None:
        result = keys_rotate_due()
        self.stdout.write(
            f"Rotated: {result.rotated or 'none'}; destroyed: {result.destroyed or 'none'}"
        )
