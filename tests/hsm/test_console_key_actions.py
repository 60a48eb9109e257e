"""Console key actions (issue 15): destroy and rotate ask first on a confirmation page, say what
happened (the new key, what retired, what was already destroyed, what was refused and why); the
client-session key reset is a superuser's, with its own confirmation; "Verify chains" is offered
only to those who may run it."""

from __future__ import annotations

import pytest
from django.test import Client

from authority.models import Role
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_active_or_generate, key_generate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/hsm/keyrecord/"


def _console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def superuser_console():
    return _console(UserFactory(is_superuser=True))


def test_destroy_asks_first_and_then_says_already_destroyed(acme, member):
    console = _console(member(acme, Role.ADMIN))
    key = key_generate(purpose=KeyPurpose.DYNAMIC_SESSION, owner=acme)
    asked = console.post(CHANGELIST, {"action": "destroy", "_selected_action": [key.pk]})
    assert asked.status_code == 200 and b"Yes, destroy key" in asked.content
    assert b"nothing can bring it back" in asked.content
    key.refresh_from_db()
    assert key.state != KeyState.DESTROYED
    button = console.get(f"{CHANGELIST}{key.pk}/change/").content.decode()
    assert f"{CHANGELIST}{key.pk}/destroy/" in button
    done = console.post(f"{CHANGELIST}{key.pk}/destroy/", {"confirmed": "yes"}, follow=True)
    key.refresh_from_db()
    assert key.state == KeyState.DESTROYED
    assert _messages(done) == [f"Destroyed: {key.label}."]
    again = console.post(
        CHANGELIST,
        {"action": "destroy", "_selected_action": [key.pk], "confirmed": "yes"},
        follow=True,
    )
    assert _messages(again) == [f"Nothing to do, already destroyed: {key.label}."]


def test_rotate_asks_first_and_shows_the_new_key_and_what_retired(superuser_console):
    old = key_active_or_generate(purpose=KeyPurpose.AUDIT_HMAC)
    asked = superuser_console.get(f"{CHANGELIST}{old.pk}/rotate/")
    assert asked.status_code == 200 and b"Yes, rotate key" in asked.content
    old.refresh_from_db()
    assert old.state == KeyState.ACTIVE
    done = superuser_console.post(
        f"{CHANGELIST}{old.pk}/rotate/", {"confirmed": "yes"}, follow=True
    )
    new = KeyRecord.objects.get(purpose=KeyPurpose.AUDIT_HMAC, state=KeyState.ACTIVE)
    shown = _messages(done)
    assert len(shown) == 1 and new.label in shown[0] and f"retired: {old.label}" in shown[0]


def test_rotating_an_owner_signing_key_says_why_not(acme, member):
    console = _console(member(acme, Role.ADMIN))
    key = acme.keys.get(purpose=KeyPurpose.OWNER_SIGNING)
    response = console.post(
        CHANGELIST,
        {"action": "rotate", "_selected_action": [key.pk], "confirmed": "yes"},
        follow=True,
    )
    shown = _messages(response)
    assert len(shown) == 1 and shown[0].startswith("Refused: ") and "identity" in shown[0]
    page = console.get(f"{CHANGELIST}{key.pk}/change/").content.decode()
    assert f"{CHANGELIST}{key.pk}/rotate/" not in page  # not offered


def test_client_session_key_reset_is_a_superusers_with_confirmation(
    superuser_console, acme, member
):
    key = key_active_or_generate(purpose=KeyPurpose.CLIENT_SESSION_HMAC)
    url = f"{CHANGELIST}{key.pk}/reset_client_sessions/"
    page = superuser_console.get(f"{CHANGELIST}{key.pk}/change/").content.decode()
    assert url in page
    asked = superuser_console.get(url)
    assert b"Yes, reset client-session key" in asked.content
    key.refresh_from_db()
    assert key.state == KeyState.ACTIVE
    done = superuser_console.post(url, {"confirmed": "yes"}, follow=True)
    key.refresh_from_db()
    assert key.state == KeyState.DESTROYED
    assert _messages(done)[0].startswith("Client-session key reset: ")
    owner_admin = _console(member(acme, Role.ADMIN))
    assert owner_admin.get(url).status_code == 404  # not a key of its owners
    form = owner_admin.get(CHANGELIST).context["action_form"]
    assert "reset_client_sessions" not in [name for name, _ in form.fields["action"].choices]


def test_verify_chains_is_offered_only_to_superusers(acme, member, superuser_console):
    owner_admin = _console(member(acme, Role.ADMIN))
    page = owner_admin.get("/admin/authority/auditevent/")
    assert page.context["action_form"] is None  # no action at all is offered
    page = superuser_console.get("/admin/authority/auditevent/")
    offered = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "verify_chains" in offered
