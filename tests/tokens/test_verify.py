"""The policy decision point, walked through the seeds' flows and a table of reasons."""

from __future__ import annotations

import base64
import os

import pytest

from authority.epoch import current_epoch
from hsm.models import KeyPurpose
from hsm.signer import HSMSigner
from tests.factories import ContainerFactory
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerBody, BearerToken
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.ids import ContainerID, ObjectID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.session import (
    ContainerContext,
    ContainerVerb,
    ObjectContext,
    ObjectVerb,
    SessionBody,
    SessionToken,
)
from tokens.wire.signature import SoftwareSigner

pytestmark = pytest.mark.django_db

PARTY = SoftwareSigner()
OTHER = SoftwareSigner()


def _b64(token) -> str:
    return base64.b64encode(token.encode()).decode()


def _verify(world, **body):
    payload = {
        "kind": "object",
        "verb": "GET",
        "container": world["container"].container_id,
        **body,
    }
    response = world["operator"].post("/api/v1/verify", payload, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _owner_signer(world):
    return HSMSigner(world["acme"].keys.get(purpose=KeyPurpose.OWNER_SIGNING))


def _session(
    world,
    *,
    verb=ObjectVerb.GET,
    container=None,
    objects=(),
    lifetime=None,
    key=None,
    signer=None,
    context=None,
):
    epoch = current_epoch()
    body = SessionBody(
        id=os.urandom(16),
        owner_id=OwnerID.from_string(world["acme"].neofs_owner_id),
        lifetime=lifetime or Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
        session_key=(key or PARTY).public_key(),
        context=context
        or ObjectContext(verb, container or ContainerID(bytes(world["container"].cid)), objects),
    )
    return SessionToken(body).signed(signer or _owner_signer(world))


def _bearer(
    world,
    rules="deny get obj:Classification=secret others",
    receiver=None,
    lifetime=None,
    container=None,
    signer=None,
):
    epoch = current_epoch()
    body = BearerBody(
        eacl_table=wire.Table(
            container or ContainerID(bytes(world["container"].cid)), parse_rules(rules)
        ),
        owner_id=receiver,
        lifetime=lifetime or Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
        issuer=OwnerID.from_string(world["acme"].neofs_owner_id),
    )
    return BearerToken(body).signed(signer or _owner_signer(world))


def test_dynamic_session_flow(world):
    created = world["operator"].post("/api/v1/sessions/dynamic", {}, format="json").json()
    blank = SessionToken.decode(base64.b64decode(created["blank_token"]["binary"]))
    body = SessionBody(
        id=blank.body.id, owner_id=OwnerID.from_string(world["acme"].neofs_owner_id),
        lifetime=blank.body.lifetime, session_key=blank.body.session_key,
        context=ObjectContext(ObjectVerb.PUT, ContainerID(bytes(world["container"].cid))),
    )  # fmt: skip
    done = (
        world["operator"]
        .post(
            f"/api/v1/sessions/{created['id']}/complete",
            {"token": _b64(SessionToken(body))},
            format="json",
        )
        .json()
    )
    token = done["neofs_token"]["binary"]
    key = created["session_key"]
    inside = _verify(world, verb="PUT", session_token=token, requester_key=key)
    assert inside == {"decision": "allow", "reason": "allowed", "record": None}
    assert (
        _verify(world, verb="DELETE", session_token=token, requester_key=key)["reason"]
        == "verb_not_allowed"
    )
    other = ContainerFactory(owner=world["acme"]).container_id
    assert (
        _verify(world, verb="PUT", container=other, session_token=token, requester_key=key)[
            "reason"
        ]
        == "wrong_container"
    )
    world["operator"].post(f"/api/v1/sessions/{created['id']}/cancel")
    assert _verify(world, verb="PUT", session_token=token, requester_key=key)["reason"] == "revoked"


def test_static_token_for_a_trusted_party(world, issue):
    body = issue(kind="static", verbs=["GET"], session_key=PARTY.public_key().hex())
    token = body["neofs_token"]["binary"]
    assert (
        _verify(world, session_token=token, requester_key=PARTY.public_key().hex())["decision"]
        == "allow"
    )
    assert (
        _verify(world, session_token=token, requester_key=OTHER.public_key().hex())["reason"]
        == "session_key_mismatch"
    )


def test_bearer_grant_flow(world):
    receiver = OwnerID.from_public_key(PARTY.public_key())
    grant = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": world["container"].container_id, "receiver": str(receiver),
         "rules": ["deny get obj:Classification=secret others"]},
        format="json",
    ).json()  # fmt: skip
    token = grant["token"]["binary"]
    asked = {"bearer_token": token, "requester_key": PARTY.public_key().hex()}
    secret = _verify(world, object_headers={"Classification": "secret"}, **asked)
    assert secret["decision"] == "deny" and secret["reason"] == "eacl_deny"
    assert secret["record"]["rule"] == "deny get obj:Classification=secret others"
    assert (
        _verify(world, object_headers={"Classification": "public"}, **asked)["decision"] == "allow"
    )
    world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert (
        _verify(world, object_headers={"Classification": "public"}, **asked)["reason"] == "revoked"
    )


def _cases():
    epoch_cases = [
        (
            "expired session",
            lambda w: {"session_token": _b64(_session(w, lifetime=Lifetime(exp=1, nbf=0, iat=0)))},
            "expired",
        ),
        (
            "future session",
            lambda w: {
                "session_token": _b64(_session(w, lifetime=Lifetime(exp=10**9, nbf=10**8, iat=0)))
            },
            "not_yet_valid",
        ),
    ]
    return [
        ("session ok", lambda w: {"session_token": _b64(_session(w)), "requester_key": PARTY.public_key().hex()}, "allowed"),
        ("head by get token", lambda w: {"verb": "HEAD", "session_token": _b64(_session(w))}, "allowed"),
        ("head by delete token", lambda w: {"verb": "HEAD", "session_token": _b64(_session(w, verb=ObjectVerb.DELETE))}, "allowed"),
        ("search by delete token", lambda w: {"verb": "SEARCH", "session_token": _b64(_session(w, verb=ObjectVerb.DELETE))}, "allowed"),
        ("put by get token", lambda w: {"verb": "PUT", "session_token": _b64(_session(w))}, "verb_not_allowed"),
        ("object listed", lambda w: {"object": str(ObjectID(b"\x01" * 32)), "session_token": _b64(_session(w, objects=(ObjectID(b"\x01" * 32),)))}, "allowed"),
        ("object not listed", lambda w: {"object": str(ObjectID(b"\x02" * 32)), "session_token": _b64(_session(w, objects=(ObjectID(b"\x01" * 32),)))}, "object_not_in_session"),
        ("empty object list", lambda w: {"object": str(ObjectID(b"\x02" * 32)), "session_token": _b64(_session(w))}, "allowed"),
        ("foreign issuer key", lambda w: {"session_token": _b64(_session(w, signer=OTHER))}, "issuer_mismatch"),
        ("container token for object op", lambda w: {"session_token": _b64(_session(w, context=ContainerContext(ContainerVerb.PUT, wildcard=True)))}, "wrong_context"),
        ("wildcard container session", lambda w: {"kind": "container", "verb": "PUT", "session_token": _b64(_session(w, context=ContainerContext(ContainerVerb.PUT, wildcard=True)))}, "allowed"),
        ("container verb mismatch", lambda w: {"kind": "container", "verb": "DELETE", "session_token": _b64(_session(w, context=ContainerContext(ContainerVerb.PUT, wildcard=True)))}, "verb_not_allowed"),
        ("container op without session", lambda w: {"kind": "container", "verb": "PUT", "requester_key": OTHER.public_key().hex()}, "not_owner"),
        *epoch_cases,
        ("bearer to anyone, public", lambda w: {"bearer_token": _b64(_bearer(w)), "object_headers": {"Classification": "public"}}, "allowed"),
        ("bearer secret denied", lambda w: {"bearer_token": _b64(_bearer(w)), "object_headers": {"Classification": "secret"}}, "eacl_deny"),
        ("bearer wrong receiver", lambda w: {"bearer_token": _b64(_bearer(w, receiver=OwnerID.from_public_key(PARTY.public_key()))), "requester_key": OTHER.public_key().hex()}, "bearer_not_for_receiver"),
        ("bearer not from owner", lambda w: {"bearer_token": _b64(_bearer_by_stranger(w))}, "bearer_issuer_not_owner"),
        ("bearer for other container", lambda w: {"bearer_token": _b64(_bearer(w, container=ContainerID(b"\x09" * 32)))}, "wrong_container"),
        ("bearer expired", lambda w: {"bearer_token": _b64(_bearer(w, lifetime=Lifetime(exp=1)))}, "expired"),
        ("NOT_PRESENT matches absent", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:Tag= others"))}, "eacl_deny"),
        ("!= never matches absent", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:Tag!=x others"))}, "allowed"),
        ("NUM_GT on big integers", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:Size>18446744073709551616 others")), "object_headers": {"Size": "18446744073709551617"}}, "eacl_deny"),
        ("first match allows", lambda w: {"bearer_token": _b64(_bearer(w, "allow get others\ndeny get others"))}, "allowed"),
        ("first match denies", lambda w: {"bearer_token": _b64(_bearer(w, "deny get others\nallow get others"))}, "eacl_deny"),
        ("user role skips others rule", lambda w: {"bearer_token": _b64(_bearer(w, "deny get others")), "requester_account": w["acme"].neofs_owner_id}, "allowed"),
        ("request header filter", lambda w: {"bearer_token": _b64(_bearer(w, "deny get req:X=1 others")), "request_headers": {"X": "1"}}, "eacl_deny"),
        ("range by rangehash token", lambda w: {"verb": "RANGE", "session_token": _b64(_session(w, verb=ObjectVerb.RANGEHASH))}, "allowed"),
        ("rangehash by range token", lambda w: {"verb": "RANGEHASH", "session_token": _b64(_session(w, verb=ObjectVerb.RANGE))}, "verb_not_allowed"),
        ("put by delete token", lambda w: {"verb": "PUT", "session_token": _b64(_session(w, verb=ObjectVerb.DELETE))}, "allowed"),
        ("get by head token", lambda w: {"verb": "GET", "session_token": _b64(_session(w, verb=ObjectVerb.HEAD))}, "verb_not_allowed"),
        ("RANGE maps to GETRANGE", lambda w: {"verb": "RANGE", "bearer_token": _b64(_bearer(w, "deny getrange others"))}, "eacl_deny"),
        ("NUM_LE boundary", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:N<=10 others")), "object_headers": {"N": "10"}}, "eacl_deny"),
        ("NUM_LT boundary", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:N<10 others")), "object_headers": {"N": "10"}}, "allowed"),
        ("NUM on non-number", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:N>=1 others")), "object_headers": {"N": "one"}}, "allowed"),
        ("!= with another value", lambda w: {"bearer_token": _b64(_bearer(w, "deny get obj:Tag!=x others")), "object_headers": {"Tag": "y"}}, "eacl_deny"),
        ("pubkey target", lambda w: {"bearer_token": _b64(_bearer(w, f"deny get pubkey:{PARTY.public_key().hex()}")), "requester_key": PARTY.public_key().hex()}, "eacl_deny"),
        ("address target misses others", lambda w: {"bearer_token": _b64(_bearer(w, f"deny get address:{OwnerID.from_public_key(PARTY.public_key())}")), "requester_key": OTHER.public_key().hex()}, "allowed"),
        ("session valid on its exp epoch", lambda w: {"epoch": current_epoch() + 5, "session_token": _b64(_session(w))}, "allowed"),
        ("session past its exp epoch", lambda w: {"epoch": current_epoch() + 6, "session_token": _b64(_session(w))}, "expired"),
        ("tampered session signature", lambda w: {"session_token": _b64(_tampered(_session(w)))}, "bad_signature"),
        ("unsigned session token", lambda w: {"session_token": _b64(SessionToken(_session(w).body))}, "bad_signature"),
        ("JSON session token", lambda w: {"session_token": _session(w).to_json()}, "allowed"),
    ]  # fmt: skip


def _tampered(token):
    from tokens.wire.signature import Signature

    sign = bytearray(token.signature.sign)
    sign[5] ^= 0x01
    return SessionToken(
        token.body, Signature(token.signature.key, bytes(sign), token.signature.scheme)
    )


def _bearer_by_stranger(world):
    stranger = SoftwareSigner()
    epoch = current_epoch()
    body = BearerBody(
        eacl_table=wire.Table(ContainerID(bytes(world["container"].cid)), ()),
        lifetime=Lifetime(exp=epoch + 5),
        issuer=OwnerID.from_public_key(stranger.public_key()),
    )
    return BearerToken(body).signed(stranger)


@pytest.mark.parametrize(("name", "make", "reason"), _cases(), ids=[c[0] for c in _cases()])
def test_decisions(world, name, make, reason):
    assert _verify(world, **make(world))["reason"] == reason


def test_container_eacl_applies_without_a_bearer_token(world, tenant):
    stored = tenant(world["acme"])
    container = stored["container"]
    container.eacl_table = stored["table"]
    container.save()
    result = (
        world["operator"]
        .post(
            "/api/v1/verify",
            {
                "verb": "GET",
                "container": container.container_id,
                "object_headers": {"Classification": "secret"},
            },
            format="json",
        )
        .json()
    )
    assert result["reason"] == "eacl_deny"


def test_bad_input_and_other_tenants(world):
    bad = world["operator"].post(
        "/api/v1/verify",
        {"verb": "FLY", "container": world["container"].container_id},
        format="json",
    )
    assert bad.status_code == 400 and "verb" in bad.json()["fields"]
    garbage = world["operator"].post(
        "/api/v1/verify",
        {"verb": "GET", "container": world["container"].container_id, "session_token": "AAAA"},
        format="json",
    )
    assert garbage.status_code == 400
    foreign = world["operator"].post(
        "/api/v1/verify",
        {"verb": "GET", "container": world["globex_container"].container_id},
        format="json",
    )
    assert foreign.status_code == 404


def test_the_sdk_bearer_vector_is_judged_as_a_node_would(world):
    """The neofs-sdk-go vector's signatures are valid, but its issuer field is not the signing
    key's account: nodes refuse that binding, and so does verify (never `bad_signature`)."""
    from tests.wire import vectors
    from tokens.wire.signature import Scheme, Signature

    body = BearerToken.decode(vectors.BEARER_TOKEN).body
    token = BearerToken(
        body, Signature(vectors.VERIFY_KEY, vectors.BEARER_SIGNATURES[1], Scheme(1))
    )
    result = _verify(world, bearer_token=_b64(token), epoch=vectors.BEARER_NBF)
    assert result["decision"] == "deny" and result["reason"] == "issuer_mismatch"


def test_tokens_made_here_verify_with_an_independent_ecdsa(world):
    import hashlib

    import ecdsa

    from tests.wire.neofs_schema import MESSAGES

    for token, message in ((_session(world), "SessionToken"), (_bearer(world), "BearerToken")):
        parsed = MESSAGES[message].FromString(token.encode())
        body = parsed.body.SerializeToString(deterministic=True)
        key = ecdsa.VerifyingKey.from_string(parsed.signature.key, curve=ecdsa.NIST256p)
        assert key.verify(parsed.signature.sign, body, hashfunc=hashlib.sha256)


def _verify_stored(world, container, classification):
    body = {
        "verb": "GET",
        "container": container.container_id,
        "object_headers": {"Classification": classification},
    }
    response = world["operator"].post("/api/v1/verify", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["reason"]


def test_an_admin_edit_of_a_tables_rules_is_seen_by_the_next_decision(world, tenant):
    """Verify keeps converted tables by version; the admin saves rules through the service,
    which makes a new one."""
    from django.test import Client

    stored = tenant(world["acme"])  # deny get obj:Classification=secret others
    container, table = stored["container"], stored["table"]
    container.eacl_table = table
    container.save()
    assert _verify_stored(world, container, "secret") == "eacl_deny"  # converted and kept
    admin = Client()
    admin.force_login(stored["admin"])
    url = f"/admin/authority/eacltable/{table.pk}/change/"
    inline = {"records-TOTAL_FORMS": 1, "records-INITIAL_FORMS": 1}
    for rules, secret, top_secret in [
        ("deny get obj:Classification=top-secret others", "allowed", "eacl_deny"),
        ("", "allowed", "allowed"),
    ]:
        record = table.records.first()
        changed = admin.post(
            url,
            {
                "name": table.name, "container": container.pk, "rules": rules, **inline,
                "records-0-id": record.pk if record else "", "records-0-table": table.pk,
            },
        )  # fmt: skip
        assert changed.status_code == 302, changed.content
        assert _verify_stored(world, container, "secret") == secret
        assert _verify_stored(world, container, "top-secret") == top_secret


def test_a_session_and_a_bearer_token_are_judged_on_both_recorded_states(world, issue):
    """The recorded session and the bearer grant are read together; the session's state still
    decides first, as when they were read one after the other."""
    import datetime as dt

    from django.utils import timezone

    from tokens.models import Session

    session = issue(kind="static", verbs=["GET"], session_key=PARTY.public_key().hex())
    grant = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": world["container"].container_id, "rules": ["deny get obj:Tier=gold user"]},
        format="json",
    ).json()  # fmt: skip
    asked = {
        "session_token": session["neofs_token"]["binary"],
        "bearer_token": grant["token"]["binary"],
        "requester_key": PARTY.public_key().hex(),
    }
    assert _verify(world, object_headers={"Tier": "gold"}, **asked)["reason"] == "eacl_deny"
    assert _verify(world, object_headers={"Tier": "iron"}, **asked)["reason"] == "allowed"
    world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert _verify(world, **asked)["reason"] == "revoked"  # the bearer grant's
    Session.objects.filter(pk=session["id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _verify(world, **asked)["reason"] == "expired"  # the session's, before the grant's
    Session.objects.filter(pk=session["id"]).update(cancelled_at=timezone.now())
    assert _verify(world, **asked)["reason"] == "revoked"


def test_through_the_api_a_stranger_is_denied_a_private_container_and_may_only_read_a_public_one(
    world,
):
    # follows: neofs-node pkg/services/object/acl/v2/classifier.go classify (a stranger is
    # OTHERS) and pkg/services/object/acl/acl.go Checker.CheckBasicACL; no token attached
    stranger = OTHER.public_key().hex()
    private = ContainerFactory(owner=world["acme"], basic_acl=0x1C8C8CCC)
    public_read = ContainerFactory(owner=world["acme"], basic_acl=0x1FBF8CFF)
    for verb in ("GET", "HEAD", "PUT", "DELETE", "SEARCH"):
        denied = _verify(world, verb=verb, container=private.container_id, requester_key=stranger)
        assert denied == {"decision": "deny", "reason": "basic_acl_deny", "record": None}
    for verb, allowed in (("GET", True), ("HEAD", True), ("SEARCH", True), ("RANGE", True),
                          ("PUT", False), ("DELETE", False)):  # fmt: skip
        answer = _verify(
            world, verb=verb, container=public_read.container_id, requester_key=stranger
        )
        assert answer["decision"] == ("allow" if allowed else "deny"), verb
        assert answer["reason"] == ("allowed" if allowed else "basic_acl_deny")
    # and the owner's own key is let into the private one
    owner_key = _owner_signer(world).public_key().hex()
    assert (
        _verify(world, verb="PUT", container=private.container_id, requester_key=owner_key)[
            "decision"
        ]
        == "allow"
    )


@pytest.mark.parametrize("misspelt", ["bearer_tokn", "sesion_token", "acces_token"])
def test_a_misspelt_token_field_is_a_400_naming_it_never_an_allow(world, misspelt):
    payload = {"verb": "GET", "container": world["container"].container_id, misspelt: "x"}
    response = world["operator"].post("/api/v1/verify", payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {misspelt: "Unknown field."}


def test_an_access_token_through_the_api(world, issue):
    world["container"].basic_acl = 0x1C8C8CCC
    world["container"].save()
    session = issue(kind="delegation", verbs=["GET"])
    traded = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    access = traded.json()["access_token"]
    assert _verify(world, access_token=access)["decision"] == "allow"
    assert _verify(world, verb="PUT", access_token=access)["reason"] == "verb_not_allowed"
    both = world["operator"].post(
        "/api/v1/verify",
        {"verb": "GET", "container": world["container"].container_id, "access_token": access,
         "session_token": "AAAA"},
        format="json",
    )  # fmt: skip
    assert both.status_code == 400


def test_a_container_session_for_the_attribute_verbs(world, issue):
    # neo.fs.v2 session.ContainerSessionContext.Verb SETATTRIBUTE = 4, REMOVEATTRIBUTE = 5
    body = issue(
        kind="static", context="container", verbs=["SETATTRIBUTE"],
        session_key=PARTY.public_key().hex(),
    )  # fmt: skip
    token = body["neofs_token"]["binary"]
    decoded = SessionToken.decode(base64.b64decode(token))
    assert decoded.body.context.verb == ContainerVerb.SETATTRIBUTE == 4
    asked = {"kind": "container", "session_token": token, "requester_key": PARTY.public_key().hex()}
    assert _verify(world, verb="SETATTRIBUTE", **asked)["decision"] == "allow"
    assert _verify(world, verb="REMOVEATTRIBUTE", **asked)["reason"] == "verb_not_allowed"


def test_a_changed_basic_acl_or_table_applies_to_the_next_decision(world, tenant):
    # the decision point compiles its container read once, but reads the row every time
    stranger = OTHER.public_key().hex()
    container = world["container"]
    assert _verify(world, requester_key=stranger)["decision"] == "allow"
    patched = world["admin"].patch(
        f"/api/v1/containers/{container.container_id}", {"basic_acl": "0x1C8C8CCC"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert _verify(world, requester_key=stranger)["reason"] == "basic_acl_deny"
    world["admin"].patch(
        f"/api/v1/containers/{container.container_id}", {"basic_acl": "0x0FBF8CFF"},
        format="json",
    )  # fmt: skip
    assert _verify(world, requester_key=stranger)["decision"] == "allow"
    table = (
        world["admin"]
        .post(
            "/api/v1/eacl-tables",
            {"name": "t", "container": container.container_id, "rules": ["deny get others"]},
            format="json",
        )
        .json()
    )
    world["admin"].patch(
        f"/api/v1/containers/{container.container_id}", {"eacl_table": table["id"]}, format="json"
    )
    assert _verify(world, requester_key=stranger)["reason"] == "eacl_deny"
    world["admin"].patch(
        f"/api/v1/eacl-tables/{table['id']}", {"rules": ["allow get others"]}, format="json"
    )
    assert _verify(world, requester_key=stranger)["decision"] == "allow"
