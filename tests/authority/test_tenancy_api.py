"""The owner-scoped tenancy API: isolation between tenants, roles, and errors for bad input."""

from __future__ import annotations

import base58
import pytest

from authority.models import AuditEvent, Container, EACLTable, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme, globex, member, user_client, service_client, tenant):
    """acme and globex, each with a container and an eACL table; clients for acme's principals."""
    return {
        "acme": tenant(acme),
        "globex": tenant(globex),
        "operator": user_client(member(acme, Role.OPERATOR)),
        "viewer": user_client(member(acme, Role.VIEWER)),
        "service": service_client(acme, Role.OPERATOR),
    }


def _cid(container: Container) -> str:
    return container.container_id


@pytest.mark.parametrize("who", ["operator", "viewer", "service"])
def test_lists_show_only_own_tenant(world, who):
    client = world[who]
    owners = client.get("/api/v1/owners").json()["results"]
    assert [o["slug"] for o in owners] == ["acme"]
    containers = client.get("/api/v1/containers").json()["results"]
    assert [c["container_id"] for c in containers] == [_cid(world["acme"]["container"])]
    tables = client.get("/api/v1/eacl-tables").json()["results"]
    assert [t["id"] for t in tables] == [str(world["acme"]["table"].public_id)]


@pytest.mark.parametrize("who", ["operator", "viewer", "service"])
def test_other_tenants_objects_are_404_for_every_method(world, who):
    client = world[who]
    foreign_cid = _cid(world["globex"]["container"])
    foreign_table = world["globex"]["table"].public_id
    calls = [
        ("get", "/api/v1/owners/globex", None),
        ("get", f"/api/v1/containers/{foreign_cid}", None),
        ("patch", f"/api/v1/containers/{foreign_cid}", {"name": "stolen"}),
        ("delete", f"/api/v1/containers/{foreign_cid}", None),
        ("get", f"/api/v1/eacl-tables/{foreign_table}", None),
        ("patch", f"/api/v1/eacl-tables/{foreign_table}", {"name": "stolen"}),
        ("delete", f"/api/v1/eacl-tables/{foreign_table}", None),
        ("post", "/api/v1/containers", {"owner": "globex", "name": "planted"}),
        ("post", "/api/v1/eacl-tables", {"name": "planted", "container": foreign_cid, "rules": []}),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["error"] == "not_found"
    globex = world["globex"]
    assert Container.objects.get(pk=globex["container"].pk).name == globex["container"].name
    assert EACLTable.objects.get(pk=globex["table"].pk).name == globex["table"].name
    assert not Container.objects.filter(name="planted").exists()


def test_foreign_eacl_table_cannot_be_attached(world):
    response = world["operator"].patch(
        f"/api/v1/containers/{_cid(world['acme']['container'])}",
        {"eacl_table": str(world["globex"]["table"].public_id)},
        format="json",
    )
    assert response.status_code == 404


def test_viewer_cannot_write(world):
    viewer = world["viewer"]
    cid = _cid(world["acme"]["container"])
    table = world["acme"]["table"].public_id
    calls = [
        ("post", "/api/v1/containers", {"name": "new"}),
        ("patch", f"/api/v1/containers/{cid}", {"name": "renamed"}),
        ("delete", f"/api/v1/containers/{cid}", None),
        ("post", "/api/v1/eacl-tables", {"name": "t", "rules": ["deny put others"]}),
        ("patch", f"/api/v1/eacl-tables/{table}", {"rules": []}),
        ("delete", f"/api/v1/eacl-tables/{table}", None),
    ]
    for method, url, body in calls:
        response = getattr(viewer, method)(url, body, format="json")
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["error"] == "forbidden"
    assert Container.objects.filter(owner__slug="acme").count() == 1
    assert world["acme"]["table"].records.count() == 1


def test_operator_crud_round_trip_is_audited(world):
    client = world["service"]
    created = client.post(
        "/api/v1/containers", {"name": "logs", "basic_acl": "0x1FBFBFFF"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner"] == "acme" and body["basic_acl"] == "0x1FBFBFFF"
    assert len(base58.b58decode(body["container_id"])) == 32

    table = client.post(
        "/api/v1/eacl-tables",
        {
            "name": "logs-acl",
            "container": body["container_id"],
            "rules": ["deny get obj:Classification=secret others", "allow get others"],
        },
        format="json",
    )
    assert table.status_code == 201, table.content
    assert table.json()["rules"] == [
        "deny get obj:Classification=secret others",
        "allow get others",
    ]
    attached = client.patch(
        f"/api/v1/containers/{body['container_id']}",
        {"eacl_table": table.json()["id"]},
        format="json",
    )
    assert attached.json()["eacl_table"] == table.json()["id"]
    deleted = client.delete(f"/api/v1/containers/{body['container_id']}")
    assert deleted.status_code == 204
    actions = list(AuditEvent.objects.filter(owner__slug="acme").values_list("action", flat=True))
    assert actions[-4:] == [
        "container.create",
        "eacl_table.create",
        "container.update",
        "container.delete",
    ]
    assert all(e.actor.startswith("app:") for e in AuditEvent.objects.order_by("-pk")[:4])


def test_eacl_table_imports_and_exports_neofs_json(world):
    cid = world["acme"]["container"].cid
    neofs_json = {
        "version": {"major": 2, "minor": 13},
        "containerID": {"value": __import__("base64").b64encode(bytes(cid)).decode()},
        "records": [
            {
                "operation": "PUT",
                "action": "DENY",
                "filters": [
                    {
                        "headerType": "OBJECT",
                        "matchType": "NUM_GT",
                        "key": "$Object:payloadLength",
                        "value": "4096",
                    }
                ],
                "targets": [{"role": "OTHERS", "keys": []}],
            }
        ],
    }
    created = world["operator"].post(
        "/api/v1/eacl-tables", {"name": "imported", "table": neofs_json}, format="json"
    )
    assert created.status_code == 201, created.content
    exported = created.json()
    assert exported["container"] == _cid(world["acme"]["container"])
    assert exported["table"]["records"] == neofs_json["records"]
    assert exported["rules"] == ["deny put obj:$Object:payloadLength>4096 others"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ["not", "a", "string"]}, "name"),
        ({"name": "x", "basic_acl": "0xZZ"}, "basic_acl"),
        ({"name": "x", "basic_acl": 2**40}, "basic_acl"),
        ({"name": "x", "container_id": "3mJr7AoUXx2Wqd"}, "container_id"),
        ({"name": "x", "container_id": "0OIl"}, "container_id"),
        ({}, "name"),
    ],
)
def test_bad_container_input_is_400_naming_the_field(world, body, field):
    response = world["operator"].post("/api/v1/containers", body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "invalid"
    assert field in payload["fields"], payload


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"records": [{"operation": "FETCH", "action": "DENY"}]}, "table.records[0].operation"),
        ({"records": [{"operation": "GET", "action": 9}]}, "table.records[0].action"),
        (
            {
                "records": [
                    {
                        "operation": "GET",
                        "action": "DENY",
                        "filters": [
                            {
                                "headerType": "OBJECT",
                                "matchType": "NUM_GT",
                                "key": "size",
                                "value": "big",
                            }
                        ],
                    }
                ]
            },
            "table.records[0].filters[0].value",
        ),
        (
            {"records": [{"operation": "GET", "action": "DENY", "targets": [{"keys": ["@@"]}]}]},
            "table.records[0].targets[0].keys[0]",
        ),
        ({"containerID": {"value": "AAAA"}}, "table.containerID.value"),
        ({"records": "all"}, "table.records"),
    ],
)
def test_bad_eacl_table_is_400_naming_the_field(world, table, field):
    response = world["operator"].post(
        "/api/v1/eacl-tables", {"name": "bad", "table": table}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert not EACLTable.objects.filter(name="bad").exists()


def test_bad_rule_syntax_names_the_rule(world):
    response = world["operator"].post(
        "/api/v1/eacl-tables", {"name": "bad", "rules": ["deny fetch others"]}, format="json"
    )
    assert response.status_code == 400
    assert "rules[0].operation" in response.json()["fields"]


def test_malformed_json_is_400(world):
    response = world["operator"].generic(
        "POST", "/api/v1/containers", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed"


def test_non_object_body_is_400(world):
    response = world["operator"].post("/api/v1/containers", [1, 2], format="json")
    assert response.status_code == 400


def test_malformed_path_ids_are_404(world):
    client = world["operator"]
    assert client.get("/api/v1/containers/not-base58-0OIl").status_code == 404
    assert client.get("/api/v1/eacl-tables/not-a-uuid").status_code == 404


def test_unauthenticated_is_401_with_error_body(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/containers")
    assert response.status_code == 401
    assert response.json()["error"] == "auth_missing"  # flow 8's three authentication errors
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    refused = bad.get("/api/v1/containers")
    assert refused.status_code == 401
    assert refused.json()["error"] == "auth_denied"


def test_member_of_no_owner_sees_nothing(db, user_client):
    from tests.factories import UserFactory

    client = user_client(UserFactory())
    assert client.get("/api/v1/owners").json()["results"] == []
    response = client.post("/api/v1/containers", {"name": "x"}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["fields"]


@pytest.mark.parametrize("who", ["operator", "service"])
def test_registering_another_owners_container_id_is_404_and_ones_own_409(world, who):
    client = world[who]
    foreign = client.post(
        "/api/v1/containers",
        {"name": "x", "container_id": _cid(world["globex"]["container"])},
        format="json",
    )
    assert foreign.status_code == 404 and foreign.json()["error"] == "not_found"
    assert "registered" not in foreign.content.decode()
    own = client.post(
        "/api/v1/containers",
        {"name": "x", "container_id": _cid(world["acme"]["container"])},
        format="json",
    )
    assert own.status_code == 409 and own.json()["error"] == "conflict"
