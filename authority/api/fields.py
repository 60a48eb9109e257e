"""Serializer fields for NeoFS identifiers, and bounded maps."""

from __future__ import annotations

from typing import Any

import base58
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tokens.wire import basic_acl
from tokens.wire.errors import WireError
from tokens.wire.ids import decode_base58


@extend_schema_field(OpenApiTypes.STR)
class Base58Field(serializers.Field):
    """Bytes of a fixed length, written as base58 (container ids, object ids)."""

    def __init__(self, *, length: int, **kwargs: Any) -> None:
        self.length = length
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bytes:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a base58 string.")
        try:
            return decode_base58(data, self.field_name or "value", self.length)
        except WireError as exc:
            raise serializers.ValidationError(exc.message) from None

    def to_representation(self, value: bytes) -> str:
        return base58.b58encode(bytes(value)).decode()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": basic_acl.UINT32_MAX},
            {"type": "string", "example": "0x1FBFBFFF", "maxLength": basic_acl.MAX_TEXT},
        ]
    }
)
class BasicACLField(serializers.Field):
    """A uint32 given as a JSON number, or as the console takes it: hex (`0x1FBFBFFF`,
    `1fbfbfff`) or a preset name (`public-read`) — tokens.wire.basic_acl, one spelling for both."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            raise serializers.ValidationError("Must be an integer, a hex string or a preset name.")
        if isinstance(data, str):
            try:
                return basic_acl.parse(data, self.field_name or "basic_acl")
            except WireError as exc:
                raise serializers.ValidationError(exc.message) from None
        if not isinstance(data, int) or not 0 <= data <= basic_acl.UINT32_MAX:
            raise serializers.ValidationError("Must be a uint32.")
        return data

    def to_representation(self, value: int) -> str:
        return basic_acl.to_hex(value)


@extend_schema_field({"type": "string", "example": "02" + "ab" * 32, "maxLength": 66})
class PublicKeyField(serializers.Field):
    """A 33-byte compressed P-256 public key, in hex (as neo-go's wallet prints it)."""

    def to_internal_value(self, data: Any) -> bytes:
        if not isinstance(data, str) or len(data) > 66:
            raise serializers.ValidationError("Must be 33 bytes in hex (66 digits).")
        try:
            return bytes.fromhex(data)
        except ValueError:
            raise serializers.ValidationError("Must be 33 bytes in hex (66 digits).") from None

    def to_representation(self, value: bytes) -> str:
        return bytes(value).hex()


class HeadersField(serializers.DictField):
    """A map of header names to values (eACL filters compare them), refused by its size before
    any entry is validated: at most `max_entries` entries, names of at most `max_name` and values
    of at most `max_value` characters."""

    def __init__(
        self, *, max_entries: int = 256, max_name: int = 256, max_value: int = 4096, **kwargs: Any
    ) -> None:
        self.max_entries, self.max_name = max_entries, max_name
        kwargs.setdefault("child", serializers.CharField(allow_blank=True, max_length=max_value))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            if len(data) > self.max_entries:
                raise serializers.ValidationError(f"At most {self.max_entries} headers.")
            if any(len(str(name)) > self.max_name for name in data):
                raise serializers.ValidationError(
                    f"Header names are at most {self.max_name} characters."
                )
        return dict(super().to_internal_value(data))
