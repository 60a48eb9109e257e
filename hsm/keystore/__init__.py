"""Key stores: where private keys live and are used. `pkcs11` is the HSM; `software` is the
clearly labelled fallback for machines without a PKCS#11 module."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from authority.metrics import hsm_timed
from hsm.conf import HSMConfig, hsm_config


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

    def close(self) -> None:
        """Releases what the store holds in this process (its PKCS#11 sessions)."""
        ...


class KeyStoreClass(Protocol):
    """A key store class: made from the configuration in force (HSM_KEYSTORE names it)."""

    def __call__(self, config: HSMConfig) -> KeyStore: ...


def keystore_class(config: HSMConfig) -> KeyStoreClass:
    try:
        found: KeyStoreClass = import_string(config.keystore)
    except ImportError:
        raise ImproperlyConfigured(
            f"HSM_BACKEND must be pkcs11, software or the import path of a key store class, "
            f"not {config.keystore!r}"
        ) from None
    return found


class Instrumented:
    """A key store whose operations are timed and counted (authority.metrics): latency
    histograms and errors by operation. Anything else goes to the store as it is."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.hardware_backed = store.hardware_backed

    def generate_ec(self, *, key_id: bytes, label: str) -> tuple[bytes, bytes]:
        with hsm_timed("generate_ec"):
            return self.store.generate_ec(key_id=key_id, label=label)

    def generate_hmac(self, *, key_id: bytes, label: str) -> bytes:
        with hsm_timed("generate_hmac"):
            return self.store.generate_hmac(key_id=key_id, label=label)

    def sign_digest(self, *, key_id: bytes, material: bytes, digest: bytes) -> bytes:
        with hsm_timed("sign"):
            return self.store.sign_digest(key_id=key_id, material=material, digest=digest)

    def hmac(self, *, key_id: bytes, material: bytes, data: bytes) -> bytes:
        with hsm_timed("hmac"):
            return self.store.hmac(key_id=key_id, material=material, data=data)

    def destroy(self, *, key_id: bytes) -> None:
        with hsm_timed("destroy"):
            self.store.destroy(key_id=key_id)

    def status(self) -> dict[str, object]:
        return self.store.status()

    def close(self) -> None:
        self.store.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


_store: KeyStore | None = None
_store_lock = threading.Lock()


def keystore() -> KeyStore:
    """The process's key store, made on first use (never at import: forked workers make their own
    PKCS#11 sessions, see hsm.keystore.pkcs11)."""
    global _store
    with _store_lock:
        if _store is None:
            config = hsm_config()
            _store = Instrumented(keystore_class(config)(config))
        return _store


def reset_keystore() -> None:
    """Forget the store (tests, and after configuration changes): the next use reads the
    configuration again."""
    global _store
    with _store_lock:
        if _store is not None:
            _store.close()
        _store = None
