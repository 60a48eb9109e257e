"""RFC 7662 introspection and RFC 7009 revocation."""

from __future__ import annotations

import base64
import time
import uuid

import pytest

from tokens.models import Session
from tokens.services.proof import proof_message
from tokens.wire.signature import Scheme

pytestmark = pytest.mark.django_db


def _access_token(world, session):
    response = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    return response.json()["access_token"]


def _introspect(client, token):
    response = client.post("/api/v1/introspect", {"token": token})
    assert response.status_code == 200, response.content
    return response.json()


def test_active_access_and_session_tokens(world, issue):
    session = issue()
    access = _access_token(world, session)
    result = _introspect(world["service"], access)
    assert result["active"] is True and result["token_type"] == "access_token"
    assert result["sid"] == session["id"] and result["scope"] == "GET HEAD"
    session_result = _introspect(world["service"], session["token"])
    assert session_result["active"] is True and session_result["token_type"] == "session_token"


def test_static_tokens_introspect_too(world, issue, trusted_party):
    body = issue(kind="static", verbs=["GET"], session_key=trusted_party.public_key().hex())
    assert _introspect(world["service"], body["neofs_token"]["binary"])["active"] is True


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "sa1.x.y", "AAAA", f"sa1.{uuid.uuid4()}.{'z' * 43}"]
)
def test_unknown_tokens_are_inactive(world, token):
    if token:
        assert _introspect(world["service"], token) == {"active": False}
    else:
        assert world["service"].post("/api/v1/introspect", {"token": token}).status_code == 400


def test_other_tenants_tokens_are_inactive(world, issue):
    session = issue()
    access = _access_token(world, session)
    assert _introspect(world["globex_service"], access) == {"active": False}
    assert _introspect(world["globex_service"], session["token"]) == {"active": False}


def test_cancel_makes_issued_access_tokens_inactive_at_once(world, issue):
    session = issue()
    access = _access_token(world, session)
    world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert _introspect(world["service"], access) == {"active": False}
    assert _introspect(world["service"], session["token"]) == {"active": False}


def test_a_changed_character_of_an_access_token_is_inactive(world, issue):
    access = _access_token(world, issue())
    header, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert _introspect(world["service"], f"{header}.{payload}.{flipped}") == {"active": False}


def test_unauthenticated_introspection_is_401(world, issue):
    assert world["anonymous"].post("/api/v1/introspect", {"token": "x"}).status_code == 401


def test_revoking_an_access_token_denylists_it_until_expiry(world, issue):
    session = issue()
    access = _access_token(world, session)
    assert world["service"].post("/api/v1/revoke", {"token": access}).status_code == 200
    assert _introspect(world["service"], access) == {"active": False}
    fresh = _access_token(world, session)  # the cached, revoked one is not handed out again
    assert fresh != access and _introspect(world["service"], fresh)["active"] is True


def test_revoking_a_session_token_cancels_the_session(world, issue):
    session = issue()
    assert world["service"].post("/api/v1/revoke", {"token": session["token"]}).status_code == 200
    assert Session.objects.get(pk=session["id"]).cancelled_at is not None


def test_revoking_unknown_or_foreign_tokens_is_a_quiet_200(world, issue):
    session = issue()
    assert world["service"].post("/api/v1/revoke", {"token": "nonsense"}).status_code == 200
    assert (
        world["globex_service"].post("/api/v1/revoke", {"token": session["token"]}).status_code
        == 200
    )
    assert Session.objects.get(pk=session["id"]).cancelled_at is None


def test_introspection_spends_at_most_three_queries(world, issue, django_assert_max_num_queries):
    """Two to answer, and the decision's audit row."""
    session = issue()
    access = _access_token(world, session)
    _introspect(world["service"], access)  # warm the per-process key caches
    _introspect(world["service"], session["token"])
    with django_assert_max_num_queries(3):
        assert _introspect(world["service"], access)["active"] is True
    with django_assert_max_num_queries(3):
        assert _introspect(world["service"], session["token"])["active"] is True


def test_trade_proof_is_bound_to_the_session(world, issue, trusted_party):
    """A proof made for one static session does not trade another."""
    first = issue(kind="static", verbs=["GET"], session_key=trusted_party.public_key().hex())
    second = issue(kind="static", verbs=["GET"], session_key=trusted_party.public_key().hex())
    moment = int(time.time())
    signature = trusted_party.sign(
        proof_message(uuid.UUID(first["id"]), moment, "bound-nonce"), Scheme.ECDSA_RFC6979_SHA256
    )
    proof = {
        "time": moment,
        "nonce": "bound-nonce",
        "signature": base64.b64encode(signature).decode(),
    }
    response = world["anonymous"].post(
        "/api/v1/trade",
        {"subject_token": second["neofs_token"]["binary"], "proof": proof},
        format="json",
    )
    assert response.status_code == 401


def test_tokens_of_a_destroyed_signing_key_introspect_inactive_at_once(world, issue):
    """Destroying the access-token key (a compromise) ends its tokens in this process at once,
    however recently introspection cached the key."""
    from hsm.models import KeyPurpose, KeyRecord
    from hsm.services import key_destroy

    session = issue()
    access = _access_token(world, session)
    assert _introspect(world["service"], access)["active"] is True  # the key is now cached
    key_destroy(key=KeyRecord.objects.get(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING))
    assert _introspect(world["service"], access) == {"active": False}


def test_another_process_stops_trusting_a_destroyed_key_within_key_ttl(world, issue, monkeypatch):
    """This process hears no event when another one destroys the key: the verifying-key cache
    lets the key go after KEY_TTL, and the destroyed key verifies nothing from then on."""
    from django.utils import timezone

    from authority import lru
    from authority.caches import KEY_TTL
    from hsm.models import KeyPurpose, KeyRecord, KeyState

    session = issue()
    access = _access_token(world, session)
    later = _access_token(world, issue())  # not introspected yet
    assert _introspect(world["service"], access)["active"] is True  # the key is now cached
    started = lru._clock()
    KeyRecord.objects.filter(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING).update(
        state=KeyState.DESTROYED, destroyed_at=timezone.now()
    )
    assert _introspect(world["service"], access)["active"] is True  # within the stated bound
    # a token first seen late in the bound, while the destroyed key is still in memory, is
    # trusted no longer than the key is: its remembered check ends with the key's entry
    monkeypatch.setattr(lru, "_clock", lambda: started + KEY_TTL - 1)
    assert _introspect(world["service"], later)["active"] is True
    monkeypatch.setattr(lru, "_clock", lambda: started + KEY_TTL + 1)
    assert _introspect(world["service"], access) == {"active": False}
    assert _introspect(world["service"], later) == {"active": False}


def test_a_viewer_may_introspect_but_not_revoke(world, issue):
    session = issue()
    access = _access_token(world, session)
    assert _introspect(world["viewer"], access)["active"] is True  # viewers read
    for token in (access, session["token"]):
        refused = world["viewer"].post("/api/v1/revoke", {"token": token})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert _introspect(world["service"], access)["active"] is True
    assert Session.objects.get(pk=session["id"]).cancelled_at is None


def test_a_remembered_access_token_still_expires_and_keeps_its_audience(world, issue, monkeypatch):
    """The signature of an access token is checked once per process (tokens.services.
    access_tokens): its lifetime and audience are judged again on every use."""
    import jwt

    from tokens.services import access_tokens

    session = issue()
    access = _access_token(world, session)
    assert _introspect(world["service"], access)["active"] is True  # checked and remembered
    claims, reason = access_tokens.access_token_check(access, audience="someone-else")
    assert (claims, reason) == (None, "bad_access_token")
    audience = jwt.decode(access, options={"verify_signature": False})["aud"]
    assert access_tokens.access_token_check(access, audience=audience)[1] == ""
    expires = jwt.decode(access, options={"verify_signature": False})["exp"]
    monkeypatch.setattr(access_tokens.time, "time", lambda: float(expires))
    assert access_tokens.access_token_check(access) == (None, "expired")
    assert _introspect(world["service"], access) == {"active": False}
    monkeypatch.setattr(access_tokens.time, "time", lambda: float(expires) - 3600 * 24)
    assert access_tokens.access_token_check(access) == (None, "not_yet_valid")
