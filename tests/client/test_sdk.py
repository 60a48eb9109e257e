"""Every SDK method against a live authority, as a service account with OAuth2 client
credentials the SDK fetches itself; and the error hierarchy as callers see it."""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from authority.models import Role
from tokens.client import (
    AuthDenied,
    AuthMissing,
    Client,
    ClientCredentials,
    ClientToken,
    Conflict,
    InvalidInput,
    NotFound,
    SessionFile,
    Throttled,
    Unavailable,
)
from tokens.client.results import AccessToken, BearerGrant, Decision, IssuedSession, Session
from tokens.client.session_file import default_token_path
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.offline import session_token_sign
from tokens.wire.session import ObjectContext, ObjectVerb, SessionBody, SessionToken
from tokens.wire.signature import SoftwareSigner

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_sdk_imports_no_django():
    # A fresh interpreter: this test process has Django loaded already.
    code = "import tokens.client, tokens.client.cli, sys; assert 'django' not in sys.modules, [m for m in sys.modules if m.startswith('django')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)  # noqa: S603


def test_sdk_imports_only_tokens_wire_of_the_project():
    code = (
        "import sys, tokens.client, tokens.client.cli; "
        "mods = [m for m in sys.modules if m.split('.')[0] in ('authority', 'hsm', 'tokens')]; "
        "bad = [m for m in mods if not m.startswith(('tokens.client', 'tokens.wire')) and m != 'tokens']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)  # noqa: S603


def test_sessions_issue_list_show_renew_cancel(sdk, authority):
    issued = sdk.session_issue(verbs=["GET", "HEAD"], container=authority.container)
    assert isinstance(issued, IssuedSession)
    assert issued.token.startswith("sa1.") and issued.verbs == ("GET", "HEAD")
    assert issued.container == authority.container and issued.state == "active"
    page = sdk.session_list(state="active")
    assert [s.id for s in page.results] == [issued.id] and page.count == 1
    shown = sdk.session_get(issued.id)
    assert isinstance(shown, Session) and shown.id == issued.id
    renewed = sdk.session_renew(issued.id)
    assert renewed.expires_at >= issued.expires_at
    cancelled = sdk.session_cancel(issued.id)
    assert cancelled.state == "cancelled" and cancelled.cancelled_at is not None
    with pytest.raises(Conflict) as caught:
        sdk.session_renew(issued.id)
    assert caught.value.status == 409 and caught.value.code == "conflict"
    with pytest.raises(NotFound):
        sdk.session_get("00000000-0000-0000-0000-000000000000")


def test_static_session_token_is_signed_by_the_authority(sdk, authority):
    party = SoftwareSigner()
    issued = sdk.session_issue(
        kind="static",
        verbs=["PUT"],
        container=authority.container,
        session_key=party.public_key().hex(),
    )
    token = issued.neofs_token.session_token()
    assert token.body.session_key == party.public_key() and token.check().value == "ok"
    decision = sdk.verify(
        verb="PUT",
        container=authority.container,
        session_token=token,
        requester_key=party.public_key().hex(),
    )
    assert isinstance(decision, Decision) and decision.allowed, decision


def test_trade_exchange_introspect_revoke_and_jwks(sdk, authority):
    issued = sdk.session_issue(verbs=["GET", "HEAD"], container=authority.container)
    traded = sdk.trade(subject_token=issued.token, scope="GET")
    assert isinstance(traded, AccessToken) and traded.scope == "GET"
    exchanged = sdk.token_exchange(subject_token=issued.token)
    assert exchanged.token_type == "Bearer" and exchanged.scope == "GET HEAD"
    assert sdk.introspect(traded.access_token).active is True
    scoped = sdk.verify(verb="PUT", container=authority.container, access_token=traded.access_token)
    assert not scoped.allowed and scoped.reason == "verb_not_allowed"
    kids = {key["kid"] for key in sdk.jwks()["keys"]}
    assert kids, "the JWKS document lists the signing keys"
    sdk.revoke(traded.access_token)
    assert sdk.introspect(traded.access_token).active is False
    with pytest.raises(AuthDenied) as caught:
        sdk.trade(subject_token=issued.token + "x")
    assert caught.value.status == 401


def test_dynamic_session_create_complete_sign_and_trade_with_the_authority_proof(sdk, authority):
    created = sdk.session_create_dynamic(lifetime=3600)
    blank = created.blank_token.session_token()
    assert blank.signature is None and blank.body.session_key.hex() == created.session_key
    owner_id = sdk.owner_list().results[0].neofs_owner_id

    from tokens.wire.ids import OwnerID

    body = dataclasses.replace(
        blank.body,
        owner_id=OwnerID.from_string(owner_id),
        context=ObjectContext(ObjectVerb.PUT, ContainerID.from_string(authority.container, "c")),
    )
    done = sdk.session_complete(created.id, token=SessionToken(body))
    signed = done.neofs_token.session_token()
    assert signed.check().value == "ok"
    signature = sdk.session_sign(
        created.id, data=b"object header", verb="PUT", container=authority.container
    )
    assert signature.key == created.session_key and len(signature.data) == 64
    proof = sdk.proof_by_authority(created.id, verb="PUT", container=authority.container)
    traded = sdk.trade(subject_token=base64.b64encode(signed.encode()).decode(), proof=proof)
    assert traded.scope == "PUT"


def test_static_import_of_a_wallet_signed_token(sdk, authority):
    wallet = SoftwareSigner()
    owner = authority.owner
    owner.signs_own_tokens = True
    owner.neofs_owner_id = str(OwnerID.from_public_key(wallet.public_key()))
    owner.save()
    epoch = sdk.epoch().epoch
    unsigned = SessionToken(
        SessionBody(
            id=os.urandom(16),
            lifetime=Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
            session_key=SoftwareSigner().public_key(),
        )
    )
    token = session_token_sign(
        unsigned,
        signer=wallet,
        context=ObjectContext(ObjectVerb.GET, ContainerID.from_string(authority.container, "c")),
    )
    imported = sdk.session_import(token=token)
    assert imported.kind == "static" and imported.verbs == ("GET",)
    with pytest.raises(Conflict):
        sdk.session_import(token=token)


def test_bearer_grants_create_list_show_revoke(sdk, authority):
    grant = sdk.bearer_grant_issue(container=authority.container, rules=["allow get others"])
    assert isinstance(grant, BearerGrant) and grant.container == authority.container
    assert grant.token.bearer_token().check().value == "ok"
    assert [g.id for g in sdk.bearer_grant_list().results] == [grant.id]
    assert sdk.bearer_grant_get(grant.id).revoked_at is None
    assert sdk.bearer_grant_revoke(grant.id).revoked_at is not None
    with pytest.raises(InvalidInput) as caught:
        sdk.bearer_grant_issue(container=authority.container, rules=["permit everything"])
    assert caught.value.fields, "the error names the field"


def test_containers_eacl_tables_and_epoch(sdk, authority):
    assert [c.container_id for c in sdk.container_list().results] == [authority.container]
    assert sdk.container_get(authority.container).owner == "acme"
    created = sdk.container_create(name="second")
    assert sdk.container_get(created.container_id).name == "second"
    table = sdk.eacl_table_create(
        name="public-read",
        rules=["allow get others", "deny put others"],
        container=authority.container,
    )
    assert table.rules == ("allow get others", "deny put others")
    assert sdk.eacl_table_get(table.id).table == table.table
    assert table.id in {t.id for t in sdk.eacl_table_list().results}
    sdk.eacl_table_delete(table.id)
    with pytest.raises(NotFound):
        sdk.eacl_table_get(table.id)
    epoch = sdk.epoch()
    assert epoch.started_at <= epoch.next_epoch_at and epoch.duration > 0


def test_no_credentials_is_auth_missing_and_a_bad_token_auth_denied(authority, tmp_path):
    empty = SessionFile(tmp_path / "none" / "token")
    with Client(authority.url, session_file=empty) as anonymous:
        with pytest.raises(AuthMissing) as caught:
            anonymous.session_list()
    assert caught.value.status == 401
    with Client(
        authority.url, credentials=ClientToken("sac1.not-a-token"), session_file=empty
    ) as bad:
        with pytest.raises((AuthDenied,)):
            bad.session_list()


def test_wrong_client_secret_is_auth_denied(authority, tmp_path):
    wrong = ClientCredentials(authority.client_id, "wrong-secret")
    with Client(authority.url, credentials=wrong, session_file=SessionFile(tmp_path / "t")) as c:
        with pytest.raises(AuthDenied):
            c.session_list()


def test_an_expired_oauth2_token_is_fetched_again(sdk, authority):
    from oauth2_provider.models import AccessToken as OAuthToken

    sdk.session_list()
    OAuthToken.objects.all().delete()  # the server forgets it: the next call gets a 401
    assert sdk.session_list().count == 0
    assert OAuthToken.objects.count() == 1


def test_unreachable_server_is_unavailable_after_bounded_retries(tmp_path):
    waits: list[float] = []
    client = Client(
        "http://127.0.0.1:9", session_file=SessionFile(tmp_path / "t"), sleep=waits.append
    )
    with pytest.raises(Unavailable) as caught:
        client.epoch()
    assert caught.value.status == 0 and len(waits) == client.max_retries


def test_default_session_file_path_follows_xdg_and_the_override():
    assert default_token_path({"XDG_STATE_HOME": "/s"}) == Path("/s/session-authority/token")
    assert default_token_path({"SA_TOKEN_PATH": "/x/t", "XDG_STATE_HOME": "/s"}) == Path("/x/t")
    assert default_token_path({}).parts[-4:] == (".local", "state", "session-authority", "token")


def test_429_is_retried_after_its_retry_after_and_bounded(authority, settings, tmp_path, member):
    """Failed logins are throttled (429 + Retry-After): the SDK waits as told, a bounded number
    of times, then raises Throttled carrying the server's Retry-After."""

    settings.AUTHORITY = {**settings.AUTHORITY, "LOGIN_THROTTLE": "2/minute"}
    # The server counts failures per minute window (real time): begin clear of a window's end,
    # so the three attempts fall in one window.
    remaining = 60 - time.time() % 60
    if remaining < 10:
        time.sleep(remaining + 0.1)
    user = member(authority.owner, Role.OPERATOR)
    waits: list[float] = []
    client = Client(
        authority.url,
        session_file=SessionFile(tmp_path / "t"),
        sleep=waits.append,
        max_retries=2,
        max_retry_wait=120,
    )
    for _ in range(2):
        with pytest.raises(AuthDenied):
            client.login(username=user.username, password="wrong")
    assert waits == []
    with pytest.raises(Throttled) as caught:
        client.login(username=user.username, password="wrong")
    assert caught.value.status == 429 and 0 < caught.value.retry_after <= 60
    # Two retries, each after the Retry-After of the answer it followed: the window's remaining
    # seconds, which may tick down by one between the three answers.
    assert len(waits) == 2
    assert waits[0] >= waits[1] >= caught.value.retry_after >= waits[0] - 2
    impatient = Client(
        authority.url,
        session_file=SessionFile(tmp_path / "t"),
        sleep=waits.append,
        max_retry_wait=0.5,
    )
    waits.clear()
    with pytest.raises(Throttled):
        impatient.login(username=user.username, password="wrong")
    assert waits == []  # the server asks for longer than this caller waits: no retry
