"""neo.fs.v2 refs.Signature: ECDSA P-256 signing and verification in the NeoFS schemes.

- ECDSA_SHA512 (0): SHA-512 digest, 65-byte `0x04 ‖ r ‖ s`.
- ECDSA_RFC6979_SHA256 (1): SHA-256 digest, deterministic k, 64-byte `r ‖ s`.
- ECDSA_RFC6979_SHA256_WALLET_CONNECT (2): verify only; 64-byte `r ‖ s` + 16-byte salt over the
  WalletConnect-salted base64 of the data.
"""

from __future__ import annotations

import base64
import enum
import functools
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from tokens.wire import jsonform as js
from tokens.wire.errors import WireError
from tokens.wire.ids import check_public_key
from tokens.wire.protobuf import Reader, Writer

_CURVE = ec.SECP256R1()
_WALLET_CONNECT_SALT = 16


class Scheme(enum.IntEnum):
    ECDSA_SHA512 = 0
    ECDSA_RFC6979_SHA256 = 1
    ECDSA_RFC6979_SHA256_WALLET_CONNECT = 2


class Signer(Protocol):
    """What signs NeoFS tokens: a software key, or a key held in the HSM (hsm app)."""

    def public_key(self) -> bytes:
        """The 33-byte compressed public key."""
        ...

    def sign(self, data: bytes, scheme: Scheme) -> bytes:
        """The signature bytes of `data` in `scheme` (see `signature_bytes` for the layout)."""
        ...


@dataclass(frozen=True, slots=True)
class Signature:
    """neo.fs.v2 refs.Signature."""

    key: bytes
    sign: bytes
    scheme: Scheme | int = Scheme.ECDSA_SHA512

    def encode(self) -> bytes:
        return Writer().bytes_(1, self.key).bytes_(2, self.sign).enum(3, self.scheme).getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> Signature:
        reader = Reader(data, path)
        return cls(
            key=reader.bytes_(1, "key"),
            sign=reader.bytes_(2, "sign"),
            scheme=js.open_enum(Scheme, reader.enum(3, "scheme")),
        )

    def to_json(self) -> js.JSONObject:
        return {
            "key": js.b64(self.key),
            "signature": js.b64(self.sign),
            "scheme": js.enum_json(self.scheme),
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> Signature:
        return cls(
            key=js.parse_bytes(js.field(obj, "key", "key", path), f"{path}.key"),
            sign=js.parse_bytes(js.field(obj, "signature", "sign", path), f"{path}.signature"),
            scheme=js.parse_enum(Scheme, js.field(obj, "scheme", "scheme", path), f"{path}.scheme"),
        )


@functools.lru_cache(maxsize=4096)
def load_public_key(key: bytes) -> ec.EllipticCurvePublicKey:
    """Decompresses a 33-byte key once; verification of many tokens by one key reuses it."""
    check_public_key(key, "key")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, key)
    except ValueError:
        raise WireError("key", "not a point on P-256") from None


def compress_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def signature_bytes(der: bytes, scheme: Scheme) -> bytes:
    """Converts a DER ECDSA signature (as `cryptography` gives it) to the NeoFS layout."""
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return b"\x04" + raw if scheme == Scheme.ECDSA_SHA512 else raw


def raw_signature_bytes(raw: bytes, scheme: Scheme) -> bytes:
    """Converts a raw `r ‖ s` (what PKCS#11 CKM_ECDSA gives) to NeoFS layout."""
    return b"\x04" + raw if scheme == Scheme.ECDSA_SHA512 else raw


def wallet_connect_message(data: bytes, salt: bytes) -> bytes:
    """The WalletConnect signed-message frame around hex(salt) ‖ base64(data)."""
    body = salt.hex().encode() + base64.b64encode(data)
    size = len(body)
    if size < 0xFD:
        length = bytes([size])
    elif size <= 0xFFFF:
        length = b"\xfd" + size.to_bytes(2, "little")
    else:
        length = b"\xfe" + size.to_bytes(4, "little")
    return b"\x01\x00\x01\xf0" + length + body + b"\x00\x00"


def verify(data: bytes, signature: Signature) -> bool:
    """True when `signature` is valid over `data`; never raises for malformed signatures."""
    try:
        public = load_public_key(signature.key)
    except WireError:
        return False
    sign = signature.sign
    algorithm: hashes.HashAlgorithm
    if signature.scheme == Scheme.ECDSA_SHA512:
        if len(sign) != 65 or sign[0] != 4:
            return False
        raw, message, algorithm = sign[1:], data, hashes.SHA512()
    elif signature.scheme == Scheme.ECDSA_RFC6979_SHA256:
        if len(sign) != 64:
            return False
        raw, message, algorithm = sign, data, hashes.SHA256()
    elif signature.scheme == Scheme.ECDSA_RFC6979_SHA256_WALLET_CONNECT:
        if len(sign) != 64 + _WALLET_CONNECT_SALT:
            return False
        raw, message = sign[:64], wallet_connect_message(data, sign[64:])
        algorithm = hashes.SHA256()
    else:  # pragma: no cover - Scheme is closed
        return False
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r and 0 < s):
        return False
    try:
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    return True


class SoftwareSigner:
    """A P-256 key in memory: wallets of owners that sign for themselves, the CLI, and tests."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._key = private_key or ec.generate_private_key(_CURVE)
        self._public = compress_public_key(self._key.public_key())

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return self._key

    def public_key(self) -> bytes:
        return self._public

    def sign(self, data: bytes, scheme: Scheme) -> bytes:
        if scheme == Scheme.ECDSA_SHA512:
            der = self._key.sign(data, ec.ECDSA(hashes.SHA512()))
        elif scheme == Scheme.ECDSA_RFC6979_SHA256:
            der = self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        else:
            raise WireError("scheme", f"scheme {scheme!r} cannot be used for signing here")
        return signature_bytes(der, scheme)


def sign_with(signer: Signer, data: bytes, scheme: Scheme) -> Signature:
    return Signature(key=signer.public_key(), sign=signer.sign(data, scheme), scheme=scheme)
