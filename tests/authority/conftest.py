"""Fixtures of the tenancy tests: two tenants with a container and an eACL table each, and a
logged-in admin client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def world(acme: Any, globex: Any, tenant: Any) -> dict[str, Any]:
    return {"acme": tenant(acme), "globex": tenant(globex)}


def login(user: Any) -> Client:
    """A browser session of `user` (the admin's way in)."""
    client = Client()
    client.force_login(user)
    return client
