"""Renewal schedules keep a session alive on its renewer's behalf at ~90% of each period, and
stop at the stop time, the maximum lifetime, or a cancel; failures back off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tokens.models import RenewalSchedule, Session
from tokens.services.renewals import renewal_schedules_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(world, issue, settings):
    settings.AUTHORITY = {"SESSION_RENEW_PERIOD": 600, "SESSION_MAX_LIFETIME": 86400}
    session = issue()
    response = world["operator"].post(
        f"/api/v1/sessions/{session['id']}/renewal-schedule", {}, format="json"
    )
    assert response.status_code == 201, response.content
    return Session.objects.get(pk=session["id"])


def test_schedule_renews_at_ninety_percent_of_the_period(scheduled):
    schedule = scheduled.renewal_schedule
    assert abs((schedule.next_run_at - timezone.now()).total_seconds() - 540) < 5
    at = schedule.next_run_at + dt.timedelta(seconds=1)
    Session.objects.filter(pk=scheduled.pk).update(
        expires_at=timezone.now() + dt.timedelta(seconds=60)
    )
    assert renewal_schedules_run(now=at) == 1
    scheduled.refresh_from_db()
    schedule.refresh_from_db()
    assert scheduled.expires_at > timezone.now() + dt.timedelta(seconds=590)  # a full period
    assert schedule.last_outcome.startswith("renewed") and schedule.active
    renewal = scheduled.owner.audit_events.get(action="session.renew")
    assert renewal.actor == scheduled.renewer_label  # on the renewer's behalf
    assert renewal_schedules_run(now=at) == 0  # not due again yet


def test_schedule_stops_at_the_stop_time(world, scheduled):
    world["operator"].post(
        f"/api/v1/sessions/{scheduled.id}/renewal-schedule",
        {"stop_at": (timezone.now() + dt.timedelta(seconds=60)).isoformat()},
        format="json",
    )
    later = timezone.now() + dt.timedelta(hours=1)
    RenewalSchedule.objects.filter(session=scheduled).update(next_run_at=later)
    renewal_schedules_run(now=later)
    schedule = RenewalSchedule.objects.get(session=scheduled)
    assert not schedule.active and "stop time" in schedule.last_outcome


def test_schedule_stops_at_the_maximum_lifetime(scheduled):
    Session.objects.filter(pk=scheduled.pk).update(expires_at=scheduled.max_expires_at)
    RenewalSchedule.objects.filter(session=scheduled).update(next_run_at=timezone.now())
    renewal_schedules_run()
    schedule = RenewalSchedule.objects.get(session=scheduled)
    assert not schedule.active and "maximum lifetime" in schedule.last_outcome


def test_cancel_stops_the_schedule(world, scheduled):
    world["operator"].post(f"/api/v1/sessions/{scheduled.id}/cancel")
    schedule = RenewalSchedule.objects.get(session=scheduled)
    assert not schedule.active and "cancelled" in schedule.last_outcome


def test_failures_back_off_and_show(scheduled, monkeypatch):
    from hsm.errors import HSMUnavailable
    from tokens.services import renewals

    def broken(**kwargs):
        raise HSMUnavailable("The HSM rejected the PIN.")

    monkeypatch.setattr(renewals, "session_renew", broken)
    now = timezone.now()
    RenewalSchedule.objects.filter(session=scheduled).update(next_run_at=now)
    renewal_schedules_run(now=now)
    first = RenewalSchedule.objects.get(session=scheduled)
    renewal_schedules_run(now=first.next_run_at)
    second = RenewalSchedule.objects.get(session=scheduled)
    assert second.failures == 2 and second.active and "failed (2)" in second.last_outcome
    assert (second.next_run_at - first.next_run_at) > (first.next_run_at - now)  # backoff grows


def test_only_the_renewer_schedules(world, issue):
    """A schedule renews as the renewer: an owner admin, who may cancel but not renew, may not
    set one going either (it would renew through it)."""
    session = issue()
    url = f"/api/v1/sessions/{session['id']}/renewal-schedule"
    assert world["other_operator"].post(url, {}, format="json").status_code == 403
    assert world["globex_service"].post(url, {}, format="json").status_code == 404
    refused = world["admin"].post(url, {}, format="json")
    assert refused.status_code == 403 and "renewer" in refused.json()["detail"]
    assert world["admin"].post(f"/api/v1/sessions/{session['id']}/renew").status_code == 403
    assert not RenewalSchedule.objects.filter(session_id=session["id"]).exists()
    assert world["operator"].post(url, {}, format="json").status_code == 201


def test_an_admin_may_pause_a_schedule_but_not_resume_or_run_it(world, scheduled):
    from authority.errors import NotAllowed
    from authority.models import Membership, Role
    from authority.principals import Principal
    from tokens.services.renewals import renewal_schedule_update, renewal_schedules_run_now

    admin = Principal(user=Membership.objects.get(owner=world["acme"], role=Role.ADMIN).user)
    schedule = scheduled.renewal_schedule
    renewal_schedule_update(actor=admin, schedule=schedule, stop_at=None, active=False)
    with pytest.raises(NotAllowed):
        renewal_schedule_update(actor=admin, schedule=schedule, stop_at=None, active=True)
    with pytest.raises(NotAllowed):
        renewal_schedules_run_now(actor=admin, schedules=[schedule])


def test_the_api_keeps_working_with_the_broker_down(
    world, issue, django_capture_on_commit_callbacks, caplog
):
    """Issue, trade and cancel with a dead broker: 2xx, and the after-commit sends only log."""
    from kombu import pools

    from authority.celery import app

    def reset_pool() -> None:  # connections to the old broker go; a new pool comes lazily
        # kombu's registry keeps one pool per broker URL, and app.pool is that shared pool:
        # force-closing it alone would leave a closed pool registered for the next test.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None  # it holds on to the old connection pool

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    reset_pool()
    try:
        with django_capture_on_commit_callbacks(execute=True) as sent:
            session = issue()  # asserts the 201
        trade = world["anonymous"].post(
            "/api/v1/trade", {"subject_token": session["token"]}, format="json"
        )
        with django_capture_on_commit_callbacks(execute=True):
            cancel = world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    finally:
        app.conf.broker_url = previous
        reset_pool()
    assert sent and trade.status_code == 200 and cancel.status_code == 200
    assert "Broker unavailable; authority.seal_audit_log left to its schedule" in caplog.text


def test_run_now_in_the_admin_runs_only_the_chosen_schedules_and_audits(world, scheduled, issue):
    """The admin's "Run now" goes through a service: the selected schedules run (audited), and a
    due schedule the operator did not pick is left to the scheduler."""
    from django.test import Client

    from authority.models import Role
    from tests.factories import MembershipFactory

    other = issue()
    world["operator"].post(f"/api/v1/sessions/{other['id']}/renewal-schedule", {}, format="json")
    past = timezone.now() - dt.timedelta(seconds=1)
    RenewalSchedule.objects.update(next_run_at=past)  # both due
    admin = MembershipFactory(owner=scheduled.owner, role=Role.ADMIN).user
    client = Client()
    client.force_login(admin)
    chosen = scheduled.renewal_schedule
    client.post(  # an admin who is not the renewer: refused (a run renews)
        "/admin/tokens/renewalschedule/",
        {"action": "run_now", "_selected_action": [chosen.pk]},
    )
    chosen.refresh_from_db()
    assert chosen.last_run_at is None
    client.force_login(world["operator_user"])  # the renewer
    response = client.post(
        "/admin/tokens/renewalschedule/",
        {"action": "run_now", "_selected_action": [chosen.pk]},
    )
    assert response.status_code == 302
    chosen.refresh_from_db()
    assert chosen.last_run_at is not None
    untouched = RenewalSchedule.objects.get(session_id=other["id"])
    assert untouched.last_run_at is None
    assert scheduled.owner.audit_events.filter(action="renewal_schedule.run_now").count() == 1
