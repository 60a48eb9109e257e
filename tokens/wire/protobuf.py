"""Minimal protobuf wire format: the stable encoding NeoFS signs, and a strict reader.

Stable encoding (neo.fs.v2 `StableMarshal`): fields in ascending number order, zero scalars and
empty bytes omitted, sub-messages written whenever they are set (even when empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tokens.wire.errors import WireError

VARINT = 0
FIXED64 = 1
LEN = 2
FIXED32 = 5

MAX_MESSAGE = 4 * 1024 * 1024  # a NeoFS gRPC message cap; nothing legitimate here is larger
MAX_REPEATED = 10_000


_SMALL_VARINTS = [bytes([i]) for i in range(0x80)]


class Writer:
    """Appends fields; callers write them in ascending field-number order."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    @staticmethod
    def _varint(value: int) -> bytes:
        if value < 0x80:
            return _SMALL_VARINTS[value]
        out = bytearray()
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                return bytes(out)

    def _tag(self, number: int, wire_type: int) -> None:
        self._parts.append(self._varint((number << 3) | wire_type))

    def uint(self, number: int, value: int) -> Writer:
        if value:
            self._tag(number, VARINT)
            self._parts.append(self._varint(value))
        return self

    def enum(self, number: int, value: int) -> Writer:
        if value < 0:  # protobuf encodes negative enums as 10-byte two's complement
            value += 1 << 64
        return self.uint(number, value)

    def boolean(self, number: int, value: bool) -> Writer:
        return self.uint(number, 1 if value else 0)

    def bytes_(self, number: int, value: bytes) -> Writer:
        if value:
            self._tag(number, LEN)
            self._parts.append(self._varint(len(value)))
            self._parts.append(value)
        return self

    def string(self, number: int, value: str) -> Writer:
        return self.bytes_(number, value.encode())

    def message(self, number: int, value: bytes | None) -> Writer:
        """A set sub-message is always written, even when its encoding is empty."""
        if value is not None:
            self._tag(number, LEN)
            self._parts.append(self._varint(len(value)))
            self._parts.append(value)
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    wire_type: int
    value: int = 0  # VARINT, FIXED64 and FIXED32 fields
    payload: bytes = b""  # LEN fields


def _read_varint(data: bytes, pos: int, field: str) -> tuple[int, int]:
    if pos < len(data) and data[pos] < 0x80:  # one-byte varints: most tags and lengths
        return data[pos], pos + 1
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise WireError(field, "truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 64:
                raise WireError(field, "varint overflows 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError(field, "varint too long")


def iter_fields(data: bytes, field: str) -> Iterator[Field]:
    """Yields the fields of one message; raises WireError on any framing fault."""
    if len(data) > MAX_MESSAGE:
        raise WireError(field, f"message larger than {MAX_MESSAGE} bytes")
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos, field)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError(field, "field number 0 is invalid")
        if wire_type == LEN:
            length, pos = _read_varint(data, pos, field)
            if pos + length > end:
                raise WireError(field, f"field {number} truncated")
            yield Field(number, wire_type, payload=bytes(data[pos : pos + length]))
            pos += length
        elif wire_type == VARINT:
            value, pos = _read_varint(data, pos, field)
            yield Field(number, wire_type, value)
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > end:
                raise WireError(field, f"field {number} truncated")
            yield Field(number, wire_type, int.from_bytes(data[pos : pos + size], "little"))
            pos += size
        else:
            raise WireError(field, f"unsupported wire type {wire_type}")


class Reader:
    """Collects a message's fields by number, checking wire types as they are asked for."""

    def __init__(self, data: bytes, field: str) -> None:
        self.path = field
        self._fields: dict[int, list[Field]] = {}
        for item in iter_fields(data, field):
            bucket = self._fields.setdefault(item.number, [])
            if len(bucket) >= MAX_REPEATED:
                raise WireError(
                    field, f"field {item.number} repeats more than {MAX_REPEATED} times"
                )
            bucket.append(item)

    def _last(self, number: int, wire_type: int, name: str) -> Field | None:
        items = self._fields.get(number)
        if not items:
            return None
        item = items[-1]  # protobuf: the last occurrence of a scalar wins
        if item.wire_type != wire_type:
            raise WireError(f"{self.path}.{name}", "wrong wire type")
        return item

    def wire_type(self, number: int) -> int | None:
        items = self._fields.get(number)
        return items[-1].wire_type if items else None

    def uint(self, number: int, name: str, bits: int = 64) -> int:
        item = self._last(number, VARINT, name)
        value = item.value if item else 0
        if value >= 1 << bits:
            raise WireError(f"{self.path}.{name}", f"value exceeds uint{bits}")
        return value

    def enum(self, number: int, name: str) -> int:
        value = self.uint(number, name)
        if value >= 1 << 63:
            value -= 1 << 64
        if not -(1 << 31) <= value < 1 << 31:
            raise WireError(f"{self.path}.{name}", "enum value out of int32 range")
        return value

    def boolean(self, number: int, name: str) -> bool:
        return self.uint(number, name) != 0

    def bytes_(self, number: int, name: str) -> bytes:
        item = self._last(number, LEN, name)
        return item.payload if item else b""

    def string(self, number: int, name: str) -> str:
        raw = self.bytes_(number, name)
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise WireError(f"{self.path}.{name}", "invalid UTF-8") from None

    def message(self, number: int, name: str) -> bytes | None:
        item = self._last(number, LEN, name)
        return item.payload if item else None

    def repeated_messages(self, number: int, name: str) -> list[bytes]:
        out = []
        for item in self._fields.get(number, []):
            if item.wire_type != LEN:
                raise WireError(f"{self.path}.{name}", "wrong wire type")
            out.append(item.payload)
        return out

    def repeated_bytes(self, number: int, name: str) -> list[bytes]:
        return self.repeated_messages(number, name)
