"""The policy decision point: given an operation and the tokens attached to it, allow or deny
with a machine-readable reason, applying the rules NeoFS nodes apply (signatures, issuer binding,
epochs, verb/container/object match, bearer issuer = container owner, receiver, eACL) plus the
authority's own state (cancelled sessions, revoked bearer grants)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, QuerySet, Value
from django.utils import timezone

from authority.epoch import current_epoch
from authority.models import Container
from authority.services.eacl_tables import eacl_table_to_wire_cached
from tokens.models import BearerGrant, Session, SessionState, session_state
from tokens.services.decision_audit import audited_verify
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerToken
from tokens.wire.eacl_engine import Request, evaluate
from tokens.wire.eacl_rules import format_rule
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, ObjectID, OwnerID
from tokens.wire.lifetime import Lifetime, Validity
from tokens.wire.session import (
    ContainerContext,
    ContainerVerb,
    ObjectContext,
    ObjectVerb,
    SessionToken,
)
from tokens.wire.token import Check

OPERATION_OF_VERB = {
    ObjectVerb.GET: wire.Operation.GET,
    ObjectVerb.HEAD: wire.Operation.HEAD,
    ObjectVerb.PUT: wire.Operation.PUT,
    ObjectVerb.DELETE: wire.Operation.DELETE,
    ObjectVerb.SEARCH: wire.Operation.SEARCH,
    ObjectVerb.RANGE: wire.Operation.GETRANGE,
    ObjectVerb.RANGEHASH: wire.Operation.GETRANGEHASH,
}


@dataclass(frozen=True)
class Operation:
    """What is being done, by whom, with which tokens."""

    container: Container
    object_verb: ObjectVerb | None = None
    container_verb: ContainerVerb | None = None
    object_id: ObjectID | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    object_headers: dict[str, str] = field(default_factory=dict)
    requester_key: bytes = b""
    requester_account: OwnerID | None = None
    session_token: SessionToken | None = None
    bearer_token: BearerToken | None = None
    bearer_raw: bytes = b""
    epoch: int | None = None  # judge lifetimes at this epoch (default: the current one)


@dataclass(frozen=True)
class Decision:
    allow: bool
    reason: str
    record: dict[str, Any] | None = None


def _deny(reason: str, record: dict[str, Any] | None = None) -> Decision:
    return Decision(False, reason, record)


_CHECK_REASONS = {
    Check.UNSIGNED: "bad_signature",
    Check.BAD_SIGNATURE: "bad_signature",
    Check.ISSUER_MISMATCH: "issuer_mismatch",
}


def _lifetime_reason(lifetime: Lifetime | None, epoch: int) -> str | None:
    validity = (lifetime or Lifetime()).validity_at(epoch)
    return None if validity is Validity.VALID else validity.value


class _Recorded:
    """The authority's own state of the operation's tokens — a recorded session's cancel and
    expiry, a bearer grant's revocation — read in one query the first time either is asked for
    (one, not one per token, when a request carries both)."""

    def __init__(self, op: Operation) -> None:
        self._op = op
        self._rows: dict[str, tuple[dt.datetime | None, dt.datetime | None]] | None = None

    def _read(self) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
        if self._rows is None:
            session, bearer = self._op.session_token, self._op.bearer_token
            reads: list[QuerySet[Any, Any]] = []
            if session is not None and len(session.body.id) == 16:
                reads.append(
                    Session.objects.filter(pk=uuid.UUID(bytes=session.body.id))
                    .order_by()  # no ORDER BY inside a UNION
                    .values_list(Value("session", CharField()), "cancelled_at", "expires_at")
                )
            if bearer is not None:
                digest = hashlib.sha256(self._op.bearer_raw or bearer.encode()).hexdigest()
                reads.append(
                    BearerGrant.objects.filter(token_digest=digest, revoked_at__isnull=False)
                    .order_by()
                    .values_list(Value("bearer", CharField()), "revoked_at", "revoked_at")
                )
            self._rows = {}
            if reads:
                head, *others = reads
                rows = head.union(*others, all=True) if others else head
                self._rows = {kind: (first, second) for kind, first, second in rows}
        return self._rows

    def session_state(self, now: dt.datetime) -> SessionState | None:
        """The state of the session token's recorded session at `now`, if recorded."""
        found = self._read().get("session")
        if found is None:
            return None
        cancelled_at, expires_at = found
        assert expires_at is not None  # noqa: S101 - a session always has one
        return session_state(cancelled_at=cancelled_at, expires_at=expires_at, now=now)

    def bearer_revoked(self) -> bool:
        return "bearer" in self._read()


@audited_verify  # every decision audited (issue 18): tokens/services/decision_audit.py
def request_verify(op: Operation) -> Decision:
    epoch = op.epoch if op.epoch is not None else current_epoch()
    recorded = _Recorded(op)
    cid = ContainerID(bytes(op.container.cid))
    owner = OwnerID.from_string(op.container.owner.neofs_owner_id or "", "owner")
    account = op.requester_account
    if op.requester_key:
        try:
            account = OwnerID.from_public_key(op.requester_key)
        except WireError:
            return _deny("bad_requester_key")

    if op.session_token is not None:
        reason = _session_reason(op, cid, epoch, recorded)
        if reason:
            return _deny(reason)
        account = op.session_token.body.owner_id  # acting on behalf of the token's issuer

    if op.container_verb is not None:  # container operations: the owner's own, via a session
        return Decision(True, "allowed") if account == owner else _deny("not_owner")

    table = None
    if op.bearer_token is not None:
        reason = _bearer_reason(op, cid, owner, account, epoch, recorded)
        if reason:
            return _deny(reason)
        table = op.bearer_token.body.eacl_table
    elif op.container.eacl_table is not None:
        table = eacl_table_to_wire_cached(table=op.container.eacl_table)
    if table is None:
        return Decision(True, "allowed")
    decision = evaluate(
        table,
        Request(
            operation=OPERATION_OF_VERB[op.object_verb or ObjectVerb.GET],
            role=wire.Role.USER if account == owner else wire.Role.OTHERS,
            public_key=op.requester_key,
            account=account.value if account else b"",
            headers={
                wire.HeaderType.REQUEST: op.request_headers,
                wire.HeaderType.OBJECT: op.object_headers,
            },
        ),
    )
    record = None
    if decision.record_index is not None:
        matched = table.records[decision.record_index]
        record = {"index": decision.record_index, "record": matched.to_json()}
        try:
            record["rule"] = format_rule(matched)
        except WireError:
            pass
    if not decision.allowed:
        return _deny("eacl_deny", record)
    return Decision(True, "allowed", record)


def _session_reason(op: Operation, cid: ContainerID, epoch: int, recorded: _Recorded) -> str | None:
    token = op.session_token
    assert token is not None  # noqa: S101 - the caller checked
    check = token.check()
    if check is not Check.OK:
        return _CHECK_REASONS[check]
    lifetime_reason = _lifetime_reason(token.body.lifetime, epoch)
    if lifetime_reason:
        return lifetime_reason
    context = token.body.context
    if op.object_verb is not None:
        if not isinstance(context, ObjectContext):
            return "wrong_context"
        mismatch = context.check(op.object_verb, cid, op.object_id)
    else:
        if not isinstance(context, ContainerContext):
            return "wrong_context"
        mismatch = context.check(op.container_verb or ContainerVerb.VERB_UNSPECIFIED, cid)
    if mismatch is not None:
        return mismatch.value
    if op.requester_key and op.requester_key != token.body.session_key:
        return "session_key_mismatch"
    state = recorded.session_state(timezone.now())
    return _STATE_REASONS.get(state) if state is not None else None


_STATE_REASONS = {SessionState.CANCELLED: "revoked", SessionState.EXPIRED: "expired"}


def _bearer_reason(
    op: Operation,
    cid: ContainerID,
    owner: OwnerID,
    account: OwnerID | None,
    epoch: int,
    recorded: _Recorded,
) -> str | None:
    token = op.bearer_token
    assert token is not None  # noqa: S101 - the caller checked
    check = token.check()
    if check is not Check.OK:
        return _CHECK_REASONS[check]
    if token.resolve_issuer() != owner:
        return "bearer_issuer_not_owner"
    lifetime_reason = _lifetime_reason(token.body.lifetime, epoch)
    if lifetime_reason:
        return lifetime_reason
    table = token.body.eacl_table
    if table is not None and table.container_id not in (None, cid):
        return "wrong_container"
    if token.body.owner_id is not None and token.body.owner_id != account:
        return "bearer_not_for_receiver"
    if recorded.bearer_revoked():
        return "revoked"
    return None
