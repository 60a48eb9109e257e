"""The dashboard (the admin index): each figure against what the test made, scoped to the
operator's owners, in a number of queries that does not grow with the data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from authority.models import Role
from authority.principals import SYSTEM
from authority.services.audit import audit_chain_check, audit_seal
from authority.services.owners import owner_create
from tests.console.world import populate
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FIGURES = ("live", "expiring", "cancelled_today", "bearer_grants_live", "schedules_failing")


def figures(page: str, slug: str) -> dict[str, int]:
    """The numbers in the dashboard's row of owner `slug` (`data-owner`, `data-figure`)."""
    row = re.search(rf'<tr data-owner="{slug}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {slug}"
    cells = re.findall(r'data-figure="(\w+)">(?:<a [^>]*>)?(\d+)', row.group(1))
    return {name: int(value) for name, value in cells}


def dashboard(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_owner_admin_reads_its_owners_figures_and_no_other_owners(acme, globex, member):
    admin = member(acme, Role.ADMIN)
    made = populate(acme, admin)
    populate(globex, member(globex, Role.ADMIN), scale=2)
    page = dashboard(admin)
    assert figures(page, "acme") == {name: getattr(made, name) for name in FIGURES}
    assert 'data-owner="globex"' not in page and "Globex" not in page
    assert re.search(rf'data-figure="trades_total">{made.trades}<', page)
    assert "<svg" in page and page.count("<rect") == 1  # every trade fell in this minute


def test_a_superuser_sees_every_owner_and_the_totals(acme, globex, member):
    made_acme = populate(acme, member(acme, Role.ADMIN))
    made_globex = populate(globex, member(globex, Role.ADMIN), scale=2)
    page = dashboard(UserFactory(is_superuser=True))
    assert figures(page, "acme")["live"] == made_acme.live
    assert figures(page, "globex")["live"] == made_globex.live
    assert figures(page, "")["live"] == made_acme.live + made_globex.live
    assert re.search(rf'data-figure="trades_total">{made_acme.trades + made_globex.trades}<', page)


def test_hsm_status_key_counts_and_the_status_page_is_linked(acme, member):
    admin = member(acme, Role.ADMIN)
    page = dashboard(admin)
    # acme's signing key, made by owner_create; the authority's own keys are not acme's.
    assert re.search(r'data-purpose="owner_signing" data-state="active">.*?>1</a>', page)
    assert 'data-purpose="audit_hmac"' not in page
    assert 'href="/admin/hsm/keyrecord/status/"' in page
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/hsm/keyrecord/status/").status_code == 200


def test_audit_chain_status_and_the_last_recorded_verification(acme, member):
    admin = member(acme, Role.ADMIN)
    populate(acme, admin)
    page = dashboard(admin)
    assert "nothing sealed yet" in page and "never recorded" in page
    unsealed = int(re.search(r'data-figure="unsealed">(\d+)', page).group(1))
    assert unsealed > 0
    audit_seal()
    assert audit_chain_check(actor=SYSTEM) == []
    page = dashboard(admin)
    assert re.search(r'data-figure="unsealed">0 rows', page)
    assert "never recorded" not in page and "verified" in page
    assert "nothing sealed yet" not in page


def test_the_verify_command_records_its_result(acme):
    call_command("audit_verify")
    page = dashboard(UserFactory(is_superuser=True))
    assert "verified" in page and "system:audit_verify" in page


def test_beat_schedules_last_runs_for_superusers(acme, member):
    call_command("setup_schedules")
    page = dashboard(UserFactory(is_superuser=True))
    assert 'id="dash-beat"' in page and "never" in page
    assert 'id="dash-beat"' not in dashboard(member(acme, Role.ADMIN))


@pytest.mark.parametrize("superuser", [False, True])
def test_queries_do_not_grow_with_owners_or_sessions(acme, member, superuser):
    admin = member(acme, Role.ADMIN)
    if superuser:
        admin = UserFactory(is_superuser=True)
    populate(acme, member(acme, Role.ADMIN))

    def count() -> int:
        client = Client()
        client.force_login(admin)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/").status_code == 200
        return len(queries)

    small = count()
    for number in range(3):
        owner = owner_create(actor=SYSTEM, name=f"More {number}", slug=f"more-{number}")
        if not superuser:
            MembershipFactory(owner=owner, user=admin, role=Role.ADMIN)
        populate(owner, member(owner, Role.ADMIN), scale=3)
    populate(acme, member(acme, Role.ADMIN), scale=3)
    assert count() == small


def test_each_figure_links_to_the_rows_it_counts(acme, globex, member):
    admin = member(acme, Role.ADMIN)
    populate(acme, admin)
    populate(globex, member(globex, Role.ADMIN), scale=2)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    row = re.search(r'<tr data-owner="acme">(.*?)</tr>', page, re.S).group(1)
    links = re.findall(r'data-figure="(\w+)"><a href="([^"]+)">(\d+)</a>', row)
    keys = re.findall(r'<a href="(/admin/hsm/keyrecord/\?[^"]+)">(\d+)</a>', page)
    assert len(links) == len(FIGURES) and keys
    for _, url, figure in [*links, *[("keys", url, n) for url, n in keys]]:
        listed = client.get(url.replace("&amp;", "&"))
        assert listed.status_code == 200, url
        body = listed.content.decode()
        shown = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', body, re.S)
        rows = shown.group(1).count("<tr") if shown else 0
        assert rows == int(figure), (url, rows, figure)
