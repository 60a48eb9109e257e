"""Client sessions (SPEC §4 flow 8): login, the rolling X-Authority-Token, timeouts, logout,
reset-key, the three authentication errors, throttled and audited failed logins — against the
test run's SoftHSM2 token, with a controllable clock."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authority.caches import registry
from authority.models import AuditEvent, Role
from authority.principals import SYSTEM
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.rotation import keys_rotate_due
from hsm.selectors import key_active_cached
from hsm.services import key_rotate
from tests.factories import ApplicationFactory, MembershipFactory, UserFactory
from tokens.api.throttles import IntrospectThrottle
from tokens.services import client_sessions

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
HEADER = "X-Authority-Token"


class Clock:
    """`django.utils.timezone.now`, stopped, moved only by `advance`."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 20 s into a minute, so that a one-minute throttle window has 40 s left.
    stopped = Clock(dt.datetime(2026, 6, 1, 12, 0, 20, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", stopped)
    return stopped


@pytest.fixture
def people(acme, member) -> dict[str, Any]:
    superuser = UserFactory(is_superuser=True)
    return {
        "alice": member(acme, Role.OPERATOR),
        "bob": member(acme, Role.OPERATOR),
        "viewer": member(acme, Role.VIEWER),
        "root": superuser,
    }


def _basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _login(username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return APIClient().post(
        "/api/v1/auth/login", {"username": username, "password": password}, format="json", **extra
    )


def _token(user: Any) -> str:
    response = _login(user.username)
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def _as(authorization: str | None) -> APIClient:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def _call(token: str, method: str = "get", url: str = "/api/v1/owners", **kwargs: Any) -> Any:
    return getattr(_as(f"Token {token}"), method)(url, **kwargs)


# --- login and the rolling token ------------------------------------------------------------


def test_login_with_json_answers_a_client_token_in_body_and_header(people, clock):
    response = _login(people["alice"].username)
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("sac1.")
    assert response[HEADER] == body["token"]
    assert body["token_type"] == "Token"
    assert body["idle_timeout"] == 1800
    assert body["user"] == people["alice"].username
    assert dt.datetime.fromisoformat(body["expires_at"]) == clock.now + dt.timedelta(hours=12)
    assert response["Cache-Control"] == "no-store"
    # ≥ 256 bits that no one can guess: two logins never share a token
    assert _token(people["alice"]) != body["token"]


def test_login_with_basic_answers_a_working_token(people, clock):
    response = APIClient().post(
        "/api/v1/auth/login", HTTP_AUTHORIZATION=_basic(people["alice"].username)
    )
    assert response.status_code == 200
    assert _call(response.json()["token"]).json()["results"][0]["slug"] == "acme"


def test_every_authenticated_response_carries_a_fresh_token_and_old_ones_keep_working(
    people, clock
):
    token = _token(people["alice"])
    ok = _call(token)
    assert ok.status_code == 200
    fresh = ok[HEADER]
    assert fresh.startswith("sac1.") and fresh != token
    not_found = _call(token, url="/api/v1/containers/no-such-container")
    assert not_found.status_code == 404 and not_found[HEADER] not in (token, fresh)
    viewer_token = _token(people["viewer"])
    forbidden = _call(viewer_token, "post", "/api/v1/containers", data={"name": "x"})
    assert forbidden.status_code == 403 and forbidden[HEADER].startswith("sac1.")
    for each in (token, fresh, not_found[HEADER]):  # the old ones too, until they time out
        assert _call(each).status_code == 200


def test_a_password_on_any_call_is_answered_with_a_fresh_token(people, clock):
    response = _as(_basic(people["alice"].username)).get("/api/v1/owners")
    assert response.status_code == 200
    assert _call(response[HEADER]).status_code == 200


def test_throttled_responses_carry_a_fresh_token(people, clock, monkeypatch):
    monkeypatch.setattr(IntrospectThrottle, "rate", "1/minute", raising=False)
    token = _token(people["alice"])
    first = _call(token, "post", "/api/v1/introspect", data={"token": "x"}, format="json")
    second = _call(token, "post", "/api/v1/introspect", data={"token": "x"}, format="json")
    assert first.status_code == 200 and second.status_code == 429
    assert _call(second[HEADER]).status_code == 200


def test_other_credentials_get_no_client_token(people, user_client, clock):
    assert HEADER not in user_client(people["alice"]).get("/api/v1/owners")


# --- time bounds ----------------------------------------------------------------------------


def test_idle_timeout(people, clock):
    token = _token(people["alice"])
    clock.advance(minutes=29)
    fresh = _call(token)[HEADER]
    clock.advance(minutes=2)  # 31 minutes after the first token, 2 after the fresh one
    assert _call(token).json()["error"] == "auth_denied"
    assert _call(fresh).status_code == 200


def test_absolute_timeout_holds_however_often_the_token_rolls(people, clock):
    token = _token(people["alice"])
    for _ in range(12 * 3 - 1):  # a call every 20 minutes, for 11 h 40 min
        clock.advance(minutes=20)
        response = _call(token)
        assert response.status_code == 200
        token = response[HEADER]
    clock.advance(minutes=20)  # 12 h after the login
    refused = _call(token)
    assert refused.status_code == 401 and refused.json()["error"] == "auth_denied"
    assert HEADER not in refused


def test_a_lowered_idle_timeout_applies_to_tokens_already_issued(people, clock, settings):
    token = _token(people["alice"])
    clock.advance(minutes=10)
    settings.AUTHORITY = {**settings.AUTHORITY, "CLIENT_TOKEN_IDLE_TIMEOUT": 300}
    assert _call(token).json()["error"] == "auth_denied"


# --- forged and malformed tokens ------------------------------------------------------------


def test_a_changed_byte_anywhere_is_denied(people, clock):
    token = _token(people["alice"])
    prefix, payload, mac = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=="))
    raw[8] ^= 1  # the user id: another user, same times
    other_user = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    flipped_mac = mac[:-3] + ("A" if mac[-3] != "A" else "B") + mac[-2:]
    for forged in (f"{prefix}.{other_user}.{mac}", f"{prefix}.{payload}.{flipped_mac}"):
        response = _call(forged)
        assert response.status_code == 401 and response.json()["error"] == "auth_denied"


def test_a_token_under_another_purposes_key_is_denied(people, clock):
    """The MAC input names the protocol and the key must be a client-session key."""
    token = _token(people["alice"])
    delegation = KeyRecord.objects.filter(purpose=KeyPurpose.CLIENT_SESSION_HMAC).get()
    delegation.purpose = KeyPurpose.DELEGATION_HMAC
    delegation.save(update_fields=["purpose"])
    assert _call(token).json()["error"] == "auth_denied"


# --- the three errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "Digest username=alice",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Token",
        "Token two words",
        "Token " + "a" * 5000,
        "Bearer two words",
        "Bearer",
    ],
)
def test_malformed_authorization_is_auth_format_400(people, authorization):
    response = _as(authorization).get("/api/v1/owners")
    assert response.status_code == 400
    assert response.json()["error"] == "auth_format"


def test_missing_credentials_are_auth_missing_401(people):
    for response in (
        APIClient().get("/api/v1/owners"),
        APIClient().post("/api/v1/auth/login", {}, format="json"),
        APIClient().post("/api/v1/auth/logout"),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "auth_missing"
        assert response["WWW-Authenticate"] == 'Token realm="session-authority"'


def test_wrong_credentials_are_auth_denied_401(people, clock):
    alice = people["alice"].username
    responses = [
        _login(alice, "wrong password"),
        _login("nobody-at-all"),
        _as(_basic(alice, "wrong password")).get("/api/v1/owners"),
        _call("sac1.unknown"),
        _as("Bearer not-an-oauth2-token").get("/api/v1/owners"),
    ]
    for response in responses:
        assert response.status_code == 401, response.content
        assert response.json()["error"] == "auth_denied"
        assert response["WWW-Authenticate"] == 'Token realm="session-authority"'
        assert HEADER not in response


def test_inactive_users_tokens_are_denied(people, clock):
    token = _token(people["alice"])
    people["alice"].is_active = False
    people["alice"].save(update_fields=["is_active"])
    assert _call(token).json()["error"] == "auth_denied"


# --- logout and reset -----------------------------------------------------------------------


def test_logout_ends_every_token_of_that_user_only(people, clock):
    alice_tokens = [_token(people["alice"]), _token(people["alice"])]
    bob = _token(people["bob"])
    alice_tokens.append(_call(alice_tokens[0])[HEADER])
    clock.advance(seconds=5)
    out = _call(alice_tokens[1], "post", "/api/v1/auth/logout")
    assert out.status_code == 204
    assert HEADER not in out  # a fresh token of the ended session would be a lie
    for token in alice_tokens:
        assert _call(token).json()["error"] == "auth_denied"
    assert _call(bob).status_code == 200
    clock.advance(seconds=1)
    assert _call(_token(people["alice"])).status_code == 200  # a new login works


def test_a_password_change_ends_every_token_of_that_user_only(people, clock):
    """A token stolen before a password reset dies with the old password."""
    alice = people["alice"]
    stolen = _token(alice)
    bob = _token(people["bob"])
    clock.advance(seconds=5)
    alice.set_password("another correct horse")
    alice.save()
    assert _call(stolen).json()["error"] == "auth_denied"
    assert _call(bob).status_code == 200
    assert AuditEvent.objects.filter(action="client_session.password_changed").exists()
    clock.advance(seconds=1)
    fresh = _login(alice.username, "another correct horse")
    assert fresh.status_code == 200
    assert _call(fresh.json()["token"]).status_code == 200


def test_reset_key_ends_every_users_tokens_at_once(people, clock):
    tokens = {name: _token(people[name]) for name in ("alice", "bob", "viewer", "root")}
    for token in tokens.values():  # confirmed, so remembered by this process
        assert _call(token).status_code == 200
    old_key = KeyRecord.objects.get(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    reset = _call(tokens["root"], "post", "/api/v1/auth/reset-key")
    assert reset.status_code == 204
    assert HEADER not in reset
    for token in tokens.values():
        assert _call(token).json()["error"] == "auth_denied"
    old_key.refresh_from_db()
    assert old_key.state == KeyState.DESTROYED
    assert _call(_token(people["alice"])).status_code == 200  # a new login works


def test_a_reset_in_another_process_is_seen_at_once(people, clock):
    """Another process's reset shows here only in the database: the key's state is read on every
    request, even for a token this process has confirmed before."""
    token = _token(people["alice"])
    assert _call(token).status_code == 200
    KeyRecord.objects.filter(purpose=KeyPurpose.CLIENT_SESSION_HMAC).update(
        state=KeyState.DESTROYED
    )
    assert _call(token).json()["error"] == "auth_denied"


def test_a_login_just_after_another_process_reset_works(people, clock, monkeypatch):
    """This process's key cache (30 s) still names the key another process's reset destroyed."""
    old_token = _token(people["alice"])
    old_key = KeyRecord.objects.get(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    # The reset happens elsewhere: no event reaches this process's caches.
    monkeypatch.setattr(registry, "invalidate", lambda event, **facts: None)
    client_sessions.client_session_key_reset(actor=SYSTEM)
    assert key_active_cached(purpose=KeyPurpose.CLIENT_SESSION_HMAC) == old_key  # stale
    response = _login(people["alice"].username)
    assert response.status_code == 200, response.content
    assert _call(response.json()["token"]).status_code == 200
    assert _call(old_token).json()["error"] == "auth_denied"


def test_reset_key_by_a_non_superuser_is_403(people, clock):
    token = _token(people["alice"])
    refused = _call(token, "post", "/api/v1/auth/reset-key")
    assert refused.status_code == 403
    assert refused[HEADER].startswith("sac1.")  # authenticated, so a fresh token
    assert _call(token).status_code == 200
    assert KeyRecord.objects.get(purpose=KeyPurpose.CLIENT_SESSION_HMAC).state == KeyState.ACTIVE


def test_scheduled_rotation_does_not_log_anyone_out(people, clock):
    token = _token(people["alice"])
    key_rotate(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    response = _call(token)
    assert response.status_code == 200
    assert _call(response[HEADER]).status_code == 200


def test_a_retired_client_key_is_destroyed_once_no_login_under_it_can_live(people, clock, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "CLIENT_TOKEN_IDLE_TIMEOUT": 13 * 3600}
    token = _token(people["alice"])
    old = KeyRecord.objects.get(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    key_rotate(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    clock.advance(hours=11, minutes=59)
    assert keys_rotate_due().destroyed == []
    assert _call(_call(token)[HEADER]).status_code == 200  # fresh tokens under the login's key
    clock.advance(minutes=2)  # past the login's 12 h and the other processes' cache margin
    assert keys_rotate_due().destroyed == [old.label]


# --- failed logins --------------------------------------------------------------------------


@pytest.fixture
def three_failures_a_minute(settings: Any) -> None:
    settings.AUTHORITY = {**settings.AUTHORITY, "LOGIN_THROTTLE": "3/minute"}


def test_failed_logins_are_throttled_per_user(people, clock, three_failures_a_minute):
    alice = people["alice"].username
    for attempt in range(3):
        address = f"192.0.2.{attempt + 1}"
        assert _login(alice, "guess", REMOTE_ADDR=address).status_code == 401
    throttled = _login(alice, REMOTE_ADDR="192.0.2.9")  # the right password, a new address
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "throttled"
    assert throttled["Retry-After"] == "40"
    basic = _as(_basic(alice)).get("/api/v1/owners", REMOTE_ADDR="192.0.2.10")
    assert basic.status_code == 429  # HTTP Basic on any call is a login too
    assert _login(people["bob"].username, REMOTE_ADDR="192.0.2.9").status_code == 200
    clock.advance(seconds=40)
    assert _login(alice, REMOTE_ADDR="192.0.2.9").status_code == 200


def test_failed_logins_are_throttled_per_address_more_loosely(people, clock, settings):
    settings.AUTHORITY = {
        **settings.AUTHORITY,
        "LOGIN_THROTTLE": "3/minute",
        "LOGIN_ADDRESS_THROTTLE": "5/minute",
    }
    for _ in range(3):  # one member's typos lock out that member only
        assert _login("nobody-1", REMOTE_ADDR="198.51.100.7").status_code == 401
    assert _login("nobody-1", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert _login(people["alice"].username, REMOTE_ADDR="198.51.100.7").status_code == 200
    for name in ("nobody-2", "nobody-3"):  # the address's fifth failure, of any user names
        assert _login(name, REMOTE_ADDR="198.51.100.7").status_code == 401
    assert _login(people["bob"].username, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert _login(people["bob"].username, REMOTE_ADDR="198.51.100.8").status_code == 200


def test_the_login_address_is_not_the_clients_own_say(people, clock, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "LOGIN_ADDRESS_THROTTLE": "2/minute"}
    for index in range(2):
        forged = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{index}", "REMOTE_ADDR": "198.51.100.7"}
        assert _login(f"nobody-{index}", **forged).status_code == 401
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.99", "REMOTE_ADDR": "198.51.100.7"}
    assert _login(people["alice"].username, **forged).status_code == 429


def test_logins_are_audited_with_fingerprints_only(people, clock, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "a-wrong-password-" + secrets.token_hex(4)
    assert _login(people["alice"].username, wrong, REMOTE_ADDR="203.0.113.5").status_code == 401
    token = _token(people["alice"])
    assert _call(token).status_code == 200
    failed = AuditEvent.objects.get(action="client_session.login", outcome="denied")
    assert failed.client_address == "203.0.113.5"
    assert failed.detail["username_fingerprint"]
    assert AuditEvent.objects.filter(action="client_session.login", outcome="success").count() == 1
    rows = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in (wrong, PASSWORD, token, token.split(".")[2]):
        assert secret not in rows
        assert secret not in caplog.text
    assert people["alice"].username not in json.dumps(failed.detail)


# --- OAuth2 ---------------------------------------------------------------------------------


def test_oauth2_client_credentials_keep_working_and_bad_bearer_is_denied(acme, clock):
    application = ApplicationFactory(client_secret="service-secret")
    MembershipFactory(owner=acme, user=None, application=application, role=Role.OPERATOR)
    grant = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(application.client_id, "service-secret"),
    )
    assert grant.status_code == 200, grant.content
    client = _as(f"Bearer {grant.json()['access_token']}")
    response = client.get("/api/v1/owners")
    assert response.status_code == 200
    assert [owner["slug"] for owner in response.json()["results"]] == ["acme"]
    assert HEADER not in response
    denied = _as("Bearer " + grant.json()["access_token"][::-1]).get("/api/v1/owners")
    assert denied.status_code == 401 and denied.json()["error"] == "auth_denied"
