"""Resets the token's normal-user PIN as the security officer (C_InitPIN in a CKS_RW_SO_FUNCTIONS
session). Officer work happens only in management commands, never in the serving processes."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pkcs11 import exceptions as p11

from authority.conf import authority_settings
from hsm.conf import PKCS11_KEYSTORE, hsm_config
from hsm.keystore.pkcs11 import pkcs11_library


class Command(BaseCommand):
    help = "Set a new user PIN with the officer PIN (HSM_SO_PIN_FILE); writes it to HSM_PIN_FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-pin-file", help="Read the new PIN from this file (else random).")

    def handle(self, *args: Any, **options: Any) -> None:
        config = hsm_config()
        if config.keystore != PKCS11_KEYSTORE:
            raise CommandError("The key store is not PKCS#11 (HSM_BACKEND): there is no token PIN.")
        so_pin_file = Path(config.so_pin_file)
        if not so_pin_file.exists():
            raise CommandError(f"No officer PIN file at {so_pin_file}.")
        new_pin = (
            Path(options["new_pin_file"]).read_text().strip()
            if options["new_pin_file"]
            else secrets.token_hex(16)
        )
        try:
            token = pkcs11_library(config.module).get_token(token_label=config.token_label)
            with token.open(rw=True, so_pin=so_pin_file.read_text().strip()) as session:
                session.init_pin(new_pin)
        except p11.NoSuchToken:
            raise CommandError(f"No token labelled {config.token_label!r}.") from None
        except (p11.PinIncorrect, p11.PinInvalid):
            raise CommandError("The HSM rejected the officer PIN.") from None
        except p11.PKCS11Error as exc:
            raise CommandError(f"HSM error: {type(exc).__name__}") from None
        pin_file = Path(authority_settings.HSM_PIN_FILE)
        if authority_settings.HSM_PIN:
            self.stdout.write("User PIN reset. HSM_PIN is set in the environment: update it.")
            return
        pin_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pin_file.write_text(new_pin)
        pin_file.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"User PIN reset; the new PIN is in {pin_file}."))
