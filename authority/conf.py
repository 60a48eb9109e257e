"""One settings object for the authority's options (`settings.AUTHORITY`), like api_settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    "EPOCH_DURATION": 240,
    "EPOCH_ORIGIN": "2024-01-01T00:00:00+00:00",
    "ACCESS_TOKEN_TTL": 15 * 60,
    "SESSION_RENEW_PERIOD": 24 * 3600,
    "SESSION_MAX_LIFETIME": 7 * 24 * 3600,
    "AUDIT_KEY": "",
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
    # Client sessions (flow 8): a client token dies after this many idle seconds, and every
    # token of a login after its absolute lifetime; failed logins allowed per user and address.
    "CLIENT_TOKEN_IDLE_TIMEOUT": 30 * 60,
    "CLIENT_TOKEN_MAX_AGE": 12 * 3600,
    "LOGIN_THROTTLE": "10/minute",
}


class AuthoritySettings:
    """Attribute access to `settings.AUTHORITY` over DEFAULTS, cached until the setting changes."""

    def __getattr__(self, name: str) -> Any:
        if name == "epoch_origin":
            origin = dt.datetime.fromisoformat(self.EPOCH_ORIGIN)
            value: Any = origin if origin.tzinfo else origin.replace(tzinfo=dt.UTC)
        elif name in DEFAULTS:
            value = getattr(settings, "AUTHORITY", {}).get(name, DEFAULTS[name])
        else:
            raise AttributeError(f"Invalid authority setting: {name!r}")
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        self.__dict__.clear()


authority_settings = AuthoritySettings()


@receiver(setting_changed)
def _reload_authority_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "AUTHORITY":
        authority_settings.reload()
