"""The software key store: NOT hardware-backed. For machines without a PKCS#11 module only.

Private and secret keys are encrypted at rest with AES-256-GCM under HSM_SOFTWARE_KEY (in
development, a key derived from SECRET_KEY), bound to their CKA_ID as associated data, and kept in
the key records. Every status report and the startup log say that this store is not an HSM.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from authority.conf import authority_settings
from hsm.conf import HSMConfig
from hsm.errors import HSMUnavailable, KeyUnusable
from tokens.wire.signature import compress_public_key

logger = logging.getLogger(__name__)
LABEL = "software key store (not hardware-backed)"


class SoftwareKeyStore:
    hardware_backed = False

    def __init__(self, config: HSMConfig) -> None:
        self.config = config
        secret = config.software_key
        if secret:
            self._key = hashlib.sha256(secret.encode()).digest()
        elif not authority_settings.PRODUCTION:
            self._key = hmac.new(
                settings.SECRET_KEY.encode(), b"session-authority/software-keystore", hashlib.sha256
            ).digest()
        else:
            raise HSMUnavailable("HSM_SOFTWARE_KEY must be set for the software key store.")
        self._destroyed: set[bytes] = set()
        logger.warning("Using the %s.", LABEL)

    def _seal(self, key_id: bytes, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self._key).encrypt(nonce, plaintext, key_id)

    def _open(self, key_id: bytes, material: bytes) -> bytes:
        if not material or key_id in self._destroyed:
            raise KeyUnusable("The key has been destroyed.")
        try:
            return AESGCM(self._key).decrypt(material[:12], material[12:], key_id)
        except InvalidTag:
            raise HSMUnavailable(
                "The software key store cannot decrypt this key (wrong key?)."
            ) from None

    def generate_ec(self, *, key_id: bytes, label: str) -> tuple[bytes, bytes]:
        private = ec.generate_private_key(ec.SECP256R1())
        scalar = private.private_numbers().private_value.to_bytes(32, "big")
        return compress_public_key(private.public_key()), self._seal(key_id, scalar)

    def generate_hmac(self, *, key_id: bytes, label: str) -> bytes:
        return self._seal(key_id, secrets.token_bytes(32))

    def sign_digest(self, *, key_id: bytes, material: bytes, digest: bytes) -> bytes:
        scalar = int.from_bytes(self._open(key_id, material), "big")
        private = ec.derive_private_key(scalar, ec.SECP256R1())
        algorithm = hashes.SHA512() if len(digest) == 64 else hashes.SHA256()
        r, s = decode_dss_signature(private.sign(digest, ec.ECDSA(Prehashed(algorithm))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def hmac(self, *, key_id: bytes, material: bytes, data: bytes) -> bytes:
        return hmac.new(self._open(key_id, material), data, hashlib.sha256).digest()

    def destroy(self, *, key_id: bytes) -> None:
        self._destroyed.add(key_id)  # the record's material is wiped by the service as well

    def close(self) -> None:
        """Nothing to release: the keys are in the database."""

    def status(self) -> dict[str, object]:
        return {
            "backend": "software",
            "hardware_backed": False,
            "label": LABEL,
            "pid": os.getpid(),
            "sessions": [],
            "mechanisms": ["ECDSA (P-256)", "SHA256_HMAC"],
        }
