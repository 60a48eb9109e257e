"""The expiry sweep: marks exactly the expired live sessions, in bounded batches, idempotently,
and purges deny-list entries past their expiry; two sweeps at once never do the same work."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tokens.models import RevokedAccessToken, Session
from tokens.services.expiry import session_expiry_sweep

pytestmark = pytest.mark.django_db


def _sessions(owner, count, *, expires_in, **fields):
    now = timezone.now()
    return Session.objects.bulk_create(
        Session(
            owner=owner, subject="user:x", kind="delegation", context="object", verbs=["GET"],
            expires_at=now + dt.timedelta(seconds=expires_in),
            max_expires_at=now + dt.timedelta(days=1), **fields,
        )
        for _ in range(count)
    )  # fmt: skip


def test_marks_only_expired_live_sessions(acme):
    expired = _sessions(acme, 5, expires_in=-10)
    live = _sessions(acme, 3, expires_in=600)
    cancelled = _sessions(acme, 2, expires_in=-10, cancelled_at=timezone.now())
    result = session_expiry_sweep(batch_size=2)
    assert result.sessions_expired == 5 and result.batches == 3
    assert (
        Session.objects.filter(pk__in=[s.pk for s in expired], expired_at__isnull=False).count()
        == 5
    )
    assert not Session.objects.filter(
        pk__in=[s.pk for s in live + cancelled], expired_at__isnull=False
    ).exists()
    assert session_expiry_sweep().sessions_expired == 0  # nothing twice


def test_purges_deny_list_entries_past_expiry(acme):
    now = timezone.now()
    RevokedAccessToken.objects.create(jti="old", expires_at=now - dt.timedelta(minutes=1))
    RevokedAccessToken.objects.create(jti="live", expires_at=now + dt.timedelta(minutes=5))
    assert session_expiry_sweep().revoked_tokens_purged == 1
    assert list(RevokedAccessToken.objects.values_list("jti", flat=True)) == ["live"]


def test_the_command_wraps_the_service(acme, capsys):
    _sessions(acme, 3, expires_in=-1)
    call_command("sweep_sessions", "--batch-size", "2")
    assert "Expired 3 session(s) in 2 batch(es)" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL SKIP LOCKED")
def test_two_sweeps_at_once_share_the_work(acme):
    _sessions(acme, 400, expires_in=-10)
    results = []

    def sweep() -> None:
        from django.db import connection as thread_connection

        try:
            results.append(session_expiry_sweep(batch_size=25))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sessions_expired for r in results) == 400
    assert Session.objects.filter(expired_at__isnull=True).count() == 0
