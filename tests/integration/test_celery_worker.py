"""A real Celery worker, over the Redis broker, runs the scheduled services end to end."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from authority.conf import authority_settings
from authority.models import AuditEvent
from authority.principals import SYSTEM
from authority.services.audit import audit_record
from tokens.models import Session

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not authority_settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs PostgreSQL and Redis (CI's first run)",
    ),
]


def _fresh_broker_pool() -> None:
    """This process's broker connections, as a web process starts with them. kombu keeps one
    connection pool per broker URL in a process-wide registry, and Celery's app hands out that
    shared pool: a test that repoints the broker and force-closes `app.pool` closes the registry's
    pool, which the next `app.pool` returns again ('Acquire on closed pool'). kombu's own reset
    closes and forgets every registered pool."""
    from kombu import pools

    from authority.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(softhsm_token):
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "SOFTHSM2_CONF": softhsm_token["conf"],
        "HSM_BACKEND": "pkcs11",
        "HSM_MODULE": authority_settings.HSM_MODULE,
        "HSM_TOKEN_LABEL": softhsm_token["label"],
        "HSM_PIN": softhsm_token["pin"],
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    _fresh_broker_pool()
    process = subprocess.Popen(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "authority", "worker", "--pool=solo",
         "--loglevel=warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=30)


def _eventually(check, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("the worker did not do the work in time")


def test_worker_sweeps_expired_sessions(acme, worker):
    from tokens.tasks import sweep_expired_sessions

    now = timezone.now()
    session = Session.objects.create(
        owner=acme, subject="user:x", kind="delegation", context="object", verbs=["GET"],
        expires_at=now - dt.timedelta(seconds=5), max_expires_at=now + dt.timedelta(days=1),
    )  # fmt: skip
    sweep_expired_sessions.delay()
    _eventually(lambda: Session.objects.get(pk=session.pk).expired_at is not None)


def test_worker_seals_the_audit_log(acme, worker):
    from authority.tasks import seal_audit_log

    event = audit_record(actor=SYSTEM, owner=acme, action="test.integration")
    seal_audit_log.delay()
    _eventually(lambda: AuditEvent.objects.get(pk=event.pk).seq is not None)


def test_worker_runs_renewal_schedules(acme, member, worker, settings):
    from authority.models import Role
    from authority.principals import Principal
    from tests.factories import ContainerFactory
    from tokens.models import RenewalSchedule, SessionContext, SessionKind
    from tokens.services.renewals import renewal_schedule_create
    from tokens.services.sessions import SessionRequest, session_issue
    from tokens.tasks import run_renewal_schedules

    actor = Principal(user=member(acme, Role.OPERATOR))
    issued = session_issue(
        actor=actor, owner=acme,
        request=SessionRequest(
            kind=SessionKind.DELEGATION, context=SessionContext.OBJECT, verbs=("GET",),
            renewer=actor, container=ContainerFactory(owner=acme),
        ),
    )  # fmt: skip
    schedule = renewal_schedule_create(actor=actor, session=issued.session)
    RenewalSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    run_renewal_schedules.delay()
    _eventually(
        lambda: RenewalSchedule.objects.get(pk=schedule.pk).last_outcome.startswith("renewed")
    )


def test_worker_rotates_due_keys(worker):
    from hsm.models import KeyPurpose, KeyRecord, KeyState
    from hsm.services import key_generate
    from hsm.tasks import rotate_keys

    key = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    KeyRecord.objects.filter(pk=key.pk).update(created_at=timezone.now() - dt.timedelta(days=365))
    rotate_keys.delay()
    _eventually(lambda: KeyRecord.objects.get(pk=key.pk).state == KeyState.RETIRED)
    assert KeyRecord.objects.filter(
        purpose=KeyPurpose.ACCESS_TOKEN_SIGNING, state=KeyState.ACTIVE
    ).exists()


def test_worker_prunes_the_audit_log(acme, worker):
    from authority.models import AuditChain
    from authority.services.audit import audit_seal
    from authority.tasks import prune_audit_log

    event = audit_record(actor=SYSTEM, owner=acme, action="test.ancient")
    audit_seal()
    AuditEvent.objects.filter(owner=acme).update(
        created_at=timezone.now() - dt.timedelta(days=3650)
    )
    # The rows were re-dated behind the MAC's back; pruning only reads seq and dates.
    prune_audit_log.delay()
    _eventually(lambda: not AuditEvent.objects.filter(pk=event.pk).exists())
    assert AuditChain.objects.get(owner=acme).anchor_seq >= 1
