"""The console's lists as an operator reads them: states and expiry, filters over the one state
definition, names instead of ids, words instead of JSON, the audit log newest first."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authority.models import AuditEvent, Role
from authority.principals import Principal
from authority.services.audit import audit_record
from tests.console.world import populate, session
from tests.factories import ContainerFactory, UserFactory
from tokens.models import Session

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/tokens/session/"


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(page: str) -> list[str]:
    body = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', page, re.S)
    return re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []


def shown(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def acme_world(acme, globex, member) -> Any:
    admin = member(acme, Role.ADMIN)
    made = populate(acme, admin)
    populate(globex, member(globex, Role.ADMIN))
    return {"admin": admin, "client": client_of(admin), "made": made}


def test_sessions_show_state_expiry_names_and_verbs_as_words(acme_world):
    made = acme_world["made"]
    page = shown(acme_world["client"], SESSIONS)
    assert len(rows(page)) == 5  # acme's five; none of globex's
    assert 'badge-active">Active' in page and 'badge-cancelled">Cancelled' in page
    assert 'badge-expired">Expired' in page
    assert "object: get, head" in page and '["GET", "HEAD"]' not in page
    assert f"{made.application.name} (service account)" in page  # subject and renewer
    assert made.application.client_id not in "".join(rows(page))
    assert "acme-photos" in page  # the container by name
    assert re.search(r"\(in [12]\shours?\)", page) and "ago)" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=active", 2),
        ("state=expired", 1),
        ("state=cancelled", 2),
        ("state=cancelled_today", 1),
        ("expiring=24h", 1),
        ("kind__exact=delegation", 5),
        ("kind__exact=static", 0),
    ],
)
def test_session_filters_follow_the_one_state_definition(acme_world, query, expected):
    page = shown(acme_world["client"], f"{SESSIONS}?{query}")
    assert len(rows(page)) == expected
    now = timezone.now()
    owned = Session.objects.filter(owner__slug="acme")
    assert owned.active(now).count() == 2 and owned.expired(now).count() == 1
    assert owned.cancelled().count() == 2


def test_renewer_and_container_filters(acme_world):
    made = acme_world["made"]
    client = acme_world["client"]
    page = shown(client, SESSIONS)
    assert f"?renewer=app%3A{made.application.client_id}" in page  # offered, by its name
    assert len(rows(shown(client, f"{SESSIONS}?renewer=app:{made.application.client_id}"))) == 1
    assert len(rows(shown(client, f"{SESSIONS}?renewer=nonsense"))) == 0
    container = made.container.container_id
    assert f"?container={container}" in page
    assert len(rows(shown(client, f"{SESSIONS}?container={container}"))) == 2
    assert len(rows(shown(client, f"{SESSIONS}?container=0OIl"))) == 0  # not base58: no rows
    assert "globex-photos" not in page  # another owner's container is not offered


def test_bearer_grants_show_expiry_as_a_time_and_filter_by_state(acme_world):
    client = acme_world["client"]
    page = shown(client, "/admin/tokens/bearergrant/")
    assert len(rows(page)) == 3
    assert "acme-photos" in page and ">anyone<" in page
    assert 'badge-active">Live' in page and 'badge-cancelled">Revoked' in page
    assert 'badge-expired">Expired' in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d <small>\(in", page)  # exp as a moment
    for state, expected in (("live", 1), ("revoked", 1), ("expired", 1)):
        assert len(rows(shown(client, f"/admin/tokens/bearergrant/?state={state}"))) == expected


def test_failing_schedules_filter(acme_world):
    page = shown(acme_world["client"], "/admin/tokens/renewalschedule/?failing=yes")
    assert len(rows(page)) == 1


def test_audit_log_newest_first_with_names(acme_world, acme):
    made = acme_world["made"]
    audit_record(
        actor=Principal(application=made.application), owner=acme, action="zz.latest",
        object_type="session", object_id="newest",
    )  # fmt: skip
    page = shown(acme_world["client"], "/admin/authority/auditevent/")
    first = rows(page)[0]
    assert "zz.latest" in first and f"{made.application.name} (service account)" in first
    times = [
        event.created_at
        for event in AuditEvent.objects.filter(owner=acme).order_by("-created_at", "-id")[:3]
    ]
    assert times == sorted(times, reverse=True)


def test_containers_show_the_basic_acl_by_name(acme, member):
    ContainerFactory(owner=acme, name="public", basic_acl=0x1FBF8CFF)
    page = shown(client_of(member(acme, Role.ADMIN)), "/admin/authority/container/")
    assert "0x1FBF8CFF (public-read)" in page


def test_superuser_runs_verify_from_the_audit_list_and_it_is_recorded(acme_world):
    client = client_of(UserFactory(is_superuser=True))
    event = AuditEvent.objects.first()
    client.post(
        "/admin/authority/auditevent/",
        {"action": "verify_chains", "_selected_action": [event.pk]},
    )
    assert AuditEvent.objects.filter(action="audit.verify", outcome="success").count() == 1


@pytest.mark.parametrize(
    "url",
    [
        SESSIONS,
        "/admin/tokens/bearergrant/",
        "/admin/authority/auditevent/",
        "/admin/authority/container/",
        "/admin/hsm/keyrecord/",
    ],
)
def test_list_queries_do_not_grow_with_rows(acme, member, url):
    admin = member(acme, Role.ADMIN)
    populate(acme, admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            shown(client_of(admin), url)
        return len(queries)

    small = count()
    populate(acme, admin, scale=4)
    for _ in range(4):
        session(acme, expires_in=dt.timedelta(hours=1))
    assert count() == small
