"""Serializer fields for NeoFS identifiers."""

from __future__ import annotations

from typing import Any

import base58
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "example": "0x1FBFBFFF"}]})
class BasicACLField(serializers.Field):
    """A uint32 given as a number or a hex string (`0x1FBFBFFF`), as neofs-cli prints it."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            raise serializers.ValidationError("Must be an integer or a hex string.")
        if isinstance(data, str):
            try:
                data = int(data, 16) if data.lower().startswith("0x") else int(data)
            except ValueError:
                raise serializers.ValidationError("Must be an integer or a hex string.") from None
        if not isinstance(data, int) or not 0 <= data <= 0xFFFFFFFF:
            raise serializers.ValidationError("Must be a uint32.")
        return data

    def to_representation(self, value: int) -> str:
        return f"0x{value:08X}"
