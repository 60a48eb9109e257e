"""Key stores: where private keys live and are used. `pkcs11` is the HSM; `software` is the
clearly labelled fallback for machines without a PKCS#11 module."""

from __future__ import annotations

import threading
from typing import Protocol

from hsm.conf import hsm_config


class KeyStore(Protocol):
    """Operations on keys named by their CKA_ID; no private or secret key material comes out."""

    hardware_backed: bool

    def generate_ec(self, *, key_id: bytes, label: str) -> tuple[bytes, bytes]:
        """A new P-256 key pair; returns (33-byte compressed public key, stored material)."""
        ...

    def generate_hmac(self, *, key_id: bytes, label: str) -> bytes:
        """A new 256-bit HMAC key; returns stored material (empty for the HSM)."""
        ...

    def sign_digest(self, *, key_id: bytes, material: bytes, digest: bytes) -> bytes:
        """ECDSA over a prepared digest; returns raw `r ‖ s` (64 bytes)."""
        ...

    def hmac(self, *, key_id: bytes, material: bytes, data: bytes) -> bytes: ...

    def destroy(self, *, key_id: bytes) -> None: ...

    def status(self) -> dict[str, object]: ...


_store: KeyStore | None = None
_store_lock = threading.Lock()


def keystore() -> KeyStore:
    """The process's key store, made on first use (never at import: forked workers make their own
    PKCS#11 sessions, see hsm.keystore.pkcs11)."""
    global _store
    with _store_lock:
        if _store is None:
            config = hsm_config()
            if config.backend == "pkcs11":
                from hsm.keystore.pkcs11 import PKCS11KeyStore

                _store = PKCS11KeyStore(config)
            else:
                from hsm.keystore.software import SoftwareKeyStore

                _store = SoftwareKeyStore(config)
        return _store


def reset_keystore() -> None:
    """Forget the store (tests, and after configuration changes)."""
    global _store
    with _store_lock:
        if _store is not None and hasattr(_store, "close"):
            _store.close()
        _store = None
