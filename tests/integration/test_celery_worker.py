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

from authority.models import AuditEvent
from authority.principals import SYSTEM
from authority.services.audit import audit_record
from tokens.models import Session

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs PostgreSQL and Redis (CI's first run)",
    ),
]


@pytest.fixture
def worker():
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
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
