"""What session and bearer tokens share: strict top-level decoding and signature checks."""

from __future__ import annotations

import enum
import functools
import json

from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID
from tokens.wire.signature import Signature, verify


class Check(enum.Enum):
    """Outcome of verifying a token's signature and issuer binding."""

    OK = "ok"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    ISSUER_MISMATCH = "issuer_mismatch"


def check_signature(body: bytes, signature: Signature | None, issuer: OwnerID | None) -> Check:
    """Signature over the stable body encoding, then the key must derive the issuer."""
    if signature is None:
        return Check.UNSIGNED
    if not verify(body, signature):
        return Check.BAD_SIGNATURE
    if issuer is None or account_of(signature.key) != issuer:
        return Check.ISSUER_MISMATCH
    return Check.OK


@functools.lru_cache(maxsize=4096)
def account_of(key: bytes) -> OwnerID | None:
    """The owner id a verified key derives (cached: few keys sign many tokens)."""
    try:
        return OwnerID.from_public_key(key)
    except WireError:
        return None


def require_stable(data: bytes, reencoded: bytes, path: str) -> None:
    """Signed tokens must arrive in stable encoding, so that no two byte strings mean one token."""
    if data != reencoded:
        raise WireError(path, "not in the stable (canonical) encoding, or has unknown fields")


def load_json(text: str | bytes, path: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(path, f"invalid JSON: {exc}") from None
