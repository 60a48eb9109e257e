"""Trading session tokens for access tokens: JWTs that verify against the JWKS alone, scoping,
caching that never outlives a cancel, proof of possession, tampering, and the RFC 8693 form."""

from __future__ import annotations

import base64
import time
import uuid

import jwt
import pytest

from hsm.models import KeyPurpose
from hsm.services import key_rotate
from tokens.services.proof import proof_message
from tokens.wire.signature import Scheme

pytestmark = pytest.mark.django_db


def _trade(world, token, **extra):
    return world["anonymous"].post(
        "/api/v1/trade", {"subject_token": token, **extra}, format="json"
    )


def _verify_with_jwks(world, access_token):
    document = world["anonymous"].get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(access_token)["kid"]
    jwk = next(k for k in document["keys"] if k["kid"] == kid)
    key = jwt.PyJWK(jwk).key
    return jwt.decode(access_token, key=key, algorithms=["ES256"], audience="neofs")


def test_trade_yields_an_rfc9068_jwt_verifiable_with_the_jwks_alone(world, issue):
    session = issue()
    response = _trade(world, session["token"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "GET HEAD"
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    claims = _verify_with_jwks(world, body["access_token"])
    assert claims["sid"] == session["id"]
    assert claims["sub"] == world["acme"].neofs_owner_id
    assert claims["cid"] == world["container"].container_id
    assert claims["scope"] == "GET HEAD" and claims["iss"] == "session-authority"
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert {"jti", "nbf", "client_id", "aud"} <= set(claims)


def test_access_token_never_outlives_the_session(world, issue, settings):
    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 120, "ACCESS_TOKEN_TTL": 900}
    session = issue()
    claims = _verify_with_jwks(world, _trade(world, session["token"]).json()["access_token"])
    expires_at = __import__("datetime").datetime.fromisoformat(session["expires_at"])
    assert claims["exp"] <= expires_at.timestamp()


def test_narrower_scope_is_granted_and_broader_is_refused(world, issue):
    session = issue(verbs=["GET", "HEAD", "SEARCH"])
    narrow = _trade(world, session["token"], scope="HEAD")
    assert narrow.json()["scope"] == "HEAD"
    broad = _trade(world, session["token"], scope="GET PUT")
    assert broad.status_code == 400 and "scope" in broad.json()["fields"]


def _cancel_here(world, session):
    cancel = world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"


def _cancel_elsewhere(world, session):
    """As another process would: the row changes, this process's caches hear nothing."""
    from django.utils import timezone

    from tokens.models import Session

    Session.objects.filter(pk=session["id"]).update(cancelled_at=timezone.now())


def _expire(world, session):
    from django.utils import timezone

    from tokens.models import Session

    Session.objects.filter(pk=session["id"]).update(expires_at=timezone.now())


def _expire_and_sweep(world, session):
    from tokens.services.expiry import session_expiry_sweep

    _expire(world, session)
    assert session_expiry_sweep().sessions_expired == 1


@pytest.mark.parametrize("end", [_cancel_here, _cancel_elsewhere, _expire, _expire_and_sweep])
def test_zero_lag_cancel_and_expiry_stop_the_next_trade_whatever_is_cached(world, issue, end):
    """Every per-process cache of the trade is warm (known session, confirmed secret, issued
    token, keys); the session ends; the very next trade is refused and records nothing, and
    its access tokens introspect inactive."""
    session = issue()
    first = _trade(world, session["token"]).json()["access_token"]
    assert _trade(world, session["token"]).json()["access_token"] == first  # from the cache
    end(world, session)
    after = _trade(world, session["token"])
    assert after.status_code == 409 and after.json()["error"] == "conflict"
    assert len(_trade_rows(session["id"])) == 2
    introspected = world["service"].post("/api/v1/introspect", {"token": first})
    assert introspected.json() == {"active": False}


def test_zero_lag_revocation_retires_the_cached_access_token_at_the_next_trade(world, issue):
    session = issue()
    first = _trade(world, session["token"]).json()["access_token"]
    assert world["service"].post("/api/v1/revoke", {"token": first}).status_code == 200
    again = _trade(world, session["token"]).json()["access_token"]
    assert again != first
    assert world["service"].post("/api/v1/introspect", {"token": again}).json()["active"] is True


def test_a_destroyed_signing_key_is_never_handed_out_again(world, issue):
    """Destroying the access-token key evicts the tokens it signed from this process's cache:
    the next trade signs with a new key, and its token verifies with the JWKS."""
    from hsm.models import KeyRecord
    from hsm.services import key_destroy

    session = issue()
    first = _trade(world, session["token"]).json()["access_token"]
    key_destroy(key=KeyRecord.objects.get(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING))
    response = _trade(world, session["token"])
    assert response.status_code == 200, response.content
    again = response.json()["access_token"]
    assert jwt.get_unverified_header(again)["kid"] != jwt.get_unverified_header(first)["kid"]
    _verify_with_jwks(world, again)


@pytest.mark.parametrize("position", range(0, 80, 7))
def test_any_changed_character_of_a_delegation_token_is_refused(world, issue, position):
    token = issue()["token"]
    index = position % len(token)
    changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    response = _trade(world, changed)
    assert response.status_code in (400, 401), response.content


def test_unknown_and_wrong_secret_look_the_same(world, issue):
    token = issue()["token"]
    wrong_secret = token.rsplit(".", 1)[0] + "." + "x" * 43
    unknown = f"sa1.{uuid.uuid4()}.{'y' * 43}"
    first, second = _trade(world, wrong_secret), _trade(world, unknown)
    assert first.status_code == second.status_code == 401
    assert first.json() == second.json()


def _static(world, issue, trusted_party):
    body = issue(kind="static", verbs=["GET"], session_key=trusted_party.public_key().hex())
    return body, body["neofs_token"]["binary"]


def _proof(trusted_party, session_id, nonce="nonce-0001", at=None):
    moment = int(at if at is not None else time.time())
    signature = trusted_party.sign(
        proof_message(uuid.UUID(session_id), moment, nonce), Scheme.ECDSA_RFC6979_SHA256
    )
    return {"time": moment, "nonce": nonce, "signature": base64.b64encode(signature).decode()}


def test_static_token_trades_with_proof_of_possession(world, issue, trusted_party):
    body, token = _static(world, issue, trusted_party)
    response = _trade(world, token, proof=_proof(trusted_party, body["id"]))
    assert response.status_code == 200, response.content
    assert _verify_with_jwks(world, response.json()["access_token"])["sid"] == body["id"]


def test_proof_replay_is_refused(world, issue, trusted_party):
    body, token = _static(world, issue, trusted_party)
    proof = _proof(trusted_party, body["id"], nonce="same-nonce")
    assert _trade(world, token, proof=proof).status_code == 200
    replay = _trade(world, token, proof=proof)
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]


@pytest.mark.parametrize("skew", [-120, 120])
def test_proof_outside_the_time_window_is_refused(world, issue, trusted_party, skew):
    body, token = _static(world, issue, trusted_party)
    proof = _proof(trusted_party, body["id"], at=time.time() + skew)
    assert _trade(world, token, proof=proof).status_code == 401


def test_proof_by_another_key_or_none_is_refused(world, issue, trusted_party):
    from tokens.wire.signature import SoftwareSigner

    body, token = _static(world, issue, trusted_party)
    assert _trade(world, token).status_code == 401
    assert _trade(world, token, proof=_proof(SoftwareSigner(), body["id"])).status_code == 401


def test_any_changed_byte_of_a_static_token_is_refused(world, issue, trusted_party):
    body, token = _static(world, issue, trusted_party)
    raw = base64.b64decode(token)
    for index in range(0, len(raw), 9):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        response = _trade(
            world,
            base64.b64encode(bytes(changed)).decode(),
            proof=_proof(trusted_party, body["id"], nonce=f"nonce-{index:04d}"),
        )
        assert response.status_code == 401, index


def test_rfc8693_token_exchange(world, issue):
    world["acme"].access_token_audiences = "storage.example"
    world["acme"].save()
    session = issue()
    response = world["anonymous"].post(
        "/api/v1/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": session["token"],
            "subject_token_type": "urn:session-authority:token-type:delegation",
            "scope": "GET",
            "audience": "storage.example",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["token_type"] == "Bearer" and body["scope"] == "GET" and body["expires_in"] > 0
    assert response["Cache-Control"] == "no-store"
    claims = jwt.decode(
        body["access_token"], options={"verify_signature": False}, algorithms=["ES256"]
    )
    assert claims["aud"] == "storage.example"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"subject_token_type": "urn:x"}, "invalid_request"),
        (
            {"subject_token": "sa1.nonsense.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
            "invalid_grant",
        ),
        ({"scope": "DELETE"}, "invalid_scope"),
    ],
)
def test_rfc8693_errors(world, issue, form, error):
    base = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": issue()["token"],
        "subject_token_type": "urn:session-authority:token-type:delegation",
    }
    response = world["anonymous"].post("/api/v1/token", {**base, **form})
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error


def test_retired_keys_stay_in_the_jwks_and_old_tokens_verify(world, issue):
    session = issue()
    old = _trade(world, session["token"]).json()["access_token"]
    key_rotate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    new_session = issue()
    new = _trade(world, new_session["token"]).json()["access_token"]
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    assert len(world["anonymous"].get("/.well-known/jwks.json").json()["keys"]) == 2
    _verify_with_jwks(world, old)
    _verify_with_jwks(world, new)


def test_trade_spends_at_most_three_queries_and_a_repeat_one(
    world, issue, django_assert_max_num_queries, django_assert_num_queries
):
    session = issue()
    _trade(world, session["token"])  # warm the per-process key caches
    with django_assert_max_num_queries(3):
        assert _trade(world, session["token"], scope="HEAD").status_code == 200  # fresh signature
    with django_assert_num_queries(1):  # the session's state checked as the trade is recorded
        assert _trade(world, session["token"], scope="HEAD").status_code == 200


def _trade_rows(session_id):
    from authority.models import AuditEvent

    return list(
        AuditEvent.objects.filter(action="session.trade", object_id=session_id).order_by("id")
    )


def test_every_trade_is_recorded_and_a_refused_one_is_not(world, issue):
    from authority.services.audit import audit_chain_verify, token_fingerprint

    session = issue()
    tokens = [_trade(world, session["token"]).json()["access_token"] for _ in range(3)]
    rows = _trade_rows(session["id"])
    assert [row.detail["cached"] for row in rows] == [False, True, True]
    assert [row.token_fingerprint for row in rows] == [token_fingerprint(t) for t in tokens]
    assert {row.owner_id for row in rows} == {world["acme"].pk}
    assert audit_chain_verify() == []  # the one-statement rows carry valid MACs
    world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert _trade(world, session["token"]).status_code == 409
    assert len(_trade_rows(session["id"])) == 3


def test_a_wrong_secret_never_rides_on_a_known_session(world, issue):
    token = issue()["token"]
    assert _trade(world, token).status_code == 200  # the session is now known to this process
    wrong = token.rsplit(".", 1)[0] + "." + "x" * 43
    assert _trade(world, wrong).status_code == 401


def test_a_renewed_session_keeps_trading_in_one_statement(world, issue, django_assert_num_queries):
    session = issue()
    first = _trade(world, session["token"]).json()["access_token"]
    assert world["operator"].post(f"/api/v1/sessions/{session['id']}/renew").status_code == 200
    with django_assert_num_queries(1):
        assert _trade(world, session["token"]).json()["access_token"] == first


@pytest.mark.django_db(transaction=True)
def test_the_one_statement_commits_by_itself_and_leaves_the_connection_as_it_was(world, issue):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("asynchronous commit is PostgreSQL's")
    session = issue()
    _trade(world, session["token"])
    assert _trade(world, session["token"]).status_code == 200
    assert not connection.in_atomic_block and len(_trade_rows(session["id"])) == 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # set_config(..., true) ended with its statement


def test_trade_is_throttled_per_client(world, issue, monkeypatch):
    from tokens.api.throttles import TradeThrottle

    session = issue()
    monkeypatch.setattr(TradeThrottle, "rate", "2/minute", raising=False)
    statuses = [_trade(world, session["token"]) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2]["Retry-After"] and statuses[2].json()["error"] == "throttled"


def test_malformed_trade_input_is_400(world):
    for body in ({}, {"subject_token": ""}, {"subject_token": "x", "proof": {"time": "soon"}}):
        response = world["anonymous"].post("/api/v1/trade", body, format="json")
        assert response.status_code == 400, body


def test_an_unreachable_cache_answers_503_with_retry_after(world, issue, settings):
    session = issue()
    settings.CACHES = {
        "default": {"BACKEND": "authority.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = _trade(world, session["token"])
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"] == "unavailable"


def test_a_database_outage_answers_503_not_500(world, issue, monkeypatch):
    from django.db import OperationalError

    from tokens.api import trade

    session = issue()

    def outage(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(trade, "access_token_trade", outage)
    response = _trade(world, session["token"])
    assert response.status_code == 503 and response.json()["error"] == "unavailable"


def test_audiences_come_from_the_owners_allow_list(world, issue):
    from authority.principals import SYSTEM
    from authority.services.owners import owner_update

    session = issue()
    refused = _trade(world, session["token"], audience="attacker.example")
    assert refused.status_code == 400 and refused.json()["fields"] == {
        "audience": "The session's owner does not allow this audience."
    }
    exchange = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": session["token"],
        "subject_token_type": "urn:session-authority:token-type:delegation",
    }
    for field in ("audience", "resource"):
        answer = world["anonymous"].post("/api/v1/token", {**exchange, field: "attacker.example"})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_target"
    default = _trade(world, session["token"])  # ACCESS_TOKEN_AUDIENCE is always allowed
    assert (
        jwt.decode(default.json()["access_token"], options={"verify_signature": False})["aud"]
        == "neofs"
    )
    owner_update(
        actor=SYSTEM,
        owner=world["acme"],
        changes={"access_token_audiences": " gw.example\nstorage.example gw.example"},
    )
    world["acme"].refresh_from_db()
    assert world["acme"].access_token_audiences == "gw.example\nstorage.example"
    allowed = _trade(world, session["token"], audience="gw.example")
    assert allowed.status_code == 200
    claims = jwt.decode(allowed.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "gw.example"
    assert _trade(world, session["token"], audience="attacker.example").status_code == 400


def test_an_unauthenticated_trade_learns_nothing_of_the_allow_list(world):
    response = _trade(world, "sa1.unknown.secret", audience="attacker.example")
    assert response.status_code == 401


def test_audience_lists_are_bounded(world):
    from authority.errors import InvalidInput
    from authority.principals import SYSTEM
    from authority.services.owners import owner_update

    for text in (" ".join(f"a{i}" for i in range(33)), "x" * 201, "tab\x07bell"):
        with pytest.raises(InvalidInput):
            owner_update(
                actor=SYSTEM, owner=world["acme"], changes={"access_token_audiences": text}
            )
