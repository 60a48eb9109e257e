"""Fixtures for the session lifecycle: tenants with members and service accounts, and helpers
that issue sessions through the API."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from authority.models import Role
from authority.services.eacl_tables import eacl_wire_tables
from tests.factories import ContainerFactory
from tokens.wire.signature import SoftwareSigner


@pytest.fixture(autouse=True)
def cold_wire_tables() -> None:
    """Verify keeps converted eACL tables per process; each test starts without them (not yet
    cleared by tests/conftest.py's `fresh_caches`)."""
    eacl_wire_tables.clear()


@pytest.fixture
def world(acme, globex, member, user_client, service_client):
    operator = member(acme, Role.OPERATOR)
    other_operator = member(acme, Role.OPERATOR)
    admin = member(acme, Role.ADMIN)
    viewer = member(acme, Role.VIEWER)
    return {
        "acme": acme,
        "globex": globex,
        "container": ContainerFactory(owner=acme),
        "globex_container": ContainerFactory(owner=globex),
        "operator_user": operator,
        "operator": user_client(operator),
        "other_operator": user_client(other_operator),
        "admin": user_client(admin),
        "viewer": user_client(viewer),
        "service": service_client(acme, Role.OPERATOR),
        "globex_service": service_client(globex, Role.OPERATOR),
        "anonymous": APIClient(),
    }


@pytest.fixture
def issue(world) -> Any:
    """issue(client=operator, **body) -> the 201 body of POST /api/v1/sessions."""

    def make(client: APIClient | None = None, **body: Any) -> dict[str, Any]:
        payload = {"verbs": ["GET", "HEAD"], "container": world["container"].container_id, **body}
        response = (client or world["operator"]).post("/api/v1/sessions", payload, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def trusted_party() -> SoftwareSigner:
    """The party a static session trusts: it holds the session key."""
    return SoftwareSigner()
