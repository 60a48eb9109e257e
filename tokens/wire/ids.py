"""Identifiers of neo.fs.v2 `refs`: owner ids (N3 addresses), container and object ids."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Self

import base58

from tokens.wire import jsonform as js
from tokens.wire.errors import WireError, build
from tokens.wire.protobuf import Reader, Writer

ADDRESS_VERSION = 0x35  # N3 address version byte
OWNER_ID_LENGTH = 25
ID_LENGTH = 32
PUBLIC_KEY_LENGTH = 33

# N3 single-signature verification script: PUSHDATA1 0x21 <key> SYSCALL System.Crypto.CheckSig
_SCRIPT_PREFIX = b"\x0c\x21"
_SCRIPT_SUFFIX = b"\x41\x56\xe7\xb3\x27"


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def base58_max_length(length: int) -> int:
    """The most base58 characters `length` bytes encode to: ceil(length · log 256 / log 58);
    leading zero bytes are one character each, which never makes the text longer."""
    return math.ceil(length * math.log(256) / math.log(58))


def decode_base58(text: str, field: str, length: int) -> bytes:
    # Decoding costs time quadratic in the text's length (one big integer, grown a digit at a
    # time): text longer than `length` bytes can encode to is refused before any of it.
    if len(text) > base58_max_length(length):
        raise WireError(field, f"too long for {length} bytes of base58")
    try:
        raw = base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise WireError(field, "invalid base58") from None
    if len(raw) != length:
        raise WireError(field, f"must decode to {length} bytes, got {len(raw)}")
    return raw


def check_public_key(key: bytes, field: str) -> bytes:
    """A compressed SEC1 P-256 key: 33 bytes, 0x02/0x03 first (the point is checked on use)."""
    if len(key) != PUBLIC_KEY_LENGTH or key[0] not in (2, 3):
        raise WireError(field, "must be a 33-byte compressed public key")
    return key


@dataclass(frozen=True, slots=True)
class OwnerID:
    """neo.fs.v2 refs.OwnerID: a 25-byte N3 address."""

    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) != OWNER_ID_LENGTH:
            raise WireError("value", f"owner id must be {OWNER_ID_LENGTH} bytes")
        if self.value[0] != ADDRESS_VERSION:
            raise WireError("value", "owner id has a wrong address version")
        if not hmac.compare_digest(_checksum(self.value[:21]), self.value[21:]):
            raise WireError("value", "owner id checksum mismatch")

    @classmethod
    def from_public_key(cls, key: bytes) -> OwnerID:
        check_public_key(key, "public_key")
        script = _SCRIPT_PREFIX + key + _SCRIPT_SUFFIX
        script_hash = hashlib.new("ripemd160", hashlib.sha256(script).digest()).digest()
        head = bytes([ADDRESS_VERSION]) + script_hash
        return cls(head + _checksum(head))

    @classmethod
    def from_string(cls, text: str, field: str = "owner_id") -> OwnerID:
        raw = decode_base58(text, field, OWNER_ID_LENGTH)
        try:
            return cls(raw)
        except WireError as exc:
            raise WireError(field, exc.message) from None

    def __str__(self) -> str:
        return base58.b58encode(self.value).decode()

    def encode(self) -> bytes:
        return Writer().bytes_(1, self.value).getvalue()

    def to_json(self) -> js.JSONObject:
        return {"value": js.b64(self.value)}

    @classmethod
    def from_json(cls, obj: object, path: str) -> Self:
        raw = js.parse_bytes(js.field(obj, "value", "value", path), f"{path}.value")
        return build(cls, path, value=raw)

    @classmethod
    def decode(cls, data: bytes, field: str) -> OwnerID:
        value = Reader(data, field).bytes_(1, "value")
        try:
            return cls(value)
        except WireError as exc:
            raise exc.under(field) from None


@dataclass(frozen=True, slots=True)
class _Id32:
    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) != ID_LENGTH:
            raise WireError("value", f"must be {ID_LENGTH} bytes, got {len(self.value)}")

    @classmethod
    def from_string(cls, text: str, field: str) -> Self:
        return cls(decode_base58(text, field, ID_LENGTH))

    def __str__(self) -> str:
        return base58.b58encode(self.value).decode()

    def encode(self) -> bytes:
        return Writer().bytes_(1, self.value).getvalue()

    def to_json(self) -> js.JSONObject:
        return {"value": js.b64(self.value)}

    @classmethod
    def from_json(cls, obj: object, path: str) -> Self:
        raw = js.parse_bytes(js.field(obj, "value", "value", path), f"{path}.value")
        return build(cls, path, value=raw)

    @classmethod
    def decode(cls, data: bytes, field: str) -> Self:
        value = Reader(data, field).bytes_(1, "value")
        try:
            return cls(value)
        except WireError as exc:
            raise exc.under(field) from None


class ContainerID(_Id32):
    """neo.fs.v2 refs.ContainerID: 32 bytes, base58 in text."""


class ObjectID(_Id32):
    """neo.fs.v2 refs.ObjectID: 32 bytes, base58 in text."""
