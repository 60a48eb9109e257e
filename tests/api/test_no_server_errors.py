"""Bad input never gets a 500: every operation of the OpenAPI schema, called by a member and by
nobody, with malformed bodies and path parameters, answers a 4xx with the JSON error body."""

from __future__ import annotations

import json
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from authority.models import Role
from tests.factories import ContainerFactory
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner

pytestmark = pytest.mark.django_db

BODIES = [
    b"{not json",
    b"[]",
    b"null",
    b'"text"',
    b"{}",
    json.dumps({"subject_token": None, "token": [], "verbs": "GET", "name": {"a": 1}}).encode(),
    json.dumps({key: "\x00" for key in ("subject_token", "token", "name", "container")}).encode(),
    json.dumps({key: "x" * 100_000 for key in ("subject_token", "token", "name")}).encode(),
    json.dumps({"proof": {"time": 10**30, "nonce": 1, "signature": "%%%"}}).encode(),
    json.dumps({"verbs": [None, 1, {}], "expires_in": -1, "lifetime": "forever"}).encode(),
]
PATH_VALUES = [str(uuid.uuid4()), "not-an-id", "%00", "1" * 300]


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method


def _paths(template: str, real: dict[str, list[str]]):
    """The template with each path parameter junk, or (all of them) the ids of real objects."""
    if "{" not in template:
        return [template]
    names = [part.partition("}")[0] for part in template.split("{")[1:]]
    choices = [[value] * len(names) for value in PATH_VALUES]
    choices += [[real[name][index] for name in names] for index in range(2)]
    paths = []
    for values in choices:
        path = template
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", value)
        paths.append(path)
    return paths


def _real_objects(client, acme) -> dict[str, list[str]]:
    """Two objects of each kind the paths name, made through the API."""
    container = ContainerFactory(owner=acme)
    cid = container.container_id

    def made(path, body):
        response = client.post(path, body, format="json")
        assert response.status_code == 201, (path, response.content)
        return response.json()

    delegation = made("/api/v1/sessions", {"verbs": ["GET"], "container": cid})
    dynamic = made("/api/v1/sessions/dynamic", {"lifetime": 3600})
    table = made("/api/v1/eacl-tables", {"name": "t", "rules": ["deny put others"]})
    receiver = str(OwnerID.from_public_key(SoftwareSigner().public_key()))
    grant = made(
        "/api/v1/bearer-grants",
        {"container": cid, "receiver": receiver, "rules": ["allow get others"]},
    )
    return {
        "session_id": [delegation["id"], dynamic["id"]],
        "container_id": [cid, ContainerFactory(owner=acme).container_id],
        "table_id": [table["id"], table["id"]],
        "grant_id": [grant["id"], grant["id"]],
        "slug": [acme.slug, acme.slug],
    }


def test_malformed_requests_to_every_operation_get_a_4xx_json_error(acme, member, user_client):
    clients = {"member": user_client(member(acme, Role.ADMIN)), "nobody": APIClient()}
    real = _real_objects(clients["member"], acme)
    failures = []
    for template, method in _operations():
        for path in _paths(template, real):
            for who, client in clients.items():
                bodies = BODIES if method in ("post", "put", "patch") else [None]
                for body in bodies:
                    call = getattr(client, method)
                    if body is None:
                        response = call(path)
                    else:
                        response = call(path, data=body, content_type="application/json")
                    if response.status_code >= 500:
                        failures.append((method.upper(), path[:80], who, body and body[:60]))
                    elif response.status_code >= 400 and response.get(
                        "Content-Type", ""
                    ).startswith("application/json"):
                        assert "error" in response.json() or "detail" in response.json()
    assert failures == []
