"""The authority's settings: one object, `authority_settings`, over the `AUTHORITY` dict of the
Django settings (as DRF's `api_settings` and django-oauth-toolkit's `oauth2_settings`).

- DEFAULTS below is the one place a default is written. `authority/settings.py` puts in
  `AUTHORITY` only what the environment sets (README, configuration table); a key missing from
  `AUTHORITY` takes its default, one key at a time.
- The deployment's own options live here too: PRODUCTION (`DJANGO_ENV=production`), VAR_DIR
  (`SA_VAR_DIR`) and REDIS_URL. Django's settings (DATABASES, CACHES, CELERY_*, SECRET_KEY, …)
  stay Django settings; settings.py derives them from the same values.
- The key store's options are flat keys named `HSM_*` after their environment variables, not a
  nested dict: each falls back to its default on its own, and all read alike
  (`authority_settings.HSM_MODULE`). HSM_KEYSTORE names the key store class by import path, as
  Django names its backends ("hsm.keystore.pkcs11.PKCS11KeyStore"), or by HSM_BACKEND's short
  names `pkcs11` / `software`; None keeps the automatic choice (PKCS#11 when a module exists, the
  software store only in development). hsm.conf.hsm_config() resolves them for the key store.
- Values are read on first use and kept until `setting_changed` (override_settings,
  pytest-django's `settings`) says AUTHORITY changed. Replacing AUTHORITY replaces it whole: the
  keys left out take their defaults. The key store itself is made once per process from these
  options; hsm.keystore.reset_keystore() makes the next use read them again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from authority.caches import Event, invalidate, registry

DEFAULTS: dict[str, Any] = {
    # The deployment.
    "PRODUCTION": False,
    "VAR_DIR": Path(__file__).resolve().parent.parent / "var",  # local state, ignored by git
    "REDIS_URL": "",  # readiness checks it when set (the cache and the broker use it too)
    # Tokens and the epoch clock.
    "EPOCH_DURATION": 240,
    "EPOCH_ORIGIN": "2024-01-01T00:00:00+00:00",
    "ACCESS_TOKEN_TTL": 15 * 60,
    "SESSION_RENEW_PERIOD": 24 * 3600,
    "SESSION_MAX_LIFETIME": 7 * 24 * 3600,
    "AUDIT_KEY": "",
    "AUDIT_KEY_FALLBACKS": [],
    "ISSUER": "session-authority",
    "ACCESS_TOKEN_AUDIENCE": "neofs",
    "PROOF_WINDOW": 60,
    # Seconds between automatic rotations of the authority's own keys, by purpose. Owner signing
    # keys are not rotated automatically: an owner's NeoFS identity is derived from its key.
    "KEY_ROTATION": {
        "access_token_signing": 30 * 86400,
        "delegation_hmac": 90 * 86400,
        "client_session_hmac": 30 * 86400,
    },
    "AUDIT_RETENTION_DAYS": 365,
    # Observability (docs/operations.md). The audit stream: "" none, "stdout", or a file path.
    "AUDIT_STREAM": "",
    # Refuse state-changing API requests with 503 while no audit sink can record.
    "AUDIT_FAIL_CLOSED": False,
    # The fraction of *allowed* verify decisions recorded (denials are always recorded), and how
    # they are written: together, once this many wait or the oldest has waited this long.
    "AUDIT_VERIFY_SAMPLE": 1.0,
    "AUDIT_DECISION_BATCH": 100,
    "AUDIT_DECISION_BATCH_SECONDS": 1.0,
    # The Prometheus endpoint (/metrics): a bearer token, and/or addresses allowed without one.
    "METRICS_TOKEN": "",
    "METRICS_ALLOWED_ADDRESSES": ["127.0.0.1", "::1"],
    # Client sessions (flow 8): a client token dies after this many idle seconds, and every
    # token of a login after its absolute lifetime; failed logins allowed per user and address.
    "CLIENT_TOKEN_IDLE_TIMEOUT": 30 * 60,
    "CLIENT_TOKEN_MAX_AGE": 12 * 3600,
    "LOGIN_THROTTLE": "10/minute",
    # Failed logins allowed per client address (of any user names): looser than per user, so one
    # member's typos do not lock out the others behind the same address (a NAT'd office).
    "LOGIN_ADDRESS_THROTTLE": "100/minute",
    # Reverse proxies in front of the authority that append to X-Forwarded-For; 0: the header is
    # ignored and REMOTE_ADDR is the client (authority.request_context.client_address).
    "NUM_PROXIES": 0,
    # OAuth2 clients (django-oauth-toolkit): client secrets are HMAC-SHA256 under the highest
    # numbered pepper ({number: pepper}; empty: one derived from SECRET_KEY); refresh tokens die
    # this many seconds after their access token expires; /o/token/ throttled per client id and
    # per client address.
    "CLIENT_SECRET_PEPPERS": {},
    "OAUTH2_REFRESH_TOKEN_LIFETIME": 14 * 86400,
    "OAUTH2_TOKEN_THROTTLE": "600/minute",
    "OAUTH2_TOKEN_ADDRESS_THROTTLE": "1200/minute",
    # The key store (hsm app).
    "HSM_KEYSTORE": None,  # an import path, `pkcs11` or `software`; None: chosen automatically
    "HSM_MODULE": "",  # the PKCS#11 module; "": SoftHSM2's when it is installed
    "HSM_TOKEN_LABEL": "session-authority",
    "HSM_PIN": "",
    "HSM_PIN_FILE": None,  # None: VAR_DIR/hsm/user.pin (written by `manage.py hsm_init`)
    "HSM_SO_PIN_FILE": None,  # None: VAR_DIR/hsm/so.pin
    "HSM_SOFTWARE_KEY": "",
}

# Defaults that follow VAR_DIR, so that SA_VAR_DIR moves them along.
_UNDER_VAR_DIR = {"HSM_PIN_FILE": ("hsm", "user.pin"), "HSM_SO_PIN_FILE": ("hsm", "so.pin")}


class AuthoritySettings:
    """Attribute access to `settings.AUTHORITY` over DEFAULTS, cached until the setting changes.

    The annotations are the options' types (for mypy); DEFAULTS holds their values."""

    PRODUCTION: bool
    VAR_DIR: Path
    REDIS_URL: str
    EPOCH_DURATION: int
    EPOCH_ORIGIN: str
    ACCESS_TOKEN_TTL: int
    SESSION_RENEW_PERIOD: int
    SESSION_MAX_LIFETIME: int
    AUDIT_KEY: str
    AUDIT_KEY_FALLBACKS: list[str]
    CLIENT_TOKEN_IDLE_TIMEOUT: int
    CLIENT_TOKEN_MAX_AGE: int
    LOGIN_THROTTLE: str
    LOGIN_ADDRESS_THROTTLE: str
    NUM_PROXIES: int
    CLIENT_SECRET_PEPPERS: dict[int, str]
    OAUTH2_REFRESH_TOKEN_LIFETIME: int
    OAUTH2_TOKEN_THROTTLE: str
    OAUTH2_TOKEN_ADDRESS_THROTTLE: str
    ISSUER: str
    ACCESS_TOKEN_AUDIENCE: str
    PROOF_WINDOW: int
    KEY_ROTATION: dict[str, int]
    AUDIT_RETENTION_DAYS: int
    AUDIT_STREAM: str
    AUDIT_FAIL_CLOSED: bool
    AUDIT_VERIFY_SAMPLE: float
    AUDIT_DECISION_BATCH: int
    AUDIT_DECISION_BATCH_SECONDS: float
    METRICS_TOKEN: str
    METRICS_ALLOWED_ADDRESSES: list[str]
    HSM_KEYSTORE: str | None
    HSM_MODULE: str
    HSM_TOKEN_LABEL: str
    HSM_PIN: str
    HSM_PIN_FILE: str
    HSM_SO_PIN_FILE: str
    HSM_SOFTWARE_KEY: str
    # Derived: EPOCH_ORIGIN as an aware datetime (UTC when the string names no zone).
    epoch_origin: dt.datetime

    def __getattr__(self, name: str) -> Any:
        value: Any
        if name == "epoch_origin":
            origin = dt.datetime.fromisoformat(self.EPOCH_ORIGIN)
            value = origin if origin.tzinfo else origin.replace(tzinfo=dt.UTC)
        elif name in DEFAULTS:
            value = getattr(settings, "AUTHORITY", {}).get(name, DEFAULTS[name])
            if name == "VAR_DIR":
                value = Path(value)
            elif value is None and name in _UNDER_VAR_DIR:
                value = str(self.VAR_DIR.joinpath(*_UNDER_VAR_DIR[name]))
        else:
            raise AttributeError(f"Invalid authority setting: {name!r}")
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        self.__dict__.clear()


authority_settings = AuthoritySettings()


def _evict_settings(event: Event, facts: dict[str, Any]) -> None:
    if facts["setting"] == "AUTHORITY":
        authority_settings.reload()


registry.attach("authority.settings", clear=authority_settings.reload, evict=_evict_settings)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    invalidate(Event.SETTINGS_CHANGED, setting=setting)
