"""Searching the audit log for a known token (as Vault's `sys/audit-hash`): the fingerprint a row
would carry for it, under the current audit key and, for rows written before a rotation, under
each older key of the ring. The one function behind `manage.py audit_hash` and the admin form."""

from __future__ import annotations

from dataclasses import dataclass

from authority.services.audit.keys import audit_key_current, audit_key_ring, fingerprint

LONGEST_TOKEN = 16384  # bytes: longer than any token the authority issues or accepts


@dataclass(frozen=True)
class Fingerprint:
    key_id: str
    current: bool
    value: str


def audit_hash(*, token: str) -> list[Fingerprint]:
    """The token's fingerprint under every key of the ring, the current key first."""
    token = token.strip()
    if not token or len(token.encode()) > LONGEST_TOKEN:
        raise ValueError(f"A token is 1 to {LONGEST_TOKEN} bytes.")
    current = audit_key_current()
    ring = [current, *(key for key in audit_key_ring().values() if key.key_id != current.key_id)]
    return [Fingerprint(key.key_id, key is current, fingerprint(key.secret, token)) for key in ring]
