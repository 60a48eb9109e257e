"""One definition of a session's state: `Session.state_at` (Python), `SessionQuerySet` (the
list filter, the sweep) and the SQL condition the trade's hand-written statement uses agree,
at the boundaries too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tokens.models import Session, SessionQuerySet, SessionState
from tokens.services.expiry import session_expiry_sweep

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=500_000)
TICK = dt.timedelta(microseconds=1)
CASES = {
    "expires after now": {"expires_at": NOW + TICK},
    "expires exactly now": {"expires_at": NOW},
    "expired a moment ago": {"expires_at": NOW - TICK},
    "cancelled, would still run": {"expires_at": NOW + dt.timedelta(hours=1), "cancelled_at": NOW},
    "cancelled and expired": {"expires_at": NOW - TICK, "cancelled_at": NOW - TICK},
}


def _make(owner, **fields):
    return Session.objects.create(
        owner=owner, subject="user:x", kind="delegation", context="object", verbs=["GET"],
        max_expires_at=NOW + dt.timedelta(days=1), **fields,
    )  # fmt: skip


def _states_in_sql(session):
    """Which of the queryset's states hold the row, and whether the hand-written condition does."""
    found = {
        state
        for state, rows in (
            (SessionState.ACTIVE, Session.objects.active(NOW)),
            (SessionState.EXPIRED, Session.objects.expired(NOW)),
            (SessionState.CANCELLED, Session.objects.cancelled()),
        )
        if rows.filter(pk=session.pk).exists()
    }
    sql = f"SELECT 1 FROM tokens_session WHERE id = %s AND {SessionQuerySet.active_sql(connection)}"  # noqa: S608
    key = Session._meta.pk.get_db_prep_value(session.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, Session.prepare_moment(NOW, connection)])
        raw_active = cursor.fetchone() is not None
    return found, raw_active


@pytest.mark.parametrize("case", CASES)
def test_python_queryset_and_sql_agree(acme, case):
    session = _make(acme, **CASES[case])
    state = Session.objects.get(pk=session.pk).state_at(NOW)
    found, raw_active = _states_in_sql(session)
    assert found == {state}
    assert raw_active == (state == SessionState.ACTIVE)


def test_a_swept_session_is_expired_in_every_definition(acme):
    session = _make(acme, expires_at=NOW - TICK)
    assert session_expiry_sweep(now=NOW).sessions_expired == 1
    swept = Session.objects.get(pk=session.pk)
    assert swept.expired_at == NOW and swept.state_at(NOW) == SessionState.EXPIRED
    assert _states_in_sql(swept) == ({SessionState.EXPIRED}, False)


def test_the_list_filter_uses_the_same_states(world, issue):
    active = issue()
    ended = issue()
    world["operator"].post(f"/api/v1/sessions/{ended['id']}/cancel")
    listed = {
        state: {s["id"] for s in world["operator"].get(f"/api/v1/sessions?state={state}").json()["results"]}
        for state in SessionState.values
    }  # fmt: skip
    assert active["id"] in listed["active"] and ended["id"] in listed["cancelled"]
    assert not listed["expired"] & {active["id"], ended["id"]}
