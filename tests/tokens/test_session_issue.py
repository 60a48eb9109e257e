"""Issuing sessions: delegation tokens returned once and stored as an HMAC, static NeoFS tokens
signed in the HSM, and who may delegate what."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from authority.epoch import epoch_at
from authority.models import AuditEvent
from tokens.models import Session
from tokens.wire.ids import OwnerID
from tokens.wire.session import ObjectContext, ObjectVerb, SessionToken
from tokens.wire.token import Check

pytestmark = pytest.mark.django_db


def test_delegation_token_is_returned_once_and_stored_as_an_hmac(world, issue):
    body = issue()
    token = body["token"]
    prefix, session_id, secret = token.split(".")
    assert prefix == "sa1" and session_id == body["id"]
    assert len(base64.urlsafe_b64decode(secret + "==")) >= 32  # ≥ 256 bits
    session = Session.objects.get(pk=session_id)
    assert secret not in session.secret_digest and len(session.secret_digest) == 64
    assert "token" not in world["operator"].get(f"/api/v1/sessions/{session_id}").json()
    event = AuditEvent.objects.get(action="session.issue", object_id=session_id)
    assert event.token_fingerprint and secret not in str(event.detail) + event.token_fingerprint


def test_lifetimes_follow_renew_period_and_max_lifetime(world, issue, settings):
    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 3600, "SESSION_MAX_LIFETIME": 7200}
    body = issue()
    created = dt.datetime.fromisoformat(body["created_at"])
    assert dt.datetime.fromisoformat(body["expires_at"]) - created == dt.timedelta(hours=1)
    assert dt.datetime.fromisoformat(body["max_expires_at"]) - created == dt.timedelta(hours=2)
    short = issue(lifetime=600)
    assert dt.datetime.fromisoformat(short["max_expires_at"]) == dt.datetime.fromisoformat(
        short["expires_at"]
    )


def test_per_owner_overrides(world, issue):
    world["acme"].renew_period = 60
    world["acme"].save()
    body = issue()
    created = dt.datetime.fromisoformat(body["created_at"])
    assert dt.datetime.fromisoformat(body["expires_at"]) - created == dt.timedelta(seconds=60)


def test_static_token_is_signed_by_the_owner_key_for_the_trusted_party(world, issue, trusted_party):
    body = issue(kind="static", verbs=["PUT"], session_key=trusted_party.public_key().hex())
    token = SessionToken.decode(base64.b64decode(body["neofs_token"]["binary"]))
    assert token.check() is Check.OK
    assert token.body.owner_id == OwnerID.from_string(world["acme"].neofs_owner_id)
    assert token.body.session_key == trusted_party.public_key()
    assert token.body.id == Session.objects.get(pk=body["id"]).id.bytes
    assert isinstance(token.body.context, ObjectContext)
    assert token.body.context.verb == ObjectVerb.PUT
    assert token.body.context.container.value == bytes(world["container"].cid)
    max_expiry = dt.datetime.fromisoformat(body["max_expires_at"])
    assert token.body.lifetime.exp == epoch_at(max_expiry)
    assert SessionToken.from_json(body["neofs_token"]["json"]) == token


def test_service_accounts_delegate_too(world, issue):
    body = issue(client=world["service"])
    assert body["subject"].startswith("app:") and body["renewer"] == body["subject"]


def test_renewer_can_be_another_principal_of_the_owner(world, issue):
    renewer = world["operator_user"].username
    body = issue(client=world["admin"], renewer=f"user:{renewer}")
    assert body["renewer"] == f"user:{renewer}"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"verbs": ["FLY"]}, 400, "verbs"),
        ({"verbs": []}, 400, "verbs"),
        ({"verbs": ["GET", "GET"]}, 400, "verbs"),
        ({"context": "container", "verbs": ["GET"]}, 400, "verbs"),
        ({"context": "container", "verbs": ["SETEACL"], "objects": ["x"]}, 400, "objects"),
        ({"objects": ["not-an-object-id"]}, 400, "objects[0]"),
        ({"kind": "static", "verbs": ["PUT"]}, 400, "session_key"),
        (
            {"kind": "static", "verbs": ["PUT", "GET"], "session_key": "02" + "11" * 32},
            400,
            "verbs",
        ),
        ({"session_key": "04" + "11" * 32}, 400, "session_key"),
        ({"renewer": "user:nobody"}, 400, "renewer"),
        ({"lifetime": 0}, 400, "lifetime"),
        ({"kind": "dynamic"}, 400, "kind"),
    ],
)
def test_bad_requests_name_the_field(world, body, status, field):
    payload = {"verbs": ["GET"], "container": world["container"].container_id, **body}
    response = world["operator"].post("/api/v1/sessions", payload, format="json")
    assert response.status_code == status, response.content
    assert field in response.json()["fields"], response.json()


def test_viewers_may_not_delegate(world):
    response = world["viewer"].post(
        "/api/v1/sessions",
        {"verbs": ["GET"], "container": world["container"].container_id},
        format="json",
    )
    assert response.status_code == 403


def test_another_tenants_container_or_renewer_is_invisible(world):
    foreign = world["globex_container"].container_id
    response = world["operator"].post(
        "/api/v1/sessions", {"verbs": ["GET"], "container": foreign}, format="json"
    )
    assert response.status_code == 404
    assert not Session.objects.exists()


def test_wildcard_container_session(world, issue):
    body = issue(context="container", verbs=["PUT"], container=None)
    assert body["container"] is None and body["context"] == "container"


def test_an_owner_with_its_own_wallet_cannot_get_static_tokens_signed(world, trusted_party):
    world["acme"].signs_own_tokens = True
    world["acme"].save()
    response = world["operator"].post(
        "/api/v1/sessions",
        {
            "kind": "static",
            "verbs": ["PUT"],
            "container": world["container"].container_id,
            "session_key": trusted_party.public_key().hex(),
        },
        format="json",
    )
    assert response.status_code == 409
