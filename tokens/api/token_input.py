"""NeoFS tokens in request and response bodies: base64 of the binary form, or NeoFS JSON."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from authority.caches import registry
from authority.errors import InvalidInput
from authority.lru import LRU
from tokens.wire.errors import WireError

# The decision point sees the same bearer and session tokens again and again (a gateway attaches
# one to every request it forwards); decoding a 20-record table costs more than the rest of the
# decision. Tokens are frozen values, so one decoded copy serves every request that sends the
# same bytes. Larger tokens (up to the input limits) are decoded each time, to bound memory.
DECODED_TOKEN_MAX_BYTES = 16 * 1024
_decoded: LRU[tuple[type, bytes], Any] = registry.lru("tokens.decoded_tokens")


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
        return _decoded_token(kind, raw, field), raw
    except WireError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None


def _decoded_token(kind: Any, raw: bytes, field: str) -> Any:
    if len(raw) > DECODED_TOKEN_MAX_BYTES:
        return kind.decode(raw, field)
    key = (kind, hashlib.sha256(raw).digest())
    token = _decoded.get(key)
    if token is None:  # malformed bytes raise, and are not remembered
        token = kind.decode(raw, field)
        _decoded.put(key, token)
    return token


def bytes_from_base64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("Must be base64.", field=field) from None


def token_payload(token: Any) -> dict[str, Any]:
    """A token for a response: both forms."""
    return {"binary": base64.b64encode(token.encode()).decode(), "json": token.to_json()}
