"""Errors under /admin/ are pages in the admin's look; the API keeps its JSON body."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from authority.console.errors import server_error
from authority.models import Role

pytestmark = pytest.mark.django_db


def test_a_refused_admin_page_is_an_html_403_in_the_admins_look(acme, member):
    client = Client()
    client.force_login(member(acme, Role.VIEWER))
    response = client.get("/admin/authority/container/add/")  # a viewer adds nothing
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Session Authority console" in page and "Not allowed" in page
    assert '"error"' not in page


def test_an_unknown_admin_page_is_an_html_404(acme, member):
    client = Client()
    client.force_login(member(acme, Role.ADMIN))
    response = client.get("/admin/tokens/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Not found" in response.content.decode()


def test_the_api_and_other_paths_keep_json(acme, member):
    client = Client()
    client.force_login(member(acme, Role.ADMIN))
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such resource."}


def test_a_console_500_is_html_and_needs_no_database():
    request = RequestFactory().get("/admin/tokens/session/")
    response = server_error(request)  # no database access: this test has none
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Server error" in response.content.decode()
    api = server_error(RequestFactory().get("/api/v1/sessions"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
