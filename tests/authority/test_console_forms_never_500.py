"""Every console form answers a bad value on the form (issue 15): hostile or out-of-range input
to each add and change form of the tenancy and token admins never gives a 500."""

from __future__ import annotations

import pytest

from tests.authority.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["", " ", "-1", "99999999999999999999999", "x" * 5000, "\u0000", "☃"]


def _forms(world):
    acme = world["acme"]
    return {
        "/admin/authority/owner/add/": [
            "name", "slug", "public_key", "bearer_flavour", "renew_period", "max_lifetime",
        ],
        f"/admin/authority/owner/{acme['container'].owner_id}/change/": [
            "name", "bearer_flavour", "renew_period", "max_lifetime",
        ],
        "/admin/authority/container/add/": ["owner", "name", "basic_acl", "eacl_table"],
        f"/admin/authority/container/{acme['container'].pk}/change/": [
            "name", "basic_acl", "eacl_table",
        ],
        "/admin/authority/eacltable/add/": ["owner", "name", "container", "rules"],
        f"/admin/authority/eacltable/{acme['table'].pk}/change/": ["name", "container", "rules"],
        "/admin/authority/membership/add/": ["owner", "user", "application", "role"],
        "/admin/authority/owner/service-accounts/add/": ["owner", "name", "role"],
    }  # fmt: skip


@pytest.mark.parametrize("as_superuser", [False, True])
def test_no_console_form_answers_a_500(world, acme, as_superuser):
    user = UserFactory(is_superuser=True) if as_superuser else world["acme"]["admin"]
    client = login(user)
    for url, fields in _forms(world).items():
        if url.endswith("/owner/add/") and not as_superuser:
            continue  # new tenants are a superuser's (403)
        base = {"owner": acme.pk, "name": "n", "slug": "s", "role": "operator"}
        for field in fields:
            for value in HOSTILE:
                response = client.post(url, {**base, field: value})
                assert response.status_code in (200, 302), (url, field, value[:20])
