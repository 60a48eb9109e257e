"""Audit rows of the read-only decisions: verify (the policy decision point) and introspection.

Kept apart from the deciding code so that the decision reads on its own and its audit is one
decorator line there. A denial is always recorded; an allowed verify decision is recorded with
probability `AUDIT_VERIFY_SAMPLE` (1.0, every one, by default; the row then notes the rate), so a
deployment that verifies thousands of requests a second can trade a complete record of its
successes for speed without ever losing a refusal. Rows commit like the trade's (no WAL-flush
wait on PostgreSQL): they record reads, not changes.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from authority import metrics
from authority.conf import authority_settings
from authority.request_context import current_request
from authority.services.audit import AuditAction, Outcome, audit_record

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
        audit_record(
            actor=current_request().actor or "anonymous",
            owner=op.container.owner_id,
            action=AuditAction.REQUEST_VERIFY,
            object_type="container",
            object_id=op.container.container_id,
            outcome=Outcome.SUCCESS if decision.allow else Outcome.DENIED,
            reason="" if decision.allow else decision.reason,
            token=op.bearer_raw or None,
            detail=detail,
            synchronous=False,
        )
        return decision

    return decide_and_record


def introspection_record(
    *, actor: Any, token: str, owner_id: int | None, result: dict[str, Any]
) -> None:
    """An introspection's answer: success when the token was active, denied (`inactive`) when
    not — unknown, foreign and inactive tokens alike, as the answer itself."""
    active = bool(result.get("active"))
    audit_record(
        actor=actor,
        owner=owner_id,
        action=AuditAction.ACCESS_TOKEN_INTROSPECT,
        object_type="session",
        object_id=str(result.get("sid", "")) if active else "",
        outcome=Outcome.SUCCESS if active else Outcome.DENIED,
        reason="" if active else "inactive",
        token=token,
        detail={"token_type": result.get("token_type", "")} if active else {},
        synchronous=False,
    )
