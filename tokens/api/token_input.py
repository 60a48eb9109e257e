"""NeoFS tokens in request and response bodies: base64 of the binary form, or NeoFS JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from authority.errors import InvalidInput
from tokens.wire.errors import WireError


def token_from_input(value: Any, kind: Any, field: str) -> tuple[Any, bytes]:
    """(token, raw bytes) — raw is empty for the JSON form. Malformed input is a 400 that names
    the field."""
    try:
        if isinstance(value, dict):
            return kind.from_json(value, field), b""
        if not isinstance(value, str):
            raise InvalidInput("base64 of the token, or its NeoFS JSON object.", field=field)
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("Must be base64 (or a JSON object).", field=field) from None
        return kind.decode(raw, field), raw
    except WireError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None


def bytes_from_base64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("Must be base64.", field=field) from None


def token_payload(token: Any) -> dict[str, Any]:
    """A token for a response: both forms."""
    return {"binary": base64.b64encode(token.encode()).decode(), "json": token.to_json()}
