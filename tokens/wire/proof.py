"""The proof of possession a trade of a NeoFS session token carries (SPEC §4 flow 3): an RFC 6979
signature by the session key over `trade:<session id>:<unix time>:<nonce>`."""

from __future__ import annotations

import uuid


def proof_message(session_id: uuid.UUID, time: int, nonce: str) -> bytes:
    return f"trade:{session_id}:{time}:{nonce}".encode()
