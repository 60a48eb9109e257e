"""Console actions on sessions and bearer grants (issue 15): buttons on the detail page, a
confirmation page before what cannot be undone, honest messages (done / nothing to do / refused),
downloads in binary and JSON; another owner's rows are 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from authority.models import AuditEvent, Role
from tokens.models import BearerGrant, Session
from tokens.wire.bearer import BearerToken
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner

pytestmark = pytest.mark.django_db


def _console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_console(world, member):
    return _console(member(world["acme"], Role.ADMIN))


@pytest.fixture
def grant(world):
    payload = {
        "container": world["container"].container_id,
        "receiver": str(OwnerID.from_public_key(SoftwareSigner().public_key())),
        "rules": ["deny get obj:Classification=secret others"],
    }
    response = world["operator"].post("/api/v1/bearer-grants", payload, format="json")
    assert response.status_code == 201, response.content
    return BearerGrant.objects.get(pk=response.json()["id"])


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_session_page_has_a_cancel_button_that_asks_first(world, issue, admin_console):
    session = issue()
    page = admin_console.get(f"/admin/tokens/session/{session['id']}/change/")
    assert page.status_code == 200
    cancel_url = f"/admin/tokens/session/{session['id']}/cancel/"
    assert cancel_url in page.content.decode()
    asked = admin_console.get(cancel_url)
    assert asked.status_code == 200
    assert "cannot be renewed or used again" in asked.content.decode()
    assert Session.objects.get(pk=session["id"]).cancelled_at is None  # asking did nothing
    done = admin_console.post(cancel_url, {"confirmed": "yes"}, follow=True)
    assert Session.objects.get(pk=session["id"]).cancelled_at is not None
    assert any(m.startswith("Cancelled: ") for m in _messages(done))
    again = admin_console.post(cancel_url, {"confirmed": "yes"}, follow=True)
    assert any("already cancelled" in m for m in _messages(again))
    assert not any(m.startswith("Cancelled: ") for m in _messages(again))
    assert AuditEvent.objects.filter(action="session.cancel", object_id=session["id"]).count() == 1
    # a cancelled session's page no longer offers Cancel
    page = admin_console.get(f"/admin/tokens/session/{session['id']}/change/")
    assert cancel_url not in page.content.decode()


def test_bulk_cancel_asks_first_then_reports_honestly(world, issue, admin_console):
    first, second = issue(), issue()
    url = "/admin/tokens/session/"
    asked = admin_console.post(
        url, {"action": "cancel", "_selected_action": [first["id"], second["id"]]}
    )
    assert asked.status_code == 200 and b"Yes, cancel session" in asked.content
    assert not Session.objects.filter(cancelled_at__isnull=False).exists()
    admin_console.post(
        url, {"action": "cancel", "_selected_action": [first["id"]], "confirmed": "yes"}
    )
    both = admin_console.post(
        url,
        {"action": "cancel", "_selected_action": [first["id"], second["id"]], "confirmed": "yes"},
        follow=True,
    )
    shown = _messages(both)
    assert any(m.startswith("Cancelled: ") and second["id"] in m for m in shown), shown
    assert any("already cancelled" in m and first["id"] in m for m in shown), shown


def test_a_refused_cancel_says_refused_not_done(world, issue, member):
    session = issue()
    operator = _console(member(world["acme"], Role.OPERATOR))  # neither renewer nor admin
    response = operator.post(
        "/admin/tokens/session/",
        {"action": "cancel", "_selected_action": [session["id"]], "confirmed": "yes"},
        follow=True,
    )
    shown = _messages(response)
    assert any(m.startswith("Refused: ") for m in shown), shown
    assert not any(m.startswith("Cancelled") for m in shown)
    assert response["Content-Type"].startswith("text/html")
    assert Session.objects.get(pk=session["id"]).cancelled_at is None
    page = operator.get(f"/admin/tokens/session/{session['id']}/change/").content.decode()
    assert f"/admin/tokens/session/{session['id']}/cancel/" not in page  # not offered


def test_another_owners_session_actions_are_404(world, issue, admin_console):
    foreign = issue(
        client=world["globex_service"], container=world["globex_container"].container_id
    )
    for url in (
        f"/admin/tokens/session/{foreign['id']}/cancel/",
        f"/admin/tokens/session/{foreign['id']}/renew/",
    ):
        assert admin_console.get(url).status_code == 404
        assert admin_console.post(url, {"confirmed": "yes"}).status_code == 404
    assert Session.objects.get(pk=foreign["id"]).cancelled_at is None


def test_renew_button_is_for_the_renewer_and_says_until_when(world, issue, member):
    operator = world["operator_user"]
    session = issue()  # the operator issued it: it is the renewer
    console = _console(operator)
    page = console.get(f"/admin/tokens/session/{session['id']}/change/").content.decode()
    renew_url = f"/admin/tokens/session/{session['id']}/renew/"
    assert renew_url in page
    response = console.post(renew_url, follow=True)
    assert any(m.startswith("Renewed: ") and "until" in m for m in _messages(response))


def test_grant_page_revokes_after_confirmation_and_says_already_revoked(grant, admin_console):
    page = admin_console.get(f"/admin/tokens/bearergrant/{grant.pk}/change/").content.decode()
    revoke_url = f"/admin/tokens/bearergrant/{grant.pk}/revoke/"
    assert revoke_url in page
    asked = admin_console.get(revoke_url)
    assert b"Yes, revoke bearer grant" in asked.content
    grant.refresh_from_db()
    assert grant.revoked_at is None
    done = admin_console.post(revoke_url, {"confirmed": "yes"}, follow=True)
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert any(m.startswith("Revoked: ") for m in _messages(done))
    again = admin_console.post(
        "/admin/tokens/bearergrant/",
        {"action": "revoke", "_selected_action": [grant.pk], "confirmed": "yes"},
        follow=True,
    )
    shown = _messages(again)
    assert any("already revoked" in m for m in shown) and not any(
        m.startswith("Revoked") for m in shown
    )


def test_a_viewer_cannot_revoke_and_is_told(grant, world, member):
    viewer = _console(member(world["acme"], Role.VIEWER))
    response = viewer.post(
        "/admin/tokens/bearergrant/",
        {"action": "revoke", "_selected_action": [grant.pk], "confirmed": "yes"},
        follow=True,
    )
    assert any(m.startswith("Refused: ") for m in _messages(response))
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_grant_downloads_binary_and_json(grant, admin_console, world, member):
    page = admin_console.get(f"/admin/tokens/bearergrant/{grant.pk}/change/").content.decode()
    assert "download.json" in page
    assert f"epoch {grant.exp} (starts " in page  # an epoch shown with its time, not bare
    binary = admin_console.get(f"/admin/tokens/bearergrant/{grant.pk}/download/")
    assert binary.content == bytes(grant.token)
    as_json = admin_console.get(f"/admin/tokens/bearergrant/{grant.pk}/download.json")
    assert as_json["Content-Type"] == "application/json"
    assert BearerToken.from_json(json.loads(as_json.content)) == BearerToken.decode(binary.content)
    stranger = _console(member(world["globex"], Role.ADMIN))
    assert stranger.get(f"/admin/tokens/bearergrant/{grant.pk}/download.json").status_code == 404
    assert stranger.get(f"/admin/tokens/bearergrant/{grant.pk}/revoke/").status_code == 404
