"""The OpenAPI schema says what the API does (authority.api.schema), and the API does what it says
about unknown fields, JSON types and paging (authority.api.common)."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from authority.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_lists_are_documented_as_the_paged_envelope(schema):
    lists = [
        (path, operation)
        for path, method, operation in _operations(schema)
        if method == "get" and operation["operationId"].endswith("_list")
    ]
    assert len(lists) == 5
    for path, operation in lists:
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        envelope = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(envelope["properties"]) == {"count", "next", "previous", "results"}, path
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"limit", "offset"} <= names, path


def test_every_operation_documents_its_errors_with_the_error_body(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, _method, operation in _operations(schema):
        for status in ("400", "401", "403", "404", "429", "503"):
            response = operation["responses"][status]
            assert response["content"]["application/json"]["schema"] == error, (path, status)
        assert "Retry-After" in operation["responses"]["503"]["headers"]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]


def test_security_schemes_include_oauth2_bearer_and_the_client_token(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/o/token/"
    assert schemes["clientToken"]["name"] == "Authorization"
    owners = schema["paths"]["/api/v1/owners"]["get"]["security"]
    assert {"oauth2": []} in owners and {"clientToken": []} in owners


def test_request_bodies_refuse_unknown_fields_but_oauth2_endpoints_ignore_them(schema):
    oauth2 = {"TokenInputRequest", "TokenExchangeInputRequest"}  # RFC 6749 §3.1
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            refuses = component.get("additionalProperties") is False
            assert refuses is (name not in oauth2), name


@pytest.fixture
def admin_client(acme, member, user_client):
    return user_client(member(acme, Role.ADMIN))


def test_an_unknown_field_is_refused(admin_client):
    response = admin_client.post(
        "/api/v1/sessions/dynamic", {"lifetime": 600, "lifetme": 5}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"lifetme": "Unknown field."}
    nested = admin_client.post(
        "/api/v1/trade", {"subject_token": "sa1.x.y", "proof": {"tiem": 1}}, format="json"
    )
    assert nested.status_code == 400
    assert nested.json()["fields"] == {"proof.tiem": "Unknown field."}


def test_a_json_scalar_of_another_type_is_refused(admin_client):
    response = admin_client.post("/api/v1/sessions/dynamic", {"lifetime": "600"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"lifetime": "Must be an integer."}
    response = admin_client.post("/api/v1/containers", {"name": 12}, format="json")
    assert response.json()["fields"] == {"name": "Must be a string."}


def test_oauth2_endpoints_ignore_unknown_parameters(admin_client):
    # RFC 6749 §3.1; and a parameter without a value counts as omitted.
    response = admin_client.post(
        "/api/v1/introspect", {"token": "x", "token_type_hint": "", "extra": "1"}
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=2", 200), ("limit=abc", 400), ("limit=0", 400), ("limit=5000", 400),
     ("offset=-1", 400), ("offset=3", 200)],
)  # fmt: skip
def test_paging_refuses_what_it_cannot_use(admin_client, query, status):
    response = admin_client.get(f"/api/v1/containers?{query}")
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["error"] == "invalid"
