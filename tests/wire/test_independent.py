"""Tokens made here decode with an independent protobuf schema and verify with an independent
ECDSA implementation (the `ecdsa` package), as a NeoFS node's stack would."""

from __future__ import annotations

import hashlib

import ecdsa
from hypothesis import given, settings

from tests.wire import strategies as s
from tests.wire.neofs_schema import MESSAGES
from tokens.wire.signature import Scheme


def _independent_verify(key: bytes, body: bytes, sign: bytes, scheme: int) -> bool:
    public = ecdsa.VerifyingKey.from_string(key, curve=ecdsa.NIST256p)
    if scheme == Scheme.ECDSA_SHA512:
        assert sign[0] == 4
        return public.verify(sign[1:], body, hashfunc=hashlib.sha512)
    return public.verify(sign, body, hashfunc=hashlib.sha256)


@settings(max_examples=60, deadline=None)
@given(s.signed_session_tokens())
def test_session_tokens_decode_and_verify_independently(token):
    parsed = MESSAGES["SessionToken"].FromString(token.encode())
    # Google's deterministic serialisation of the parsed body is the stable encoding we signed.
    body = parsed.body.SerializeToString(deterministic=True)
    assert body == token.body.encode()
    assert parsed.body.owner_id.value == token.body.owner_id.value
    signature = parsed.signature
    assert _independent_verify(signature.key, body, signature.sign, signature.scheme)


@settings(max_examples=60, deadline=None)
@given(s.signed_bearer_tokens())
def test_neofs_bearer_tokens_decode_and_verify_independently(token):
    if token.body.flavour.value != "neofs":
        return  # the independent schema models the NeoFS flavour's field 4 (issuer)
    parsed = MESSAGES["BearerToken"].FromString(token.encode())
    body = parsed.body.SerializeToString(deterministic=True)
    assert body == token.body.encode()
    assert parsed.body.issuer.value == token.body.issuer.value
    assert _independent_verify(
        parsed.signature.key, body, parsed.signature.sign, parsed.signature.scheme
    )
