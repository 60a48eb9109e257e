"""Proof of possession of a static session token's key, for the trade (SPEC §4.3): the holder
signs `trade:<session id>:<time>:<nonce>` with the session key; each proof is used once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from authority.conf import authority_settings
from authority.errors import BadCredentials, InvalidInput
from tokens.wire.proof import proof_message
from tokens.wire.signature import Scheme, Signature, verify


@dataclass(frozen=True)
class Proof:
    """Proof of possession of a static token's session key (SPEC §4.3)."""

    time: int
    nonce: str
    signature: bytes


def proof_check(*, session_id: uuid.UUID, session_key: bytes, proof: Proof) -> None:
    """BadCredentials (or InvalidInput for a malformed nonce) unless `proof` is a fresh, unused
    signature by `session_key` over this session's proof message."""
    window = authority_settings.PROOF_WINDOW
    if abs(timezone.now().timestamp() - proof.time) > window:
        raise BadCredentials(f"The proof's time is more than {window} s away.")
    if not 8 <= len(proof.nonce) <= 128:
        raise InvalidInput("The nonce has 8 to 128 characters.", field="proof.nonce")
    message = proof_message(session_id, proof.time, proof.nonce)
    if not verify(message, Signature(session_key, proof.signature, Scheme.ECDSA_RFC6979_SHA256)):
        raise BadCredentials("The proof of possession does not verify.")
    # Single use: the nonce is remembered past the time window (cache.add is atomic in Redis).
    if not cache.add(f"sa:pop:{session_id}:{proof.nonce}", 1, timeout=3 * window):
        raise BadCredentials("This proof was already used.")
