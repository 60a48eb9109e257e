"""Audit rows of the read-only decisions: verify (the policy decision point) and introspection.

Kept apart from the deciding code so that the decision reads on its own and its audit is one
decorator line there. A denial commits like the trade's (no WAL-flush wait on PostgreSQL): it
records a read, not a change; a batch commits once for all its rows.

A denial is written at once, always. Allowed verify decisions and active introspections — the
high-rate successes — are batched: each row is made (and MACed) when decided, kept in this process,
and written with the others in one INSERT when `AUDIT_DECISION_BATCH` rows wait or the oldest has
waited `AUDIT_DECISION_BATCH_SECONDS` (checked at each decision), and when the process exits. A
process killed outright loses what waits (at most a batch); an idle one writes its batch at its next
decision or its exit. `AUDIT_DECISION_BATCH=1` writes each at once. Besides, `AUDIT_VERIFY_SAMPLE`
below 1.0 records only that fraction of allowed verify decisions (the rows note the rate). Measured
in docs/operations.md: an INSERT per decision cost a fifth of a verify's time.
"""

from __future__ import annotations

import atexit
import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError

from authority import metrics
from authority.caches import registry
from authority.conf import authority_settings
from authority.request_context import current_request
from authority.services.audit import (
    AuditAction,
    Outcome,
    audit_record,
    audit_row,
    audit_rows_write,
)

logger = logging.getLogger(__name__)


class _Batch:
    """Rows of allowed decisions waiting to be written together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._since = 0.0

    def add(self, row: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._rows:
                self._since = now
            self._rows.append(row)
            due = (
                len(self._rows) >= authority_settings.AUDIT_DECISION_BATCH
                or now - self._since >= authority_settings.AUDIT_DECISION_BATCH_SECONDS
            )
            rows = self._take() if due else []
        if rows:
            audit_rows_write(rows)

    def _take(self) -> list[dict[str, Any]]:
        rows, self._rows = self._rows, []
        return rows

    def flush(self) -> None:
        with self._lock:
            rows = self._take()
        if rows:
            try:
                audit_rows_write(rows)
            except DatabaseError:  # at exit: the stream sink, if any, has the lines
                logger.warning("audit: %d allowed decisions could not be written", len(rows))

    def clear(self) -> None:
        with self._lock:
            self._rows = []


decision_batch = _Batch()
registry.attach("tokens.decision_audit_batch", clear=decision_batch.clear)
atexit.register(decision_batch.flush)

if TYPE_CHECKING:
    from tokens.services.verify import Decision, Operation


def audited_verify(decide: Callable[[Operation], Decision]) -> Callable[[Operation], Decision]:
    """Records each decision of `decide` (see the module's note on sampling)."""

    @functools.wraps(decide)
    def decide_and_record(op: Operation) -> Decision:
        decision = decide(op)
        metrics.verify_decisions_total.labels(
            "allow" if decision.allow else "deny", decision.reason
        ).inc()
        sample = authority_settings.AUDIT_VERIFY_SAMPLE
        if decision.allow and sample < 1.0 and random.random() >= sample:  # noqa: S311 - sampling, not a secret
            return decision
        detail: dict[str, Any] = {
            "verb": str((op.object_verb or op.container_verb or "").__str__()),
            "object": str(op.object_id) if op.object_id is not None else "",
            "bearer": op.bearer_token is not None,
            "session": op.session_token is not None,
        }
        if decision.allow and sample < 1.0:
            detail["sample"] = sample
        row: dict[str, Any] = {
            "actor": current_request().actor or "anonymous",
            "owner": op.container.owner_id,
            "action": AuditAction.REQUEST_VERIFY,
            "object_type": "container",
            "object_id": op.container.container_id,
            "token": op.bearer_raw or None,
            "detail": detail,
        }
        if decision.allow:
            decision_batch.add(audit_row(**row))
        else:
            audit_record(**row, outcome=Outcome.DENIED, reason=decision.reason, synchronous=False)
        return decision

    return decide_and_record


def introspection_record(
    *, actor: Any, token: str, owner_id: int | None, result: dict[str, Any]
) -> None:
    """An introspection's answer: success when the token was active, denied (`inactive`) when
    not — unknown, foreign and inactive tokens alike, as the answer itself."""
    active = bool(result.get("active"))
    row: dict[str, Any] = {
        "actor": actor,
        "owner": owner_id,
        "action": AuditAction.ACCESS_TOKEN_INTROSPECT,
        "object_type": "session",
        "token": token,
    }
    if active:  # batched, as allowed verify decisions are
        detail = {"token_type": result.get("token_type", "")}
        decision_batch.add(audit_row(**row, object_id=str(result.get("sid", "")), detail=detail))
    else:
        audit_record(**row, outcome=Outcome.DENIED, reason="inactive", synchronous=False)
