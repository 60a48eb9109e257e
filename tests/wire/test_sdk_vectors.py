"""The published NeoFS SDK vectors decode, re-encode byte for byte and verify."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.wire import vectors
from tokens.wire.bearer import BearerToken, Flavour
from tokens.wire.ids import OwnerID
from tokens.wire.session import SessionToken
from tokens.wire.signature import Scheme, Signature, SoftwareSigner, verify
from tokens.wire.token import Check


def test_bearer_token_round_trips_byte_for_byte():
    token = BearerToken.decode(vectors.BEARER_TOKEN)
    assert token.encode() == vectors.BEARER_TOKEN
    assert token.body.encode() == vectors.BEARER_BODY
    assert token.body.flavour is Flavour.NEOFS
    assert token.body.issuer == OwnerID(vectors.BEARER_ISSUER)
    assert token.body.owner_id == OwnerID(vectors.BEARER_RECEIVER)
    lifetime = token.body.lifetime
    assert (lifetime.exp, lifetime.nbf, lifetime.iat) == (
        vectors.BEARER_EXP,
        vectors.BEARER_NBF,
        vectors.BEARER_IAT,
    )
    records = token.body.eacl_table.records
    assert [r.operation for r in records] == [12943052, 94383138]  # unnamed, kept as numbers
    assert len(records[1].targets[1].keys) == 3


def test_bearer_token_json_round_trip_matches_the_sdk_json():
    token = BearerToken.decode(vectors.BEARER_TOKEN)
    again = BearerToken.from_json(json.loads(json.dumps(token.to_json())))
    assert again.encode() == vectors.BEARER_TOKEN
    assert token.to_json()["body"]["lifetime"] == {
        "exp": "32058350",
        "nbf": "93843742391",
        "iat": "1209418302",
    }
    assert token.to_json()["signature"]["scheme"] == 1208743532


def test_placeholder_signature_does_not_verify():
    assert BearerToken.decode(vectors.BEARER_TOKEN).check() is Check.BAD_SIGNATURE


@pytest.mark.parametrize("scheme", [0, 1, 2])
def test_sdk_signatures_over_the_bearer_body_verify(scheme):
    signature = Signature(vectors.VERIFY_KEY, vectors.BEARER_SIGNATURES[scheme], Scheme(scheme))
    assert verify(vectors.BEARER_BODY, signature)
    token = BearerToken(BearerToken.decode(vectors.BEARER_TOKEN).body, signature)
    # The signature is good, but the key's account is not the token's issuer: nodes refuse it.
    assert token.check() is Check.ISSUER_MISMATCH


@pytest.mark.parametrize("scheme", [0, 1, 2])
def test_any_changed_byte_of_an_sdk_signature_fails(scheme):
    good = vectors.BEARER_SIGNATURES[scheme]
    for index in range(len(good)):
        changed = bytearray(good)
        changed[index] = (changed[index] + 1) % 256
        assert not verify(
            vectors.BEARER_BODY, Signature(vectors.VERIFY_KEY, bytes(changed), Scheme(scheme))
        )


def _sdk_signing_key() -> SoftwareSigner:
    private = ec.derive_private_key(int.from_bytes(vectors.SIGNING_KEY_D, "big"), ec.SECP256R1())
    return SoftwareSigner(private)


def test_rfc6979_signature_of_the_bearer_body_matches_the_sdk():
    assert _sdk_signing_key().sign(vectors.BEARER_BODY, Scheme.ECDSA_RFC6979_SHA256) == (
        vectors.BEARER_RFC6979
    )


def test_session_token_round_trips_and_signs_as_the_sdk_does():
    token = SessionToken.decode(vectors.SESSION_TOKEN)
    assert token.encode() == vectors.SESSION_TOKEN
    assert token.body.encode() == vectors.SESSION_BODY
    assert len(token.body.context.objects) == 3
    signer = _sdk_signing_key()
    assert signer.sign(vectors.SESSION_BODY, Scheme.ECDSA_RFC6979_SHA256) == vectors.SESSION_RFC6979
    resigned = token.signed(signer)
    assert verify(vectors.SESSION_BODY, resigned.signature)
    # The vector's issuer is not the signing key's account, so the binding check refuses it.
    assert resigned.check() is Check.ISSUER_MISMATCH
    again = SessionToken.from_json(json.loads(json.dumps(token.to_json())))
    assert again.encode() == vectors.SESSION_TOKEN
