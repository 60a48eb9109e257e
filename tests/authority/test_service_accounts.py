"""Service accounts in the console (issue 15): owner admins create, list, rotate the secret of
(shown once) and delete their owners' OAuth2 applications, through the audited service; the
secret works at /o/token/; no one else sees them; DOT's self-service views are closed to
everyone but superusers."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from authority.models import AuditEvent, Membership, Role
from authority.principals import Principal
from authority.services.service_accounts import service_account_create
from tests.authority.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/authority/owner/service-accounts/"


def _create(client: Client, owner, name="backup job", role="operator") -> tuple[str, str]:
    response = client.post(f"{LIST}add/", {"owner": owner.pk, "name": name, "role": role})
    assert response.status_code == 200, response.content
    page = response.content.decode()
    client_id = re.search(r'id="client-id"[^>]*>([^<]+)<', page).group(1)
    secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', page).group(1)
    assert "no-store" in response["Cache-Control"]
    return client_id, secret


def _token(client_id: str, secret: str):
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "authority"},
        HTTP_AUTHORIZATION="Basic "
        + __import__("base64").b64encode(f"{client_id}:{secret}".encode()).decode(),
    )


def test_owner_admin_creates_a_service_account_whose_secret_works(acme, member):
    client = login(member(acme, Role.ADMIN))
    client_id, secret = _create(client, acme)
    assert len(secret) >= 43  # at least 256 bits, url-safe base64
    application = Application.objects.get(client_id=client_id)
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert secret not in application.client_secret  # stored hashed only
    assert Membership.objects.get(application=application).owner == acme
    assert AuditEvent.objects.filter(action="service_account.create", owner=acme).exists()
    issued = _token(client_id, secret)
    assert issued.status_code == 200, issued.content
    token = issued.json()["access_token"]
    owners = Client().get("/api/v1/owners", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [o["slug"] for o in owners.json()["results"]] == ["acme"]
    listed = client.get(LIST).content.decode()
    assert client_id in listed and "backup job" in listed
    assert secret not in listed  # shown once, on creation only


def test_rotating_the_secret_asks_first_and_ends_the_old_one(acme, member):
    client = login(member(acme, Role.ADMIN))
    client_id, old_secret = _create(client, acme)
    application = Application.objects.get(client_id=client_id)
    old_token = _token(client_id, old_secret).json()["access_token"]
    url = f"{LIST}{application.pk}/rotate-secret/"
    asked = client.get(url)
    assert b"Yes, rotate the secret" in asked.content
    assert _token(client_id, old_secret).status_code == 200  # asking changed nothing
    rotated = client.post(url, {"confirmed": "yes"})
    new_secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', rotated.content.decode()).group(1)
    assert new_secret != old_secret
    assert _token(client_id, old_secret).status_code == 401
    assert _token(client_id, new_secret).status_code == 200
    assert not AccessToken.objects.filter(token=old_token).exists()
    assert AuditEvent.objects.filter(action="service_account.rotate_secret", owner=acme).exists()


def test_deleting_asks_first(acme, member):
    client = login(member(acme, Role.ADMIN))
    client_id, _ = _create(client, acme)
    application = Application.objects.get(client_id=client_id)
    url = f"{LIST}{application.pk}/delete/"
    assert b"Yes, delete the service account" in client.get(url).content
    assert Application.objects.filter(pk=application.pk).exists()
    done = client.post(url, {"confirmed": "yes"}, follow=True)
    assert not Application.objects.filter(pk=application.pk).exists()
    assert any("Deleted" in str(m) for m in done.context["messages"])
    assert AuditEvent.objects.filter(action="service_account.delete", owner=acme).exists()


def test_another_owners_admin_sees_none_of_it(acme, globex, member):
    ours = login(member(acme, Role.ADMIN))
    client_id, _ = _create(ours, acme)
    application = Application.objects.get(client_id=client_id)
    theirs = login(member(globex, Role.ADMIN))
    assert client_id not in theirs.get(LIST).content.decode()
    for url in (f"{LIST}{application.pk}/rotate-secret/", f"{LIST}{application.pk}/delete/"):
        assert theirs.get(url).status_code == 404
        assert theirs.post(url, {"confirmed": "yes"}).status_code == 404
    assert Application.objects.filter(pk=application.pk).exists()
    planted = theirs.post(f"{LIST}add/", {"owner": acme.pk, "name": "planted", "role": "admin"})
    assert planted.status_code == 200 and b"Select a valid choice" in planted.content
    assert not Application.objects.filter(name="planted").exists()


def test_operators_do_not_manage_service_accounts(acme, member):
    client = login(member(acme, Role.OPERATOR))
    page = client.get(LIST)
    assert page.status_code == 200 and b"You administer no owner" in page.content
    client.post(f"{LIST}add/", {"owner": acme.pk, "name": "x", "role": "admin"})
    assert not Application.objects.filter(name="x").exists()


def test_a_service_account_shared_with_an_owner_one_does_not_administer_is_refused(
    acme, globex, member
):
    acme_admin = member(acme, Role.ADMIN)
    issued = service_account_create(actor=Principal(user=acme_admin), owner=acme, name="shared")
    Membership.objects.create(owner=globex, application=issued.application, role=Role.VIEWER)
    client = login(acme_admin)
    response = client.post(
        f"{LIST}{issued.application.pk}/delete/", {"confirmed": "yes"}, follow=True
    )
    assert any(str(m).startswith("Refused: ") for m in response.context["messages"])
    assert Application.objects.filter(pk=issued.application.pk).exists()


def test_a_bad_name_is_a_form_error(acme, member):
    client = login(member(acme, Role.ADMIN))
    response = client.post(f"{LIST}add/", {"owner": acme.pk, "name": "x" * 300, "role": "admin"})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not Application.objects.exists()


def test_the_owner_page_links_to_its_service_accounts(acme, member):
    client = login(member(acme, Role.ADMIN))
    page = client.get(f"/admin/authority/owner/{acme.pk}/change/").content.decode()
    assert LIST in page


@pytest.mark.parametrize(
    "url", ["/o/applications/", "/o/applications/register/", "/o/authorized_tokens/"]
)
def test_dot_self_service_views_are_for_superusers_only(acme, member, url):
    member_client = login(member(acme, Role.ADMIN))
    assert member_client.get(url).status_code == 404
    if url.endswith("register/"):
        posted = member_client.post(
            url,
            {
                "name": "sneaky",
                "client_type": "confidential",
                "authorization_grant_type": "client-credentials",
            },
        )
        assert posted.status_code == 404
        assert not Application.objects.filter(name="sneaky").exists()
    assert Client().get(url).status_code == 404
    assert login(UserFactory(is_superuser=True)).get(url).status_code == 200
