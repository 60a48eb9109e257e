"""protojson helpers: base64 bytes, uint64 as strings, enums by name (numbers accepted on input).

Input accepts both camelCase json names and the proto snake_case names, as protojson does.
"""

from __future__ import annotations

import base64
import binascii
import enum
from typing import TypeAlias, TypeVar

from tokens.wire.errors import WireError

E = TypeVar("E", bound=enum.IntEnum)

# What the codec writes: protojson values. What it reads is typed `object` — untrusted JSON that
# the parse_* helpers below check before anything uses it.
JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def field(obj: object, json_name: str, proto_name: str, path: str) -> object:
    if not isinstance(obj, dict):
        raise WireError(path, "must be a JSON object")
    if json_name in obj:
        return obj[json_name]
    return obj.get(proto_name)


def message(obj: object, json_name: str, proto_name: str, path: str) -> dict[str, object] | None:
    value = field(obj, json_name, proto_name, path)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WireError(f"{path}.{json_name}", "must be a JSON object")
    return value


def array(
    obj: object, json_name: str, proto_name: str, path: str, limit: int = 10_000
) -> list[object]:
    value = field(obj, json_name, proto_name, path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError(f"{path}.{json_name}", "must be a JSON array")
    if len(value) > limit:
        raise WireError(f"{path}.{json_name}", f"more than {limit} items")
    return value


def parse_bytes(value: object, path: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise WireError(path, "must be a base64 string")
    text = value.replace("-", "+").replace("_", "/")  # protojson accepts URL-safe base64 too
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WireError(path, "invalid base64") from None


def parse_uint(value: object, path: str, bits: int = 64) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WireError(path, "must be an unsigned integer (number or decimal string)")
    if isinstance(value, str):
        if not value.isdigit() or len(value) > 20:
            raise WireError(path, "must be a decimal unsigned integer")
        value = int(value)
    if not 0 <= value < 1 << bits:
        raise WireError(path, f"out of uint{bits} range")
    return value


def parse_bool(value: object, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise WireError(path, "must be true or false")
    return value


def parse_string(value: object, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WireError(path, "must be a string")
    return value


def parse_enum(kind: type[E], value: object, path: str) -> E | int:
    """By name (exact, as protojson writes it) or by number.

    Enums are open, as in proto3: a number without a name is kept (NeoFS SDK test vectors carry
    such values, and signatures cover them); an unknown *name* is an error.
    """
    if value is None:
        return kind(0)
    if isinstance(value, str):
        try:
            return kind[value]
        except KeyError:
            names = ", ".join(m.name for m in kind)
            raise WireError(path, f"unknown value {value!r}; expected one of {names}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(1 << 31) <= value < 1 << 31:
            raise WireError(path, "enum value out of int32 range")
        return open_enum(kind, value)
    raise WireError(path, "must be an enum name or number")


def open_enum(kind: type[E], value: int) -> E | int:
    """The named member for a known number, else the number itself (proto3 open enums)."""
    try:
        return kind(value)
    except ValueError:
        return value


def enum_json(value: enum.IntEnum | int) -> str | int:
    """protojson writes an enum by name, or by number when it has none."""
    return value.name if isinstance(value, enum.IntEnum) else value
