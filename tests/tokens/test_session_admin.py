"""The admin's session list is scoped and its actions go through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from authority.models import Role
from tokens.models import Session

pytestmark = pytest.mark.django_db


def test_admin_lists_own_sessions_and_cancels_through_the_service(world, issue, member, globex):
    own = issue()
    foreign = issue(
        client=world["globex_service"], container=world["globex_container"].container_id
    )
    client = Client()
    client.force_login(member(world["acme"], Role.ADMIN))
    page = client.get("/admin/tokens/session/").content.decode()
    assert own["id"] in page and foreign["id"] not in page
    client.post(
        "/admin/tokens/session/",
        {"action": "cancel", "_selected_action": [own["id"], foreign["id"]], "confirmed": "yes"},
    )
    assert Session.objects.get(pk=own["id"]).cancelled_at is not None
    assert Session.objects.get(pk=foreign["id"]).cancelled_at is None


def test_admin_renew_requires_being_the_renewer(world, issue, member):
    session = issue()
    client = Client()
    client.force_login(member(world["acme"], Role.ADMIN))
    response = client.post(
        "/admin/tokens/session/",
        {"action": "renew", "_selected_action": [session["id"]]},
        follow=True,
    )
    assert "Only the session&#x27;s renewer" in response.content.decode()
