"""Creates the project's SoftHSM2 token under var/ (idempotent): config, token, user and officer
PINs in 0600 files. Security-officer work (token initialisation) happens only here."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authority.conf import authority_settings
from authority.private_files import private_directory, private_file
from hsm.conf import PKCS11_KEYSTORE, hsm_config, softhsm_conf


def _write_secret(path: Path, value: str) -> None:
    private_file(path).write_text(value)  # 0600 before the secret is in it


class Command(BaseCommand):
    help = "Initialise the project's SoftHSM2 token under var/softhsm (skipped if it exists)."

    def handle(self, *args: Any, **options: Any) -> None:
        config = hsm_config()
        if config.keystore != PKCS11_KEYSTORE:
            self.stdout.write("The key store is not PKCS#11 (HSM_BACKEND): nothing to initialise.")
            return
        util = shutil.which("softhsm2-util")
        if util is None:
            raise CommandError("softhsm2-util not found: install Debian's softhsm2 package.")
        conf = softhsm_conf()
        tokens = conf.parent / "tokens"
        # softhsm2-util finds the token directory through SOFTHSM2_CONF, as the module does.
        environment = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        if not conf.exists():
            private_directory(tokens)
            conf.write_text(
                f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
            )
        listing = subprocess.run(  # noqa: S603 - fixed tool, no shell
            [util, "--show-slots"], capture_output=True, text=True, check=False, env=environment
        ).stdout
        if f"Label:            {config.token_label}" in listing:
            self.stdout.write(f"Token {config.token_label!r} exists.")
            return
        user_pin = config.pin or secrets.token_hex(16)
        so_pin = secrets.token_hex(16)
        if not config.pin:
            _write_secret(Path(authority_settings.HSM_PIN_FILE), user_pin)
        _write_secret(Path(config.so_pin_file), so_pin)
        result = subprocess.run(  # noqa: S603 - fixed tool, no shell; PINs never printed
            [util, "--init-token", "--free", "--label", config.token_label,
             "--pin", user_pin, "--so-pin", so_pin],
            capture_output=True, text=True, check=False, env=environment,
        )  # fmt: skip
        if result.returncode != 0:
            raise CommandError(f"softhsm2-util failed: {result.stderr.strip()}")
        self.stdout.write(
            self.style.SUCCESS(f"Token {config.token_label!r} initialised in {tokens}.")
        )
