"""Dynamic sessions, as the FrostFS seed walks them: create (blank token with an HSM-held key),
complete (client-signed or signed by the authority), sign within the context only, and the key
destroyed when the session ends."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.utils import timezone

from authority.epoch import current_epoch
from hsm.errors import KeyUnusable
from hsm.keystore import keystore
from hsm.models import KeyState
from tokens.models import Session
from tokens.services.expiry import session_expiry_sweep
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.session import ObjectContext, ObjectVerb, SessionBody, SessionToken
from tokens.wire.signature import SoftwareSigner
from tokens.wire.token import Check

pytestmark = pytest.mark.django_db


def _create(world):
    response = world["operator"].post("/api/v1/sessions/dynamic", {"lifetime": 3600}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _completed_body(world, created, verb=ObjectVerb.PUT):
    blank = SessionToken.decode(base64.b64decode(created["blank_token"]["binary"]))
    return SessionBody(
        id=blank.body.id,
        owner_id=OwnerID.from_string(world["acme"].neofs_owner_id),
        lifetime=blank.body.lifetime,
        session_key=blank.body.session_key,
        context=ObjectContext(verb, ContainerID(bytes(world["container"].cid))),
    )


def _complete(world, created, token: SessionToken):
    return world["operator"].post(
        f"/api/v1/sessions/{created['id']}/complete",
        {"token": base64.b64encode(token.encode()).decode()},
        format="json",
    )


def _sign(world, created, verb="PUT", container=None, data=b"object header"):
    return world["operator"].post(
        f"/api/v1/sessions/{created['id']}/sign",
        {
            "data": base64.b64encode(data).decode(),
            "verb": verb,
            "container": container or world["container"].container_id,
        },
        format="json",
    )


def test_blank_token_carries_the_hsm_key_and_the_lifetime(world):
    created = _create(world)
    blank = SessionToken.decode(base64.b64decode(created["blank_token"]["binary"]))
    assert blank.signature is None and blank.body.context is None and blank.body.owner_id is None
    assert blank.body.session_key.hex() == created["session_key"]
    assert blank.body.lifetime.iat == blank.body.lifetime.nbf == current_epoch()
    assert blank.body.lifetime.exp >= current_epoch() + 1
    session = Session.objects.get(pk=created["id"])
    assert session.dynamic_key.state == KeyState.ACTIVE and session.dynamic_key.backend == "pkcs11"


def test_complete_signed_by_the_authority_then_sign_inside_the_context(world):
    created = _create(world)
    completed = _complete(world, created, SessionToken(_completed_body(world, created)))
    assert completed.status_code == 200, completed.content
    token = SessionToken.decode(base64.b64decode(completed.json()["neofs_token"]["binary"]))
    assert token.check() is Check.OK

    signed = _sign(world, created)
    assert signed.status_code == 200, signed.content
    raw = base64.b64decode(signed.json()["signature"])
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), bytes.fromhex(created["session_key"])
    )
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, b"object header", ec.ECDSA(hashes.SHA256()))


def test_signing_outside_the_context_is_refused(world):
    created = _create(world)
    _complete(world, created, SessionToken(_completed_body(world, created)))
    assert _sign(world, created, verb="DELETE").status_code == 403
    other = world["globex_container"].container_id
    assert _sign(world, created, container=other).status_code == 403


def test_a_client_signed_completion_is_recorded_as_is(world):
    owner_wallet = SoftwareSigner()
    acme = world["acme"]
    acme.signs_own_tokens = True
    acme.neofs_owner_id = str(OwnerID.from_public_key(owner_wallet.public_key()))
    acme.save()
    created = _create(world)
    body = _completed_body(world, created)
    signed = SessionToken(body).signed(owner_wallet)
    response = _complete(world, created, signed)
    assert response.status_code == 200, response.content
    assert base64.b64decode(response.json()["neofs_token"]["binary"]) == signed.encode()


@pytest.mark.parametrize("change", ["id", "key", "owner", "exp", "verb", "container"])
def test_completions_that_do_not_match_the_session_are_refused(world, change):
    created = _create(world)
    body = _completed_body(world, created)
    other = SoftwareSigner().public_key()
    changes = {
        "id": {"id": b"\x01" * 16},
        "key": {"session_key": other},
        "owner": {"owner_id": OwnerID.from_public_key(other)},
        "exp": {"lifetime": type(body.lifetime)(exp=body.lifetime.exp + 10_000, nbf=0, iat=0)},
        "verb": {"context": ObjectContext(ObjectVerb.VERB_UNSPECIFIED, body.context.container)},
        "container": {"context": ObjectContext(ObjectVerb.PUT, ContainerID(b"\x07" * 32))},
    }[change]
    fields = {f: getattr(body, f) for f in ("id", "owner_id", "lifetime", "session_key", "context")}
    response = _complete(world, created, SessionToken(SessionBody(**{**fields, **changes})))
    assert response.status_code == 400, (change, response.content)


def test_a_modified_client_signed_token_is_refused(world):
    created = _create(world)
    signed = SessionToken(_completed_body(world, created)).signed(SoftwareSigner())
    assert _complete(world, created, signed).status_code == 400  # not the owner's key


def test_the_key_is_destroyed_when_the_session_ends(world):
    created = _create(world)
    _complete(world, created, SessionToken(_completed_body(world, created)))
    key = Session.objects.get(pk=created["id"]).dynamic_key
    world["operator"].post(f"/api/v1/sessions/{created['id']}/cancel")
    assert _sign(world, created).status_code == 409
    assert session_expiry_sweep().session_keys_destroyed == 1
    key.refresh_from_db()
    assert key.state == KeyState.DESTROYED
    with pytest.raises(KeyUnusable):
        keystore().sign_digest(key_id=bytes(key.key_id), material=b"", digest=b"\x00" * 32)


def test_an_expired_dynamic_session_loses_its_key_at_the_sweep(world):
    created = _create(world)
    Session.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    result = session_expiry_sweep()
    assert result.sessions_expired == 1 and result.session_keys_destroyed == 1


def _wallet_owner(world):
    wallet = SoftwareSigner()
    acme = world["acme"]
    acme.signs_own_tokens = True
    acme.neofs_owner_id = str(OwnerID.from_public_key(wallet.public_key()))
    acme.save()
    return wallet


def _client_token(world, wallet, **changes):
    import os

    from tokens.wire.lifetime import Lifetime

    epoch = current_epoch()
    fields = {
        "id": os.urandom(16),
        "owner_id": OwnerID.from_public_key(wallet.public_key()),
        "lifetime": Lifetime(exp=epoch + 10, nbf=epoch, iat=epoch),
        "session_key": SoftwareSigner().public_key(),
        "context": ObjectContext(ObjectVerb.GET, ContainerID(bytes(world["container"].cid))),
        **changes,
    }
    return SessionToken(SessionBody(**fields)).signed(wallet)


def _import(world, token: SessionToken | bytes):
    raw = token if isinstance(token, bytes) else token.encode()
    return world["operator"].post(
        "/api/v1/sessions/import", {"token": base64.b64encode(raw).decode()}, format="json"
    )


def test_a_client_signed_static_token_is_registered_and_then_known(world):
    wallet = _wallet_owner(world)
    token = _client_token(world, wallet)
    response = _import(world, token)
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "static" and response.json()["verbs"] == ["GET"]
    introspected = (
        world["service"]
        .post("/api/v1/introspect", {"token": base64.b64encode(token.encode()).decode()})
        .json()
    )
    assert introspected["active"] is True
    assert _import(world, token).status_code == 409  # once


def test_a_token_modified_after_signing_is_refused(world):
    wallet = _wallet_owner(world)
    raw = bytearray(_client_token(world, wallet).encode())
    raw[10] ^= 0x01  # inside the body's id
    assert _import(world, bytes(raw)).status_code == 400


def test_tokens_of_other_issuers_or_expired_are_refused(world):
    stranger = SoftwareSigner()
    assert _import(world, _client_token(world, stranger)).status_code == 400
    wallet = _wallet_owner(world)
    from tokens.wire.lifetime import Lifetime

    old = _client_token(world, wallet, lifetime=Lifetime(exp=1, nbf=0, iat=0))
    assert _import(world, old).status_code == 400


def test_importing_a_token_with_another_owners_session_id_is_404(world, issue):
    import uuid

    wallet = _wallet_owner(world)
    foreign = issue(
        world["globex_service"], verbs=["GET"], container=world["globex_container"].container_id
    )
    token = _client_token(world, wallet, id=uuid.UUID(foreign["id"]).bytes)
    refused = _import(world, token)
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    assert Session.objects.get(pk=foreign["id"]).owner == world["globex"]
