"""The policy decision point: given an operation and the tokens attached to it, allow or deny
with a machine-readable reason, applying the rules NeoFS nodes apply plus the authority's own
state (cancelled sessions, revoked bearer grants and access tokens).

The order is neofs-node's (`pkg/services/object/server.go` handlers, `acl/v2/service.go`
`findRequestInfo`, `acl/acl.go` `Checker`):
1. who asks: with a session token the request's author is the token's issuer and its key the
   key that signed the token (`getRequestCredentials`, `getCredentialsFromSessionV1Token`);
   without, the requester's own key; an access token (the authority's JWT) stands, like a
   session, for its session's owner;
2. the tokens: session (signature, issuer, lifetime, verb/container/object), bearer (issuer =
   container owner, container, receiver = the author: `verifyBearerTokenAgainstRequest`);
3. the role (`classifier.go` `classify`): the container's owner is USER, anyone else OTHERS —
   never SYSTEM (container and Inner Ring nodes are not requesters here);
4. the basic ACL (`CheckBasicACL`, and `StickyBitCheck` for PUT): a clear bit denies
   (`basic_acl_deny`, `sticky_bit_deny`);
5. the eACL unless the F bit is set (`CheckEACL`): the bearer token's table if the B bit allows
   bearer rules for the operation, else the container's; first matching record decides
   (`eacl_deny`), no match leaves the basic ACL's allow.
A container whose basic ACL is not recorded skips step 4 and consults the eACL as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import CharField, QuerySet, Value
from django.utils import timezone

from authority.conf import authority_settings
from authority.epoch import current_epoch
from authority.models import Container
from authority.raw import compiled_statement, fetch_rows, field_converter
from authority.services.eacl_tables import eacl_table_to_wire_cached, eacl_table_version_to_wire
from tokens.models import BearerGrant, RevokedAccessToken, Session, SessionState, session_state
from tokens.services.access_tokens import access_token_check
from tokens.services.decision_audit import audited_verify
from tokens.wire import basic_acl
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
    access_token: str | None = None
    audience: str | None = None  # of the access token (default: ACCESS_TOKEN_AUDIENCE)
    object_owner: OwnerID | None = None  # the owner a PUT names (sticky bit)
    epoch: int | None = None  # judge lifetimes at this epoch (default: the current one)


@dataclass(frozen=True)
class Decision:
    """`reason`: `allowed`, or why not (`basic_acl_deny`, `sticky_bit_deny`, `eacl_deny`, a
    token's defect…); `record`: the eACL record that decided, when one did."""

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


# The stand-ins the state reads are compiled with (authority.raw.compiled_statement).
_SESSION_STAND_IN = uuid.UUID(int=1)
_ACCESS_STAND_IN = uuid.UUID(int=2)
_DIGEST_STAND_IN = "bearer-digest-stand-in"
_JTI_STAND_IN = "jti-stand-in"


def _session_read(kind: str, session_id: uuid.UUID) -> QuerySet[Any, Any]:
    return (
        Session.objects.filter(pk=session_id)
        .order_by()  # no ORDER BY inside a UNION
        .values_list(Value(kind, CharField()), "cancelled_at", "expires_at")
    )


def _bearer_read(digest: str) -> QuerySet[Any, Any]:
    return (
        BearerGrant.objects.filter(token_digest=digest, revoked_at__isnull=False)
        .order_by()
        .values_list(Value("bearer", CharField()), "revoked_at", "revoked_at")
    )


def _access_revoked_read(jti: str) -> QuerySet[Any, Any]:
    return (
        RevokedAccessToken.objects.filter(jti=jti)
        .order_by()
        .values_list(Value("access_revoked", CharField()), "revoked_at", "revoked_at")
    )


# Each kind of state: its read, with its stand-in value.
_STATE_READS: dict[str, tuple[Any, Any]] = {
    "session": (lambda value: _session_read("session", value), _SESSION_STAND_IN),
    "bearer": (_bearer_read, _DIGEST_STAND_IN),
    "access": (lambda value: _session_read("access", value), _ACCESS_STAND_IN),
    "access_revoked": (_access_revoked_read, _JTI_STAND_IN),
}


def _prepared(value: Any) -> Any:
    return (
        Session._meta.pk.get_db_prep_value(value, connection)
        if isinstance(value, uuid.UUID)
        else value
    )


class _Recorded:
    """The authority's own state of the operation's tokens — a recorded session's cancel and
    expiry, a bearer grant's or an access token's revocation — read in one query the first time
    any is asked for (one, not one per token, when a request carries several). The query is a
    UNION of one read per kind present, compiled once per combination of kinds."""

    def __init__(self, op: Operation) -> None:
        self._op = op
        self._rows: dict[str, tuple[dt.datetime | None, dt.datetime | None]] | None = None
        self.access_claims: dict[str, Any] | None = None

    def _wanted(self) -> dict[str, Any]:
        session, bearer = self._op.session_token, self._op.bearer_token
        wanted: dict[str, Any] = {}
        if session is not None and len(session.body.id) == 16:
            wanted["session"] = uuid.UUID(bytes=session.body.id)
        if bearer is not None:
            wanted["bearer"] = hashlib.sha256(self._op.bearer_raw or bearer.encode()).hexdigest()
        if self.access_claims is not None:
            wanted["access"] = uuid.UUID(self.access_claims["sid"])
            wanted["access_revoked"] = str(self.access_claims["jti"])
        return wanted

    def _read(self) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
        if self._rows is None:
            wanted = self._wanted()
            self._rows = {}
            if wanted:
                kinds = tuple(wanted)

                def build() -> QuerySet[Any, Any]:
                    head, *others = [_STATE_READS[k][0](_STATE_READS[k][1]) for k in kinds]
                    return head.union(*others, all=True) if others else head

                sql, params = compiled_statement(
                    "verify.token_state." + "+".join(kinds),
                    build,
                    [_prepared(_STATE_READS[k][1]) for k in kinds],
                    [_prepared(wanted[k]) for k in kinds],
                )
                moment = field_converter(Session, "expires_at")
                rows = fetch_rows(sql, params, (None, moment, moment))
                self._rows = {kind: (first, second) for kind, first, second in rows}
        return self._rows

    def _state(self, kind: str, now: dt.datetime) -> SessionState | None:
        found = self._read().get(kind)
        if found is None:
            return None
        cancelled_at, expires_at = found
        assert expires_at is not None  # noqa: S101 - a session always has one
        return session_state(cancelled_at=cancelled_at, expires_at=expires_at, now=now)

    def session_state(self, now: dt.datetime) -> SessionState | None:
        """The state of the session token's recorded session at `now`, if recorded."""
        return self._state("session", now)

    def access_session_state(self, now: dt.datetime) -> SessionState | None:
        """The state of the access token's session at `now` (None: no such session)."""
        return self._state("access", now)

    def access_revoked(self) -> bool:
        return "access_revoked" in self._read()

    def bearer_revoked(self) -> bool:
        return "bearer" in self._read()


@audited_verify  # every decision audited (issue 18): tokens/services/decision_audit.py
def request_verify(op: Operation) -> Decision:
    epoch = op.epoch if op.epoch is not None else current_epoch()
    recorded = _Recorded(op)
    cid = ContainerID(bytes(op.container.cid))
    owner = OwnerID.from_string(_owner_neofs_id(op.container), "owner")

    # 1. who asks — neofs-node acl/v2/service.go getRequestCredentials
    sender_key = op.requester_key
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
        # getCredentialsFromSessionV1Token: the issuer, and the key that signed the token
        account = op.session_token.body.owner_id
        signature = op.session_token.signature
        sender_key = signature.key if signature is not None else b""
    if op.access_token is not None:
        subject, reason = _access_token_reason(op, cid, recorded)
        if reason:
            return _deny(reason)
        account, sender_key = subject, b""

    if op.container_verb is not None:  # container operations: the owner's own
        return Decision(True, "allowed") if account == owner else _deny("not_owner")

    # 2. the bearer token against the request — acl/v2/service.go verifyBearerTokenAgainstRequest
    if op.bearer_token is not None:
        reason = _bearer_reason(op, cid, owner, account, epoch, recorded)
        if reason:
            return _deny(reason)

    # 3. the role — acl/v2/classifier.go classify (SYSTEM roles never come from a request)
    is_owner = account is not None and account == owner
    operation = OPERATION_OF_VERB[op.object_verb or ObjectVerb.GET]
    use_bearer = op.bearer_token is not None
    bits = op.container.basic_acl
    if bits is not None:
        # 4. acl/acl.go Checker.CheckBasicACL, then StickyBitCheck for PUT (server.go Put)
        role = basic_acl.Role.OWNER if is_owner else basic_acl.Role.OTHERS
        if not basic_acl.is_operation_allowed(bits, operation, role):
            return _deny("basic_acl_deny")
        if operation == wire.Operation.PUT and not _sticky_allows(bits, op, sender_key):
            return _deny("sticky_bit_deny")
        # 5. Checker.CheckEACL: F set → the basic ACL's answer is final
        if not basic_acl.extendable(bits):
            return Decision(True, "allowed")
        use_bearer = use_bearer and basic_acl.bearer_rules_allowed(bits, operation)

    table = None
    if use_bearer:
        assert op.bearer_token is not None  # noqa: S101 - use_bearer says so
        table = op.bearer_token.body.eacl_table
    else:
        table = _stored_table(op.container)
    if table is None:
        return Decision(True, "allowed")
    decision = evaluate(
        table,
        Request(
            operation=operation,
            role=wire.Role.USER if is_owner else wire.Role.OTHERS,
            public_key=sender_key,
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


def _owner_neofs_id(container: Container) -> str:
    """The owner's NeoFS id: read with the container by `container_for_decision`, else from the
    owner (a container from the ORM)."""
    found = getattr(container, "owner_neofs_id", None)
    return str(found if found is not None else container.owner.neofs_owner_id or "")


def _stored_table(container: Container) -> wire.Table | None:
    """The container's current eACL table, converted once per version in this process."""
    if container.eacl_table_id is None:
        return None
    if hasattr(container, "eacl_table_updated_at"):  # read by container_for_decision
        return eacl_table_version_to_wire(
            table_id=container.eacl_table_id, updated_at=container.eacl_table_updated_at
        )
    assert container.eacl_table is not None  # noqa: S101 - the id says so
    return eacl_table_to_wire_cached(table=container.eacl_table)


def _sticky_allows(bits: int, op: Operation, sender_key: bytes) -> bool:
    """acl/acl.go Checker.StickyBitCheck: with the sticky bit set, only the key of the object's
    owner may put it (a PUT that names no owner is refused, as `PutRequestToInfo` refuses it)."""
    if not basic_acl.sticky(bits):
        return True
    if not sender_key or op.object_owner is None:
        return False
    try:
        return OwnerID.from_public_key(sender_key) == op.object_owner
    except WireError:
        return False


def _access_token_reason(
    op: Operation, cid: ContainerID, recorded: _Recorded
) -> tuple[OwnerID | None, str | None]:
    """An access token judged as a resource server judges it (tokens.services.access_tokens),
    then revocation and its session's state (one query with the other tokens' state), then its
    scope and container applied to the operation. The request's author is the session's owner."""
    assert op.access_token is not None  # noqa: S101 - the caller checked
    claims, reason = access_token_check(
        op.access_token, audience=op.audience or authority_settings.ACCESS_TOKEN_AUDIENCE
    )
    if claims is None:
        return None, reason
    try:
        claims["sid"] = str(uuid.UUID(str(claims["sid"])))
        subject = OwnerID.from_string(str(claims["sub"]), "sub")
    except (ValueError, WireError):
        return None, "bad_access_token"
    recorded.access_claims = claims
    if recorded.access_revoked():
        return None, "revoked"
    state = recorded.access_session_state(timezone.now())
    if state is None:
        return None, "bad_access_token"
    if state is not SessionState.ACTIVE:
        return None, _STATE_REASONS[state]
    verb = op.object_verb or op.container_verb
    scope = str(claims.get("scope") or "").split()
    if verb is None or verb.name not in scope:
        return None, "verb_not_allowed"
    token_cid = claims.get("cid")
    if token_cid is not None and token_cid != str(cid):
        return None, "wrong_container"
    return subject, None


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
