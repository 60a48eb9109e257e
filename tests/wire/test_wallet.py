"""Owner keys for offline signing: WIF, PEM, NEP-2 (the spec's published vector, and our own
encoder's round trip) and NEP-6 wallets; offline-signed tokens verify, changed bytes do not."""

from __future__ import annotations

import hashlib

import base58
import pytest
from cryptography.hazmat.primitives import serialization

from tokens.wire.bearer import BearerBody, BearerToken
from tokens.wire.eacl import Table
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.offline import (
    bearer_token_sign,
    session_token_sign,
    token_file_bytes,
    token_file_read,
)
from tokens.wire.session import ObjectContext, ObjectVerb, SessionBody, SessionToken
from tokens.wire.signature import SoftwareSigner
from tokens.wire.token import Check
from tokens.wire.wallet import (
    ScryptParameters,
    Wallet,
    n3_address,
    nep2_decrypt,
    nep2_encrypt,
    signer_from_pem,
    signer_from_wif,
    wallet_create,
    wif_from_signer,
)

# NEP-2 §Test vectors (github.com/neo-project/proposals, nep-2.mediawiki): a Neo Legacy key, so
# its address hash is over the legacy address (version 0x17, script 0x21 ‖ key ‖ CHECKSIG 0xAC).
SPEC_WIF = "L44B5gGEpqEDRS9vVPz7QT35jcBG2r3CZwSwQ4fCewXAhAhqGVpP"
SPEC_PASSPHRASE = "TestingOneTwoThree"
SPEC_NEP2 = "6PYVPVe1fQznphjbUxXP9KZJqPMVnVwCx5s5pr5axRJ8uHkMtZg97eT5kL"
SPEC_ADDRESS = "AStZHy8E6StCqYQbzMqi4poH7YNDHQKxvt"
# Tests run scrypt with small parameters except where the spec's own parameters are the point.
FAST = ScryptParameters(n=16, r=8, p=1)


def _legacy_address(signer: SoftwareSigner) -> str:
    script = b"\x21" + signer.public_key() + b"\xac"
    payload = b"\x17" + hashlib.new("ripemd160", hashlib.sha256(script).digest()).digest()
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return base58.b58encode(payload + checksum).decode()


def test_the_nep2_spec_vector_decrypts_and_encrypts():
    signer = nep2_decrypt(SPEC_NEP2, SPEC_PASSPHRASE, address_of=_legacy_address)
    assert wif_from_signer(signer) == SPEC_WIF
    assert _legacy_address(signer) == SPEC_ADDRESS
    assert (
        nep2_encrypt(signer_from_wif(SPEC_WIF), SPEC_PASSPHRASE, address_of=_legacy_address)
        == SPEC_NEP2
    )


def test_the_nep2_spec_vector_refuses_a_wrong_password():
    with pytest.raises(WireError) as caught:
        nep2_decrypt(SPEC_NEP2, "TestingOneTwoFour", address_of=_legacy_address)
    assert caught.value.field == "password"


def test_our_wallet_round_trips_with_the_default_scrypt_parameters():
    signer = SoftwareSigner()
    wallet = Wallet.from_json(wallet_create(signer, "pässword").to_json())
    assert wallet.scrypt == ScryptParameters(16384, 8, 8)
    assert wallet.account().address == n3_address(signer)
    assert wallet.signer("pässword").public_key() == signer.public_key()
    with pytest.raises(WireError):
        wallet.signer("password")


def test_a_wallet_names_its_account_when_it_has_several():
    first, second = SoftwareSigner(), SoftwareSigner()
    one = wallet_create(first, "pw", scrypt=FAST)
    two = wallet_create(second, "pw", scrypt=FAST)
    both = Wallet(accounts=(one.accounts[0], two.accounts[0]), scrypt=FAST)
    with pytest.raises(WireError):
        both.account()
    assert both.signer("pw", n3_address(second)).public_key() == second.public_key()
    with pytest.raises(WireError):
        Wallet.from_json(b'{"accounts": []}')


def test_wif_and_pem_load_the_same_key():
    signer = SoftwareSigner()
    assert signer_from_wif(wif_from_signer(signer)).public_key() == signer.public_key()
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert signer_from_pem(pem).public_key() == signer.public_key()
    wif = wif_from_signer(signer)
    with pytest.raises(WireError):  # a changed last character (it was "x" one time in 58)
        signer_from_wif(wif[:-1] + ("y" if wif.endswith("x") else "x"))


def _blank() -> SessionToken:
    return SessionToken(
        SessionBody(
            id=bytes(range(16)),
            lifetime=Lifetime(exp=100, nbf=1, iat=1),
            session_key=SoftwareSigner().public_key(),
        )
    )


def test_an_offline_signed_session_token_verifies_and_any_changed_byte_fails():
    owner = SoftwareSigner()
    context = ObjectContext(ObjectVerb.PUT, ContainerID(bytes(32)))
    token = session_token_sign(_blank(), signer=owner, context=context)
    assert token.body.owner_id == OwnerID.from_public_key(owner.public_key())
    assert token.check() is Check.OK
    raw = bytearray(token.encode())
    raw[8] ^= 1
    assert SessionToken.decode(bytes(raw)).check() is not Check.OK
    for json_form in (False, True):
        again = token_file_read(token_file_bytes(token, json_form=json_form), SessionToken)
        assert again.check() is Check.OK and again.body == token.body


def test_an_offline_signature_refuses_another_owners_token_and_a_missing_context():
    owner, other = SoftwareSigner(), SoftwareSigner()
    context = ObjectContext(ObjectVerb.PUT, ContainerID(bytes(32)))
    mine = session_token_sign(_blank(), signer=owner, context=context)
    with pytest.raises(WireError):
        session_token_sign(SessionToken(mine.body), signer=other)
    with pytest.raises(WireError):
        session_token_sign(_blank(), signer=owner)


def test_an_offline_signed_bearer_token_names_its_issuer_and_verifies():
    owner = SoftwareSigner()
    body = BearerBody(
        eacl_table=Table(
            container_id=ContainerID(bytes(32)), records=parse_rules("allow get others")
        ),
        lifetime=Lifetime(exp=10),
    )
    token = bearer_token_sign(BearerToken(body), signer=owner)
    assert token.body.issuer == OwnerID.from_public_key(owner.public_key())
    assert token.check() is Check.OK
