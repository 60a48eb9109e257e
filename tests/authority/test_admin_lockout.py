"""Admin login lockout (django-axes, issue 17): a user name locked out from one address after
AXES_FAILURE_LIMIT failures, with 429 and Retry-After; not from elsewhere; API logins untouched."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def _admin_login(username, password, address="198.51.100.7", **meta):
    return Client().post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **meta,
    )


def test_an_admin_is_locked_out_after_five_failures_from_one_address(acme, tenant, settings):
    admin = tenant(acme)["admin"]
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _admin_login(admin.username, "guess").status_code == 200  # the form again
    locked = _admin_login(admin.username, "guess")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    assert _admin_login(admin.username, PASSWORD).status_code == 429  # the right one too
    # From elsewhere the name still logs in: guessing it locks nobody out everywhere.
    elsewhere = _admin_login(admin.username, PASSWORD, address="203.0.113.9")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/admin/"


def test_a_forged_forwarded_for_does_not_escape_the_lockout(acme, tenant, settings):
    admin = tenant(acme)["admin"]
    for index in range(settings.AXES_FAILURE_LIMIT):
        _admin_login(admin.username, "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}")
    assert (
        _admin_login(admin.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    )


def test_a_success_resets_the_count(acme, tenant, settings):
    admin = tenant(acme)["admin"]
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _admin_login(admin.username, "guess")
    assert _admin_login(admin.username, PASSWORD).status_code == 302
    assert _admin_login(admin.username, "guess").status_code == 200  # counting from zero


def test_api_logins_keep_their_own_throttle(acme, tenant, settings):
    admin = tenant(acme)["admin"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _admin_login(admin.username, "guess", address="127.0.0.1")
    response = APIClient().post(
        "/api/v1/auth/login", {"username": admin.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
