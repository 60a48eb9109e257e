"""The key store's configuration in force (SPEC §7), resolved from the `HSM_*` options of
authority.conf.authority_settings (environment: HSM_BACKEND, HSM_MODULE, HSM_TOKEN_LABEL,
HSM_PIN(_FILE), HSM_SO_PIN_FILE, HSM_SOFTWARE_KEY; SOFTHSM2_CONF for SoftHSM2)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from authority.conf import authority_settings

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PKCS11_KEYSTORE = "hsm.keystore.pkcs11.PKCS11KeyStore"
SOFTWARE_KEYSTORE = "hsm.keystore.software.SoftwareKeyStore"
# HSM_BACKEND's names for the two key stores of this package.
KEYSTORE_NAMES = {"pkcs11": PKCS11_KEYSTORE, "software": SOFTWARE_KEYSTORE}


@dataclass(frozen=True)
class HSMConfig:
    keystore: str  # import path of the key store class
    module: str
    token_label: str
    pin: str
    so_pin_file: str
    software_key: str


def _read_secret(value: str, file: str) -> str:
    if value:
        return value
    if file and Path(file).exists():
        return Path(file).read_text().strip()
    return ""


def hsm_config() -> HSMConfig:
    """The configuration in force; the software store only when asked or when no module exists
    in development (never silently in production)."""
    options = authority_settings
    module = options.HSM_MODULE or (SOFTHSM_MODULE if Path(SOFTHSM_MODULE).exists() else "")
    keystore = options.HSM_KEYSTORE
    if not keystore:
        if module:
            keystore = PKCS11_KEYSTORE
        elif options.PRODUCTION:
            raise ImproperlyConfigured("No PKCS#11 module: set HSM_MODULE, or HSM_BACKEND=software")
        else:
            keystore = SOFTWARE_KEYSTORE
    return HSMConfig(
        keystore=KEYSTORE_NAMES.get(keystore, keystore),
        module=module,
        token_label=options.HSM_TOKEN_LABEL,
        pin=_read_secret(options.HSM_PIN, options.HSM_PIN_FILE),
        so_pin_file=options.HSM_SO_PIN_FILE,
        software_key=options.HSM_SOFTWARE_KEY,
    )


def softhsm_conf() -> Path:
    """SoftHSM2's configuration file: SOFTHSM2_CONF when the environment sets it, else the
    project's own under VAR_DIR/softhsm (made by `manage.py hsm_init`), never the system's."""
    return Path(
        os.environ.get("SOFTHSM2_CONF") or authority_settings.VAR_DIR / "softhsm" / "softhsm2.conf"
    )
