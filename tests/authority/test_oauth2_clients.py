"""OAuth2 clients fast and safe (issue 17): client secrets under a keyed hash, tokens at rest as
checksums only, tokens from the Authorization header only, refresh tokens that expire and end
with a password change or a membership removal, a throttle on /o/token/, and the per-process
cache of validated bearer tokens (issue 16's authentication speed)."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken, set_token_value
from rest_framework.test import APIClient

from authority import lru
from authority.caches import OAUTH2_PRINCIPAL_TTL, registry
from authority.models import Membership, Role
from authority.principals import Principal
from authority.services import oauth2_clients
from authority.services.owners import membership_delete
from tests.factories import ApplicationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/o/token/"
API_URL = "/api/v1/owners"


@pytest.fixture(autouse=True)
def _clear_caches() -> Any:
    registry.clear_all()
    yield
    registry.clear_all()


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _grant(client_id: str, secret: str, **extra: Any) -> Any:
    return APIClient().post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(client_id, secret),
        **extra,
    )


def _service(acme: Any, secret: str | None = None) -> tuple[Application, str]:
    secret = secret or oauth2_clients.client_secret_generate()
    application = ApplicationFactory(client_secret=secret)
    MembershipFactory(owner=acme, user=None, application=application, role=Role.OPERATOR)
    return application, secret


def _stored_secret(application: Application) -> str:
    return Application.objects.values_list("client_secret", flat=True).get(pk=application.pk)


# --- client secrets -------------------------------------------------------------------------


def test_a_client_secret_is_stored_under_the_keyed_hash_and_grants(acme: Any) -> None:
    application, secret = _service(acme)
    stored = _stored_secret(application)
    assert stored.startswith("hmac_sha256$1$") and secret not in stored
    assert len(base64.urlsafe_b64decode(secret + "=")) * 8 >= 256
    response = _grant(application.client_id, secret)
    assert response.status_code == 200, response.content
    assert _grant(application.client_id, secret + "x").status_code == 401


def test_a_legacy_hashed_secret_verifies_and_is_restored_under_the_keyed_hash(acme: Any) -> None:
    secret = oauth2_clients.client_secret_generate()
    application, _ = _service(acme, secret)
    legacy = make_password(secret, hasher="md5")  # PBKDF2 in production; MD5 in these tests
    Application.objects.filter(pk=application.pk).update(client_secret=legacy)

    assert _grant(application.client_id, "wrong").status_code == 401
    assert _stored_secret(application) == legacy  # a failed attempt changes nothing
    assert _grant(application.client_id, secret).status_code == 200
    upgraded = _stored_secret(application)
    assert upgraded.startswith("hmac_sha256$")
    assert _grant(application.client_id, secret).status_code == 200


def test_a_secret_under_an_older_pepper_verifies_and_moves_to_the_current_one(
    acme: Any, settings: Any
) -> None:
    settings.AUTHORITY = {"CLIENT_SECRET_PEPPERS": {1: "first pepper"}}
    application, secret = _service(acme)
    assert _stored_secret(application).startswith("hmac_sha256$1$")

    settings.AUTHORITY = {"CLIENT_SECRET_PEPPERS": {1: "first pepper", 2: "second pepper"}}
    assert _grant(application.client_id, secret).status_code == 200
    assert _stored_secret(application).startswith("hmac_sha256$2$")

    settings.AUTHORITY = {"CLIENT_SECRET_PEPPERS": {1: "first pepper"}}  # pepper 2 withdrawn
    assert _grant(application.client_id, secret).status_code == 401


def test_an_unknown_client_id_costs_the_same_hash_as_a_wrong_secret(acme: Any) -> None:
    oauth2_clients._unknown_client_secret.cache_clear()
    response = _grant("no-such-client", "some secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # The unknown id's secret was hashed, against a stand-in under the current pepper.
    assert oauth2_clients._unknown_client_secret.cache_info().currsize == 1


def test_an_overlong_secret_is_refused_without_hashing() -> None:
    stored = make_password("x" * 300, hasher=oauth2_clients.ClientSecretHasher())
    assert not oauth2_clients.client_secret_matches(presented="x" * 300, stored=stored)


# --- tokens at rest and in transit ----------------------------------------------------------


def test_no_raw_token_at_rest_and_the_token_authenticates(acme: Any) -> None:
    application, secret = _service(acme)
    token = _grant(application.client_id, secret).json()["access_token"]
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 256
    stored = AccessToken.objects.get(application=application)
    assert stored.token == ""
    assert token not in {stored.token_checksum, *map(str, stored.__dict__.values())}
    with connection.cursor() as cursor:  # no column of the row holds it
        cursor.execute(f"SELECT * FROM {AccessToken._meta.db_table}")  # noqa: S608
        assert all(token not in str(value) for row in cursor.fetchall() for value in row)
    response = APIClient().get(API_URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("where", ["query", "form body"])
def test_a_token_outside_the_authorization_header_is_not_taken(acme: Any, where: str) -> None:
    application, secret = _service(acme)
    token = _grant(application.client_id, secret).json()["access_token"]
    client = APIClient()
    if where == "query":
        response = client.get(f"{API_URL}?access_token={token}")
    else:
        response = client.post(
            API_URL,
            f"access_token={token}",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 401


# --- refresh tokens -------------------------------------------------------------------------


def _refreshable(user: Any, *, access_expires: dt.datetime) -> tuple[Application, str, str]:
    secret = oauth2_clients.client_secret_generate()
    application = ApplicationFactory(
        client_secret=secret,
        user=user,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example/cb",
    )
    access = AccessToken(user=user, application=application, expires=access_expires)
    set_token_value(access, oauth2_clients.token_generate())
    access.save()
    raw_refresh = oauth2_clients.token_generate()
    refresh = RefreshToken(user=user, application=application, access_token=access)
    set_token_value(refresh, raw_refresh)
    refresh.save()
    return application, secret, raw_refresh


def _refresh(application: Application, secret: str, refresh: str) -> Any:
    return APIClient().post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": refresh},
        HTTP_AUTHORIZATION=_basic(application.client_id, secret),
    )


def test_a_refresh_token_expires(settings: Any) -> None:
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    user = UserFactory()
    now = timezone.now()
    live = _refreshable(user, access_expires=now - dt.timedelta(minutes=59))
    dead = _refreshable(user, access_expires=now - dt.timedelta(minutes=61))
    assert _refresh(*live).status_code == 200
    response = _refresh(*dead)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert RefreshToken.objects.exclude(token="").count() == 0  # none stored in the clear


def test_refresh_tokens_expire_by_default() -> None:
    from django.conf import settings

    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    assert 0 < lifetime <= 30 * 86400


def test_a_password_change_ends_the_users_oauth2_tokens() -> None:
    user = UserFactory()
    application, secret, refresh = _refreshable(
        user, access_expires=timezone.now() + dt.timedelta(minutes=5)
    )
    user.set_password("a new password, long enough")
    user.save()
    assert not AccessToken.objects.filter(user=user).exists()
    assert not RefreshToken.objects.filter(user=user).exists()
    assert _refresh(application, secret, refresh).status_code == 400


def test_a_membership_removal_ends_the_members_tokens(acme: Any, member: Any) -> None:
    admin = member(acme, Role.ADMIN)
    application, secret = _service(acme)
    token = _grant(application.client_id, secret).json()["access_token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(API_URL).status_code == 200  # and now cached in this process
    membership = Membership.objects.get(application=application)
    membership_delete(actor=Principal(user=admin), membership=membership)
    assert not AccessToken.objects.filter(application=application).exists()
    assert client.get(API_URL).status_code == 401


# --- the throttle of /o/token/ --------------------------------------------------------------


def test_token_requests_are_throttled_per_client_id(acme: Any, settings: Any) -> None:
    settings.AUTHORITY = {"OAUTH2_TOKEN_THROTTLE": "2/minute"}
    application, secret = _service(acme)
    other, other_secret = _service(acme)
    assert _grant(application.client_id, "wrong").status_code == 401
    assert _grant(application.client_id, secret).status_code == 200
    throttled = _grant(application.client_id, secret)
    assert throttled.status_code == 429
    assert throttled.json() == {
        "error": "slow_down",
        "error_description": "Too many token requests; retry later.",
    }
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert _grant(other.client_id, other_secret).status_code == 200  # its own bucket


def test_token_requests_are_throttled_per_address(acme: Any, settings: Any) -> None:
    settings.AUTHORITY = {"OAUTH2_TOKEN_ADDRESS_THROTTLE": "3/minute"}
    answers = [_grant(f"client-{n}", "secret").status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]


# --- the per-process cache of validated bearer tokens ---------------------------------------


def _token_of(acme: Any) -> str:
    application, secret = _service(acme)
    token: str = _grant(application.client_id, secret).json()["access_token"]
    return token


def test_a_validated_token_is_not_looked_up_again(acme: Any) -> None:
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {_token_of(acme)}")
    with CaptureQueriesContext(connection) as first:
        assert client.get(API_URL).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(API_URL).status_code == 200
    table = AccessToken._meta.db_table
    assert any(table in query["sql"] for query in first.captured_queries)
    assert not any(table in query["sql"] for query in second.captured_queries)


def test_a_revoked_token_stops_at_once_in_this_process(acme: Any) -> None:
    token = _token_of(acme)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(API_URL).status_code == 200
    AccessToken.objects.get(token_checksum=oauth2_clients.bearer_checksum(token)).revoke()
    assert client.get(API_URL).status_code == 401


def test_a_token_deleted_elsewhere_stops_within_the_bound(acme: Any, monkeypatch: Any) -> None:
    token = _token_of(acme)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(API_URL).status_code == 200
    with connection.cursor() as cursor:  # another process's deletion: no signal reaches here
        cursor.execute(f"DELETE FROM {AccessToken._meta.db_table}")  # noqa: S608
    assert client.get(API_URL).status_code == 200  # trusted from this process's cache ...
    now = lru._clock()
    monkeypatch.setattr(lru, "_clock", lambda: now + OAUTH2_PRINCIPAL_TTL)
    assert client.get(API_URL).status_code == 401  # ... for OAUTH2_PRINCIPAL_TTL at most


def test_a_cached_token_is_not_trusted_past_its_expiry(acme: Any) -> None:
    token = _token_of(acme)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(API_URL).status_code == 200
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    checksum = oauth2_clients.bearer_checksum(token)
    oauth2_clients.bearer_remember(checksum, AccessToken.objects.get(token_checksum=checksum))
    assert client.get(API_URL).status_code == 401


def test_a_forged_token_is_refused() -> None:
    forged = secrets.token_urlsafe(32)
    response = APIClient().get(API_URL, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_a_changed_secret_applies_at_once_in_this_process(acme: Any) -> None:
    application, secret = _service(acme)
    assert _grant(application.client_id, secret).status_code == 200  # remembered
    new_secret = oauth2_clients.client_secret_generate()
    application.client_secret = new_secret
    application.save()
    assert _grant(application.client_id, secret).status_code == 401
    assert _grant(application.client_id, new_secret).status_code == 200
    application.delete()
    assert _grant(application.client_id, new_secret).status_code == 401


def test_a_known_client_is_not_looked_up_again_within_the_bound(acme: Any) -> None:
    application, secret = _service(acme)
    assert _grant(application.client_id, secret).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert _grant(application.client_id, secret).status_code == 200
    table = Application._meta.db_table
    assert not any(table in query["sql"] for query in queries.captured_queries)
