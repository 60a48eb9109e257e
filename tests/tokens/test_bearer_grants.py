"""Bearer grants: NeoFS bearer tokens signed by the container owner's HSM key, from a stored
table, NeoFS JSON or rule lines; NeoFS or FrostFS flavour; listed, scoped, revocable."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from authority.models import Role
from tests.wire.neofs_schema import MESSAGES
from tokens.wire.bearer import BearerToken, Flavour
from tokens.wire.eacl_rules import format_rule
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner
from tokens.wire.token import Check

pytestmark = pytest.mark.django_db

RECEIVER = OwnerID.from_public_key(SoftwareSigner().public_key())


def _issue(world, client=None, **body):
    payload = {
        "container": world["container"].container_id,
        "receiver": str(RECEIVER),
        "rules": ["deny get obj:Classification=secret others"],
        **body,
    }
    return (client or world["operator"]).post("/api/v1/bearer-grants", payload, format="json")


def test_issue_signs_a_neofs_bearer_token_with_the_owners_key(world):
    response = _issue(world)
    assert response.status_code == 201, response.content
    grant = response.json()
    token = BearerToken.decode(base64.b64decode(grant["token"]["binary"]))
    assert token.check() is Check.OK
    assert token.body.issuer == OwnerID.from_string(world["acme"].neofs_owner_id)
    assert token.body.owner_id == RECEIVER
    assert token.body.eacl_table.container_id.value == bytes(world["container"].cid)
    assert [format_rule(r) for r in token.body.eacl_table.records] == [
        "deny get obj:Classification=secret others"
    ]
    assert token.body.lifetime.exp > token.body.lifetime.iat
    assert BearerToken.from_json(grant["token"]["json"]) == token
    # An independent protobuf schema reads the same fields.
    parsed = MESSAGES["BearerToken"].FromString(token.encode())
    assert parsed.body.issuer.value == token.body.issuer.value


def test_frostfs_owners_get_the_frostfs_flavour(world):
    world["acme"].bearer_flavour = "frostfs"
    world["acme"].save()
    grant = _issue(world).json()
    token = BearerToken.decode(base64.b64decode(grant["token"]["binary"]), flavour=Flavour.FROSTFS)
    assert token.body.flavour is Flavour.FROSTFS and token.check() is Check.OK


def test_tables_from_storage_or_neofs_json(world, tenant):
    stored = tenant(world["acme"])["table"]
    both = _issue(world, container=stored.container.container_id, eacl_table=str(stored.public_id))
    assert both.status_code == 400  # rules and a stored table: which one?
    only_table = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": stored.container.container_id, "eacl_table": str(stored.public_id)},
        format="json",
    )
    assert only_table.status_code == 201, only_table.content
    neofs_json = world["operator"].post(
        "/api/v1/bearer-grants",
        {
            "container": world["container"].container_id,
            "table": {
                "records": [{"operation": "PUT", "action": "DENY", "targets": [{"role": "OTHERS"}]}]
            },
        },
        format="json",
    )
    assert neofs_json.status_code == 201, neofs_json.content


def test_anyone_receiver_and_bad_input(world):
    anyone = _issue(world, receiver=None).json()
    token = BearerToken.decode(base64.b64decode(anyone["token"]["binary"]))
    assert token.body.owner_id is None and anyone["receiver"] == ""
    assert "receiver" in _issue(world, receiver="0OIl").json()["fields"]
    assert "rules[0].operation" in _issue(world, rules=["deny fly others"]).json()["fields"]
    assert _issue(world, lifetime=0).status_code == 400


def test_roles_and_tenants(world):
    assert _issue(world, client=world["viewer"]).status_code == 403
    assert _issue(world, container=world["globex_container"].container_id).status_code == 404
    grant = _issue(world).json()
    assert world["globex_service"].get(f"/api/v1/bearer-grants/{grant['id']}").status_code == 404
    assert world["globex_service"].get("/api/v1/bearer-grants").json()["count"] == 0


def test_revoke_is_recorded_and_idempotent(world):
    grant = _issue(world).json()
    first = world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert first.status_code == 200 and first.json()["revoked_at"]
    second = world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert world["viewer"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke").status_code == 403


def test_admin_lists_revokes_and_downloads(world, member):
    grant = _issue(world).json()
    client = Client()
    client.force_login(member(world["acme"], Role.ADMIN))
    assert grant["id"] in client.get("/admin/tokens/bearergrant/").content.decode()
    download = client.get(f"/admin/tokens/bearergrant/{grant['id']}/download/")
    assert download.content == base64.b64decode(grant["token"]["binary"])
    client.post(
        "/admin/tokens/bearergrant/",
        {"action": "revoke", "_selected_action": [grant["id"]], "confirmed": "yes"},
    )
    assert world["operator"].get(f"/api/v1/bearer-grants/{grant['id']}").json()["revoked_at"]
