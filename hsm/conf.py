"""Key-store configuration (SPEC §7): HSM_BACKEND, HSM_MODULE, HSM_TOKEN_LABEL, HSM_PIN(_FILE),
HSM_SO_PIN_FILE, HSM_SOFTWARE_KEY. Read from Django settings, which read the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@dataclass(frozen=True)
class HSMConfig:
    backend: str  # "pkcs11" or "software"
    module: str
    token_label: str
    pin: str
    so_pin_file: str
    software_key: str

    @property
    def hardware_backed(self) -> bool:
        return self.backend == "pkcs11"


def _read_secret(value: str, file: str) -> str:
    if value:
        return value
    if file and Path(file).exists():
        return Path(file).read_text().strip()
    return ""


def hsm_config() -> HSMConfig:
    """The configuration in force; the software store only when asked or when no module exists
    in development (never silently in production)."""
    options = settings.HSM
    module = options["MODULE"] or (SOFTHSM_MODULE if Path(SOFTHSM_MODULE).exists() else "")
    backend = options["BACKEND"]
    if not backend:
        if module:
            backend = "pkcs11"
        elif settings.PRODUCTION:
            raise ImproperlyConfigured("No PKCS#11 module: set HSM_MODULE, or HSM_BACKEND=software")
        else:
            backend = "software"
    if backend not in ("pkcs11", "software"):
        raise ImproperlyConfigured("HSM_BACKEND must be pkcs11 or software")
    return HSMConfig(
        backend=backend,
        module=module,
        token_label=options["TOKEN_LABEL"],
        pin=_read_secret(options["PIN"], options["PIN_FILE"]),
        so_pin_file=options["SO_PIN_FILE"],
        software_key=options["SOFTWARE_KEY"],
    )
