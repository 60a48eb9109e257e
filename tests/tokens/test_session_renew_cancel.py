"""Renewal (only the renewer, capped at the maximum lifetime), cancellation (the renewer or an
owner admin, idempotent), listing with filters — and consistency under concurrent renew/cancel."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from authority.models import Role
from tokens.models import Session

pytestmark = pytest.mark.django_db


def _renew(client, session_id):
    return client.post(f"/api/v1/sessions/{session_id}/renew")


def test_renewer_renews_by_the_renew_period(world, issue, settings):
    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 3600, "SESSION_MAX_LIFETIME": 86400}
    session = issue()
    Session.objects.filter(pk=session["id"]).update(
        expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    response = _renew(world["operator"], session["id"])
    assert response.status_code == 200
    expires = dt.datetime.fromisoformat(response.json()["expires_at"])
    assert abs((expires - timezone.now()).total_seconds() - 3600) < 60


def test_only_the_renewer_renews(world, issue):
    session = issue()
    assert _renew(world["other_operator"], session["id"]).status_code == 403
    assert _renew(world["admin"], session["id"]).status_code == 403
    assert _renew(world["globex_service"], session["id"]).status_code == 404


def test_renewal_is_capped_at_the_maximum_lifetime(world, issue, settings):
    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 3600, "SESSION_MAX_LIFETIME": 86400}
    session = issue()
    now = timezone.now()
    Session.objects.filter(pk=session["id"]).update(
        expires_at=now + dt.timedelta(minutes=1), max_expires_at=now + dt.timedelta(minutes=10)
    )
    renewed = _renew(world["operator"], session["id"]).json()
    assert renewed["expires_at"] == renewed["max_expires_at"]
    again = _renew(world["operator"], session["id"])
    assert again.status_code == 409 and "maximum lifetime" in again.json()["detail"]


def test_cancelled_or_expired_sessions_are_not_renewed(world, issue):
    cancelled = issue()
    world["operator"].post(f"/api/v1/sessions/{cancelled['id']}/cancel")
    assert _renew(world["operator"], cancelled["id"]).status_code == 409
    expired = issue()
    Session.objects.filter(pk=expired["id"]).update(expires_at=timezone.now())
    assert _renew(world["operator"], expired["id"]).status_code == 409


def test_cancel_by_renewer_or_admin_and_idempotent(world, issue):
    session = issue()
    assert (
        world["other_operator"].post(f"/api/v1/sessions/{session['id']}/cancel").status_code == 403
    )
    assert (
        world["globex_service"].post(f"/api/v1/sessions/{session['id']}/cancel").status_code == 404
    )
    first = world["admin"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert first.status_code == 200 and first.json()["state"] == "cancelled"
    second = world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert (
        second.status_code == 200 and second.json()["cancelled_at"] == first.json()["cancelled_at"]
    )
    assert Session.objects.filter(pk=session["id"]).exists()  # kept for audit


def test_listing_is_scoped_filtered_and_paginated(world, issue):
    first = issue()
    second = issue(client=world["service"], context="container", verbs=["PUT"], container=None)
    world["operator"].post(f"/api/v1/sessions/{first['id']}/cancel")
    client = world["admin"]
    everything = client.get("/api/v1/sessions").json()
    assert everything["count"] == 2
    assert world["globex_service"].get("/api/v1/sessions").json()["count"] == 0
    assert [s["id"] for s in client.get("/api/v1/sessions?state=cancelled").json()["results"]] == [
        first["id"]
    ]
    assert [s["id"] for s in client.get("/api/v1/sessions?state=active").json()["results"]] == [
        second["id"]
    ]
    renewer = client.get("/api/v1/sessions", {"renewer": second["renewer"]}).json()["results"]
    assert [s["id"] for s in renewer] == [second["id"]]
    by_container = client.get("/api/v1/sessions", {"container": world["container"].container_id})
    assert [s["id"] for s in by_container.json()["results"]] == [first["id"]]
    page = client.get("/api/v1/sessions?limit=1").json()
    assert len(page["results"]) == 1 and page["next"]
    assert client.get("/api/v1/sessions?state=zombie").status_code == 400
    assert client.get("/api/v1/sessions?container=0OIl").status_code == 400


def test_foreign_and_malformed_session_ids_are_404(world, issue):
    session = issue()
    assert world["globex_service"].get(f"/api/v1/sessions/{session['id']}").status_code == 404
    assert world["operator"].get("/api/v1/sessions/not-a-uuid").status_code == 404


def test_viewer_sees_but_cannot_cancel(world, issue):
    session = issue()
    assert world["viewer"].get(f"/api/v1/sessions/{session['id']}").status_code == 200
    assert world["viewer"].post(f"/api/v1/sessions/{session['id']}/cancel").status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_concurrent_renews_and_cancels_stay_consistent(acme, member, settings):
    """50 threads renew and cancel one session at once: never renewed after the cancel,
    never past its maximum expiry."""
    from authority.principals import Principal
    from tests.factories import ContainerFactory
    from tokens.models import SessionContext, SessionKind
    from tokens.services.sessions import (
        SessionRequest,
        session_cancel,
        session_issue,
        session_renew,
    )

    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 60, "SESSION_MAX_LIFETIME": 3600}
    user = member(acme, Role.ADMIN)
    actor = Principal(user=user)
    issued = session_issue(
        actor=actor,
        owner=acme,
        request=SessionRequest(
            kind=SessionKind.DELEGATION, context=SessionContext.OBJECT, verbs=("GET",),
            renewer=actor, container=ContainerFactory(owner=acme),
        ),
    )  # fmt: skip
    outcomes: list[tuple[str, object]] = []
    barrier = threading.Barrier(50)

    def worker(index: int) -> None:
        from django.db import connection as thread_connection

        session = Session.objects.get(pk=issued.session.pk)
        barrier.wait()
        try:
            if index % 5 == 0:
                done = session_cancel(actor=actor, session=session)
                outcomes.append(("cancel", done.cancelled_at))
            else:
                done = session_renew(actor=actor, session=session)
                outcomes.append(("renew", done.expires_at))
        except Exception as exc:  # noqa: BLE001 - conflicts are expected outcomes
            outcomes.append(("error", type(exc).__name__))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = Session.objects.get(pk=issued.session.pk)
    assert final.cancelled_at is not None
    assert final.expires_at <= final.max_expires_at
    assert {kind for kind, _ in outcomes} <= {"cancel", "renew", "error"}
    assert all(value == "Conflict" for kind, value in outcomes if kind == "error")
    cancels = {value for kind, value in outcomes if kind == "cancel"}
    assert cancels == {final.cancelled_at}  # idempotent: one cancellation time
    renew_events = final.owner.audit_events.filter(action="session.renew")
    cancel_event = final.owner.audit_events.get(action="session.cancel")
    assert not renew_events.filter(pk__gt=cancel_event.pk).exists()  # nothing renewed after


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_a_session_change_does_not_hold_up_the_tenants_other_sessions(acme, member, settings):
    """While one session of a tenant is locked for a change, another session of that tenant
    renews and trades without waiting: the lock takes the session's row, not its owner's
    (before, the renew waited for the first change to end)."""
    from django.db import transaction

    from authority.principals import Principal
    from tests.factories import ContainerFactory
    from tokens.models import SessionContext, SessionKind
    from tokens.services.sessions import (
        SessionRequest,
        session_issue,
        session_lock,
        session_renew,
    )
    from tokens.services.trade import access_token_trade

    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 60, "SESSION_MAX_LIFETIME": 3600}
    actor = Principal(user=member(acme, Role.ADMIN))
    container = ContainerFactory(owner=acme)

    def issue():
        return session_issue(
            actor=actor,
            owner=acme,
            request=SessionRequest(
                kind=SessionKind.DELEGATION, context=SessionContext.OBJECT, verbs=("GET",),
                renewer=actor, container=container,
            ),
        )  # fmt: skip

    first, second = issue(), issue()
    locked, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                session_lock(first.session)
                locked.set()
                release.wait(timeout=30)
        finally:
            thread_connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        renewed = session_renew(actor=actor, session=second.session)
        assert renewed.expires_at > second.session.expires_at
        traded = access_token_trade(subject_token=second.delegation_token or "")
        assert traded.session_id == second.session.pk
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
