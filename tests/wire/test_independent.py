"""Tokens made here decode with an independent protobuf schema and verify with an independent
ECDSA implementation (the `ecdsa` package), as a NeoFS node's stack would."""

from __future__ import annotations

import hashlib

import ecdsa
import pytest
from google.protobuf.unknown_fields import UnknownFieldSet
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wire import strategies as s
from tests.wire.neofs_schema import MESSAGES
from tokens.wire.bearer import Flavour
from tokens.wire.signature import Scheme


def _independent_verify(key: bytes, body: bytes, sign: bytes, scheme: int) -> bool:
    public = ecdsa.VerifyingKey.from_string(key, curve=ecdsa.NIST256p)
    if scheme == Scheme.ECDSA_SHA512:
        assert sign[0] == 4
        return public.verify(sign[1:], body, hashfunc=hashlib.sha512)
    return public.verify(sign, body, hashfunc=hashlib.sha256)


def _unknown_fields(message) -> int:
    """Fields the independent schema does not know, at any depth (a wrong number or wire type)."""
    count = len(UnknownFieldSet(message))
    for descriptor, value in message.ListFields():
        if descriptor.message_type is not None:
            for item in value if descriptor.is_repeated else [value]:
                count += _unknown_fields(item)
    return count


@settings(max_examples=60, deadline=None)
@given(s.signed_session_tokens())
def test_session_tokens_decode_and_verify_independently(token):
    parsed = MESSAGES["SessionToken"].FromString(token.encode())
    assert _unknown_fields(parsed) == 0
    # Google's deterministic serialisation of the parsed body is the stable encoding we signed.
    body = parsed.body.SerializeToString(deterministic=True)
    assert body == token.body.encode()
    assert parsed.body.owner_id.value == token.body.owner_id.value
    signature = parsed.signature
    assert _independent_verify(signature.key, body, signature.sign, signature.scheme)


# SPEC §3: field 4 of the bearer body is `issuer` (OwnerID) in NeoFS, `bool allow_impersonate`
# in FrostFS; each flavour is parsed with its own schema.
@pytest.mark.parametrize(
    ("flavour", "schema"),
    [(Flavour.NEOFS, "BearerToken"), (Flavour.FROSTFS, "FrostFSBearerToken")],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bearer_tokens_decode_and_verify_independently(flavour, schema, data):
    token = data.draw(s.signed_bearer_tokens(flavours=(flavour,)))
    parsed = MESSAGES[schema].FromString(token.encode())
    assert _unknown_fields(parsed) == 0
    body = parsed.body.SerializeToString(deterministic=True)
    assert body == token.body.encode()
    if flavour is Flavour.NEOFS:
        assert parsed.body.issuer.value == token.body.issuer.value
    else:
        assert parsed.body.allow_impersonate is token.body.allow_impersonate
    assert parsed.body.HasField("owner_id") is (token.body.owner_id is not None)
    assert parsed.body.HasField("eacl_table") is (token.body.eacl_table is not None)
    assert _independent_verify(
        parsed.signature.key, body, parsed.signature.sign, parsed.signature.scheme
    )
