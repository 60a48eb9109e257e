"""Errors of the key store. The API turns HSMUnavailable into 503 with Retry-After."""

from __future__ import annotations

from authority.errors import Conflict, Unavailable


class HSMUnavailable(Unavailable):
    """The HSM cannot be used now: module missing, token missing, wrong PIN, device gone."""

    code = "hsm_unavailable"
    retry_after = 10


class KeyUnusable(Conflict):
    """The key exists in the records but cannot sign: destroyed, or gone from the token."""

    code = "key_unusable"


class ActiveKeyExists(Conflict):
    """An authority key was asked for while one of its purpose is active (only rotation replaces
    it)."""

    code = "active_key_exists"
