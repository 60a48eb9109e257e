"""Resource servers: an owner admin registers an OAuth2 client that may verify and introspect for
that owner, and nothing else; another owner's containers and tokens stay invisible to it."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, get_application_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def rs(world):
    """A resource server of acme, registered through the API by acme's admin."""
    response = world["admin"].post(
        f"/api/v1/owners/{world['acme'].slug}/resource-servers", {"name": "gateway"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "resource_server" and body["client_secret"]
    application = get_application_model().objects.get(client_id=body["client_id"])
    token = AccessToken.objects.create(
        application=application, token=secrets.token_urlsafe(32),
        expires=timezone.now() + dt.timedelta(hours=1), scope="authority",
    )  # fmt: skip
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def _access_token(world, client, container):
    session = client.post(
        "/api/v1/sessions", {"verbs": ["GET"], "container": container.container_id}, format="json"
    ).json()
    traded = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    return traded.json()["access_token"]


def test_only_an_owner_admin_registers_one(world):
    path = f"/api/v1/owners/{world['acme'].slug}/resource-servers"
    assert world["operator"].post(path, {"name": "x"}, format="json").status_code == 403
    assert world["globex_service"].post(path, {"name": "x"}, format="json").status_code == 404


def test_a_resource_server_verifies_and_introspects_for_its_owner(world, rs):
    verify = {"verb": "GET", "container": world["container"].container_id}
    answer = rs.post("/api/v1/verify", verify, format="json")
    assert answer.status_code == 200 and answer.json()["decision"] == "allow"
    access = _access_token(world, world["operator"], world["container"])
    introspected = rs.post("/api/v1/introspect", {"token": access}, format="json").json()
    assert introspected["active"] is True
    assert (
        rs.post("/api/v1/verify", {**verify, "access_token": access}, format="json").json()[
            "decision"
        ]
        == "allow"
    )


def test_a_resource_server_sees_nothing_of_another_owner(world, rs):
    foreign = {"verb": "GET", "container": world["globex_container"].container_id}
    assert rs.post("/api/v1/verify", foreign, format="json").status_code == 404
    globex_operator = world["globex_service"]
    access = _access_token(world, globex_operator, world["globex_container"])
    assert rs.post("/api/v1/introspect", {"token": access}, format="json").json() == {
        "active": False
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "refused"),
    [
        ("get", "/api/v1/containers", None, "empty"),
        ("get", "/api/v1/sessions", None, "empty"),
        ("get", "/api/v1/bearer-grants", None, "empty"),
        ("get", "/api/v1/eacl-tables", None, "empty"),
        ("get", "/api/v1/owners", None, "empty"),
        ("get", "/api/v1/containers/{cid}", None, 404),
        ("post", "/api/v1/sessions", {"verbs": ["GET"], "container": "{cid}"}, (403, 404)),
        ("post", "/api/v1/bearer-grants", {"container": "{cid}", "rules": ["deny get others"]},
         404),
        ("post", "/api/v1/containers", {"name": "x", "owner": "{slug}"}, (403, 404)),
    ],
)  # fmt: skip
def test_a_resource_server_may_do_nothing_else(world, rs, method, path, body, refused):
    facts = {"cid": world["container"].container_id, "slug": world["acme"].slug}
    path = path.format(**facts)
    if body:
        body = {k: (v.format(**facts) if isinstance(v, str) else v) for k, v in body.items()}
    response = getattr(rs, method)(path, body, format="json") if body else getattr(rs, method)(path)
    if refused == "empty":
        assert response.status_code == 200 and response.json()["results"] == []
    else:
        expected = refused if isinstance(refused, tuple) else (refused,)
        assert response.status_code in expected, response.content


def test_a_resource_server_cannot_revoke_the_owners_tokens(world, rs):
    access = _access_token(world, world["operator"], world["container"])
    rs.post("/api/v1/revoke", {"token": access}, format="json")
    assert (
        world["service"]
        .post("/api/v1/introspect", {"token": access}, format="json")
        .json()["active"]
    )
