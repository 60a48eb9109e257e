"""The expiry sweep: marks expired sessions, destroys the HSM keys of ended dynamic sessions, and
purges deny-list entries past their expiry.

Bounded batches, each its own transaction; `SELECT … FOR UPDATE SKIP LOCKED` lets two sweeps run
at once without doing the same rows twice or waiting on each other (PostgreSQL; SQLite has one
writer at a time anyway). The partial index `session_live_by_expiry` covers exactly the rows a
sweep looks for, so each batch is an index range scan however large the table is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tokens.models import Session
from tokens.services.dynamic import ended_session_keys_destroy
from tokens.services.introspection import revoked_access_token_purge

BATCH_SIZE = 10_000


@dataclass(frozen=True)
class SweepResult:
    sessions_expired: int
    batches: int
    revoked_tokens_purged: int
    session_keys_destroyed: int


def session_expiry_sweep(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> SweepResult:
    now = now or timezone.now()
    expired = batches = 0
    while True:
        with transaction.atomic():
            # One statement a batch: UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
            # LOCKED), so the ids never travel to Python and back.
            batch = (
                Session.objects.select_for_update(skip_locked=True)
                .expired(now)
                .filter(expired_at__isnull=True)  # not yet marked
                .order_by()  # any expired rows will do; sorting them all would cost most
                .values("id")[:batch_size]
            )
            count = Session.objects.filter(pk__in=batch).update(expired_at=now)
        expired += count
        batches += 1 if count else 0
        if count < batch_size:
            break
    keys = ended_session_keys_destroy(now=now)
    return SweepResult(expired, batches, revoked_access_token_purge(now=now), keys)
