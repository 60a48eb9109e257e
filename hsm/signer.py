"""A `tokens.wire` Signer backed by a key record: NeoFS tokens signed in the HSM."""

from __future__ import annotations

from hsm.models import KeyRecord
from hsm.services import key_sign
from tokens.wire.signature import Scheme


class HSMSigner:
    def __init__(self, key: KeyRecord) -> None:
        self.key = key

    def public_key(self) -> bytes:
        return bytes(self.key.public_key or b"")

    def sign(self, data: bytes, scheme: Scheme) -> bytes:
        return key_sign(key=self.key, data=data, scheme=scheme)
