"""Sealing audit rows into one hash chain per owner, and verifying the chains.

`hash` = HMAC(prev ‖ seq ‖ row_mac) under the current key when the row is sealed, which need not
be the key that MACed the row when it was written: each row names both (`row_mac_key_id`,
`hash_key_id`), and verify checks each under the key its row names, from the key ring.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from authority.models import AuditChain, AuditEvent
from authority.principals import Principal
from authority.services.audit.actions import AuditAction, Outcome
from authority.services.audit.keys import (
    LEGACY_KEY_ID,
    AuditKey,
    audit_key_current,
    audit_key_ring,
)
from authority.services.audit.record import audit_record, row_mac

GENESIS = "0" * 64
SEAL_BATCH = 5000


def chain_name(owner_id: int | None) -> str:
    return f"owner:{owner_id}" if owner_id is not None else "system"


def audit_seal(*, batch_size: int = SEAL_BATCH) -> int:
    """Chains every unsealed row, one owner and one bounded batch per transaction."""
    key = audit_key_current()
    sealed = 0
    owners = AuditEvent.objects.filter(seq__isnull=True).values_list("owner_id", flat=True)
    for owner_id in sorted(set(owners), key=lambda o: (o is None, o or 0)):
        while True:
            count = _seal_batch(key, owner_id, batch_size)
            sealed += count
            if count < batch_size:
                break
    return sealed


def _seal_batch(key: AuditKey, owner_id: int | None, batch_size: int) -> int:
    with transaction.atomic():
        AuditChain.objects.get_or_create(name=chain_name(owner_id), defaults={"owner_id": owner_id})
        chain = AuditChain.objects.select_for_update().get(name=chain_name(owner_id))
        of_owner = Q(owner__isnull=True) if owner_id is None else Q(owner_id=owner_id)
        unsealed = AuditEvent.objects.filter(of_owner, seq__isnull=True)
        rows = list(unsealed.order_by("id")[:batch_size])
        seq, prev = chain.last_seq, chain.last_hash or GENESIS
        for event in rows:
            seq += 1
            event.chain_id, event.seq, event.prev_hash = chain.pk, seq, prev
            event.hash = prev = _chain_hash(key.secret, chain.pk, seq, prev, event.row_mac)
            event.hash_key_id = key.key_id
        AuditEvent.objects.bulk_update(
            rows, ["chain", "seq", "prev_hash", "hash", "hash_key_id"], batch_size=1000
        )
        chain.last_seq, chain.last_hash = seq, prev
        chain.save(update_fields=["last_seq", "last_hash"])
    return len(rows)


def _chain_hash(key: bytes, chain_id: int, seq: int, prev_hash: str, row_mac: str) -> str:
    message = f"{chain_id}:{seq}:{prev_hash}:{row_mac}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.chain} #{self.seq}" if self.seq is not None else self.chain
        return f"{where}: {self.problem}"


def audit_chain_verify(batch_size: int = 5000) -> list[ChainProblem]:
    """Walks every chain in order and every unsealed row: reports edited, deleted, inserted or
    reordered rows, and rows that name a key the ring does not hold."""
    ring = audit_key_ring()
    problems: list[ChainProblem] = []
    for chain in AuditChain.objects.order_by("pk"):
        # Pruned rows left an anchor: the chain goes on from the last pruned row's hash.
        expected_seq, prev = chain.anchor_seq + 1, chain.anchor_hash or GENESIS
        rows = (
            AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch_size)
        )
        for event in rows:
            problems += [
                ChainProblem(chain.name, event.seq, problem)
                for problem in _sealed_row_problems(ring, chain, event, expected_seq, prev)
            ]
            expected_seq, prev = (event.seq or 0) + 1, event.hash
        if chain.last_seq != expected_seq - 1 or (chain.last_seq and chain.last_hash != prev):
            problems.append(
                ChainProblem(chain.name, None, "chain head does not match its last row")
            )
    unsealed = AuditEvent.objects.filter(seq__isnull=True).iterator(chunk_size=batch_size)
    for event in unsealed:
        match _signed(ring, event.row_mac_key_id, event.row_mac, _mac_of(event)):
            case False:
                problem = f"unsealed row {event.pk} was edited"
            case None:
                problem = f"unsealed row {event.pk} MACed under an unknown audit key"
            case True:
                continue
        problems.append(ChainProblem(chain_name(event.owner_id), None, problem))
    return problems


VERIFY_ACTION = AuditAction.AUDIT_VERIFY  # the row each recorded verification leaves


def audit_chain_check(*, actor: Principal) -> list[ChainProblem]:
    """`audit_chain_verify`, its result recorded as an audit row of its own (`VERIFY_ACTION`,
    with the number of problems and of unsealed rows), so that the console can show when the
    chains last verified and how that went."""
    problems = audit_chain_verify()
    audit_record(
        actor=actor,
        owner=None,
        action=VERIFY_ACTION,
        object_type="audit_chain",
        outcome=Outcome.ERROR if problems else Outcome.SUCCESS,
        detail={"problems": len(problems), "unsealed": audit_unsealed_count()},
    )
    return problems


def audit_unsealed_count() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


def _sealed_row_problems(
    ring: Mapping[str, AuditKey], chain: AuditChain, event: AuditEvent, expected_seq: int,
    prev: str,
) -> list[str]:  # fmt: skip
    problems = []
    if event.seq != expected_seq:
        problems.append(f"expected seq {expected_seq}: rows missing or moved")
    if event.prev_hash != prev:
        problems.append("does not link to the previous row")
    match _signed(ring, event.row_mac_key_id, event.row_mac, _mac_of(event)):
        case False:
            problems.append("contents do not match their MAC")
        case None:
            problems.append(f"MACed under an unknown audit key {event.row_mac_key_id!r}")

    def chain_hash(key: bytes) -> str:
        return _chain_hash(key, chain.pk, event.seq or 0, event.prev_hash, event.row_mac)

    match _signed(ring, event.hash_key_id, event.hash, chain_hash):
        case False:
            problems.append("does not match its chain hash")
        case None:
            problems.append(f"chain hash made under an unknown audit key {event.hash_key_id!r}")
    if chain_name(event.owner_id) != chain.name:
        problems.append("belongs to another chain")
    return problems


def _signed(
    ring: Mapping[str, AuditKey], key_id: str, stored: str, compute: Callable[[bytes], str]
) -> bool | None:
    """Whether `stored` is `compute` under the key `key_id` names; None when the ring does not
    hold that key. A legacy row (written before rows named their key) matches under any key of
    the ring."""
    if key_id == LEGACY_KEY_ID:
        keys = list(ring.values())
    elif key_id in ring:
        keys = [ring[key_id]]
    else:
        return None
    return any(hmac.compare_digest(compute(key.secret), stored) for key in keys)


def _mac_of(event: AuditEvent) -> Callable[[bytes], str]:
    return lambda key: row_mac(key, event)
