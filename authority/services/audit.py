"""The append-only audit log: one HMAC hash chain per owner (and one for the system).

Why per owner: a single global chain would serialise every audited request behind one row lock.
With a chain per owner, writers lock only their owner's chain head (`select_for_update`) for the
few statements at the end of their transaction; owners never wait on each other. Each row's hash
is HMAC-SHA256 under the audit key over the previous hash and the row's fields, so a row edited,
deleted or moved breaks the chain, and nobody without the key can forge a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authority.conf import authority_settings
from authority.models import AuditChain, AuditEvent, Owner
from authority.principals import Principal
from authority.request_context import current_request

GENESIS = "0" * 64


def audit_key() -> bytes:
    """AUDIT_KEY when set, else a key derived from SECRET_KEY for this purpose alone."""
    configured = authority_settings.AUDIT_KEY
    if configured:
        return str(configured).encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"session-authority/audit", hashlib.sha256
    ).digest()


def token_fingerprint(token: str | bytes) -> str:
    """What logs and audit rows carry instead of a token or secret."""
    raw = token.encode() if isinstance(token, str) else token
    return hmac.new(audit_key(), raw, hashlib.sha256).hexdigest()[:32]


def _row_hash(key: bytes, event: AuditEvent) -> str:
    canonical = json.dumps(
        [
            event.chain_id,
            event.seq,
            event.created_at.isoformat(),
            event.actor,
            event.owner_id,
            event.action,
            event.object_type,
            event.object_id,
            event.outcome,
            event.request_id,
            event.client_address,
            event.token_fingerprint,
            event.detail,
            event.prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _chain_for(owner: Owner | None) -> AuditChain:
    name = f"owner:{owner.pk}" if owner is not None else "system"
    chain, _ = AuditChain.objects.get_or_create(name=name, defaults={"owner": owner})
    return chain


@transaction.atomic
def audit_record(
    *,
    actor: Principal,
    owner: Owner | None,
    action: str,
    object_type: str = "",
    object_id: str = "",
    outcome: str = "success",
    token: str | bytes | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Appends one event to its owner's chain; call it inside the service's transaction."""
    chain = _chain_for(owner)
    chain = AuditChain.objects.select_for_update().get(pk=chain.pk)
    context = current_request()
    event = AuditEvent(
        chain=chain,
        seq=chain.last_seq + 1,
        created_at=timezone.now(),
        actor=actor.label,
        owner=owner,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        request_id=context.request_id,
        client_address=context.client_address,
        token_fingerprint=token_fingerprint(token) if token else "",
        detail=json.loads(json.dumps(detail or {}, default=str)),
        prev_hash=chain.last_hash or GENESIS,
    )
    event.hash = _row_hash(audit_key(), event)
    event.save(force_insert=True)
    chain.last_seq, chain.last_hash = event.seq, event.hash
    chain.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.chain} #{self.seq}" if self.seq is not None else self.chain
        return f"{where}: {self.problem}"


def audit_chain_verify(batch_size: int = 5000) -> list[ChainProblem]:
    """Walks every chain in order; reports edited, deleted, inserted or reordered rows."""
    key = audit_key()
    problems: list[ChainProblem] = []
    for chain in AuditChain.objects.order_by("pk"):
        expected_seq, prev = 1, GENESIS
        rows = (
            AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch_size)
        )
        for event in rows:
            if event.seq != expected_seq:
                problems.append(
                    ChainProblem(
                        chain.name, event.seq, f"expected seq {expected_seq}: rows missing or moved"
                    )
                )
            if event.prev_hash != prev:
                problems.append(
                    ChainProblem(chain.name, event.seq, "does not link to the previous row")
                )
            if not hmac.compare_digest(_row_hash(key, event), event.hash):
                problems.append(
                    ChainProblem(chain.name, event.seq, "contents do not match their hash")
                )
            expected_seq, prev = event.seq + 1, event.hash
        if chain.last_seq != expected_seq - 1 or (chain.last_seq and chain.last_hash != prev):
            problems.append(
                ChainProblem(chain.name, None, "chain head does not match its last row")
            )
    return problems
