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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import DateTimeField, Exists, Subquery
from django.utils import timezone

from authority import selectors as tenancy
from authority.caches import registry
from authority.conf import authority_settings
from authority.epoch import current_epoch
from authority.lru import LRU
from authority.models import Container
from authority.principals import Principal
from authority.raw import field_value
from authority.selectors import AlsoRead
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
from tokens.wire.signature import Signature
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


@dataclass(frozen=True)
class _Wanted:
    """Which of the authority's records an operation's tokens need, by their identifiers."""

    session: uuid.UUID | None = None
    bearer_digest: str | None = None
    access_session: uuid.UUID | None = None
    access_jti: str | None = None


def _session_time(name: str) -> Callable[[uuid.UUID], Any]:
    def read(session_id: uuid.UUID) -> Any:
        found = Session.objects.filter(pk=session_id).order_by().values(name)[:1]
        return Subquery(found, output_field=DateTimeField())

    return read


class _Fact(NamedTuple):
    reads: str  # the `_Wanted` identifier it is read by
    expression: Callable[[Any], Any]  # of that identifier
    ended: Any  # what it reads as when it cannot be read: ended (see `_Recorded._read`)


_LONG_AGO = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# The facts of the records `_Wanted` names, by the attribute names they take. A session's facts
# are its cancel and its expiry, never its state at a moment: the row holds no time, so it may be
# remembered (authority.state_changes) and expiry still acts on time.
_STATE_FACTS: dict[str, _Fact] = {
    "token_session_cancelled_at": _Fact("session", _session_time("cancelled_at"), _LONG_AGO),
    "token_session_expires_at": _Fact("session", _session_time("expires_at"), _LONG_AGO),
    "token_bearer_revoked": _Fact(
        "bearer_digest",
        lambda digest: Exists(
            BearerGrant.objects.filter(token_digest=digest, revoked_at__isnull=False)
        ),
        True,
    ),
    "token_access_cancelled_at": _Fact("access_session", _session_time("cancelled_at"), _LONG_AGO),
    "token_access_expires_at": _Fact("access_session", _session_time("expires_at"), _LONG_AGO),
    "token_access_revoked": _Fact(
        "access_jti", lambda jti: Exists(RevokedAccessToken.objects.filter(jti=jti)), True
    ),
}


def _state_names(wanted: _Wanted) -> tuple[str, ...]:
    """The names of the facts `wanted` asks for, in `_STATE_FACTS`' order."""
    return tuple(
        name for name, fact in _STATE_FACTS.items() if getattr(wanted, fact.reads) is not None
    )


def _state_annotations(wanted: _Wanted) -> dict[str, Any]:
    """The facts `wanted` asks for as expressions, named by `_state_names`."""
    facts = {name: _STATE_FACTS[name] for name in _state_names(wanted)}
    return {name: fact.expression(getattr(wanted, fact.reads)) for name, fact in facts.items()}


def _state_read(wanted: _Wanted) -> AlsoRead | None:
    """The state read for `wanted`, to run with the container's read (one statement)."""
    present = [name for name, value in vars(wanted).items() if value is not None]
    if not present:
        return None
    values = tuple(getattr(wanted, name) for name in present)
    prepared = tuple(
        Session._meta.pk.get_db_prep_value(value, connection)
        if isinstance(value, uuid.UUID)
        else value
        for value in values
    )

    def annotations(*given: Any) -> dict[str, Any]:
        return _state_annotations(_Wanted(**dict(zip(present, given, strict=True))))

    # each identifier takes a place per fact that reads it (a session id: two subqueries)
    uses = tuple(sum(fact.reads == kind for fact in _STATE_FACTS.values()) for kind in present)
    name = "token_state." + "+".join(present)
    return AlsoRead(name, _state_names(wanted), annotations, values, prepared, uses)


def _wanted(
    session: SessionToken | None,
    bearer: BearerToken | None,
    bearer_raw: bytes,
    access_claims: dict[str, Any] | None,
) -> _Wanted:
    return _Wanted(
        session=uuid.UUID(bytes=session.body.id)
        if session is not None and len(session.body.id) == 16
        else None,
        bearer_digest=hashlib.sha256(bearer_raw or bearer.encode()).hexdigest()
        if bearer is not None
        else None,
        access_session=uuid.UUID(str(access_claims["sid"])) if access_claims else None,
        access_jti=str(access_claims["jti"]) if access_claims else None,
    )


def container_for_verify(
    *,
    principal: Principal,
    cid: bytes,
    session_token: SessionToken | None = None,
    bearer_token: BearerToken | None = None,
    bearer_raw: bytes = b"",
    access_token: str | None = None,
    audience: str | None = None,
) -> Container:
    """The container an operation names (404 when the principal may not decide for it), read in
    one statement with the authority's records of the operation's tokens — what `request_verify`
    would otherwise read in a second query."""
    claims = None
    # request_verify refuses a session token beside an access token (one author per request).
    if access_token is not None and session_token is None:
        claims, _ = access_token_check(
            access_token, audience=audience or authority_settings.ACCESS_TOKEN_AUDIENCE
        )  # checked again, from this process's memory, by request_verify
        try:
            uuid.UUID(str((claims or {}).get("sid")))
        except ValueError:
            claims = None
    wanted = _wanted(session_token, bearer_token, bearer_raw, claims)
    container = tenancy.container_for_decision(
        principal=principal, cid=cid, also=_state_read(wanted)
    )
    container.token_state_of = wanted  # type: ignore[attr-defined]
    return container


def _moment(value: Any) -> dt.datetime:
    """A session time as read by hand-written SQL (SQLite gives text), as the model gives it."""
    moment: dt.datetime = field_value(Session, "expires_at", value)
    return moment


class _Recorded:
    """The authority's own state of the operation's tokens — a recorded session's cancel and
    expiry, a bearer grant's or an access token's revocation: read with the container when it
    came from `container_for_verify` for the same tokens, else in one query the first time any
    is asked for (one, not one per token, when a request carries several)."""

    def __init__(self, op: Operation) -> None:
        self._op = op
        self._facts: dict[str, Any] | None = None
        self.access_claims: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if self._facts is None:
            op = self._op
            wanted = _wanted(op.session_token, op.bearer_token, op.bearer_raw, self.access_claims)
            names = _state_names(wanted)
            if getattr(op.container, "token_state_of", None) == wanted:
                values = [getattr(op.container, name) for name in names]
            elif (also := _state_read(wanted)) is not None:
                read = Container.objects.filter(pk=op.container.pk).order_by()
                row = read.annotate(**also.annotations(*also.values)).values_list(*names).first()
                # No row (the container deleted meanwhile): nothing can be vouched for, so every
                # record reads as ended — the decision fails closed.
                values = list(row) if row is not None else [_STATE_FACTS[n].ended for n in names]
            else:
                values = []
            self._facts = dict(zip(names, values, strict=True))
        return self._facts

    def _state(self, prefix: str) -> SessionState | None:
        """The state now of a session read as `{prefix}_cancelled_at` and `{prefix}_expires_at`
        (None: not recorded), by the model's own rule."""
        facts = self._read()
        expires_at = facts.get(f"{prefix}_expires_at")
        if expires_at is None:
            return None
        cancelled_at = facts.get(f"{prefix}_cancelled_at")
        return session_state(
            cancelled_at=None if cancelled_at is None else _moment(cancelled_at),
            expires_at=_moment(expires_at),
            now=timezone.now(),
        )

    def session_state(self) -> SessionState | None:
        """The state of the session token's recorded session, if recorded."""
        return self._state("token_session")

    def access_session_state(self) -> SessionState | None:
        """The state of the access token's session (None: no such session)."""
        return self._state("token_access")

    def access_revoked(self) -> bool:
        return bool(self._read().get("token_access_revoked"))

    def bearer_revoked(self) -> bool:
        return bool(self._read().get("token_bearer_revoked"))


@audited_verify  # every decision audited (issue 18): tokens/services/decision_audit.py
def request_verify(op: Operation) -> Decision:
    if op.session_token is not None and op.access_token is not None:
        return _deny("session_and_access_token")  # two authors for one request (the API: 400)
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
    state = recorded.access_session_state()
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
    check = _checked(token)
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
    state = recorded.session_state()
    return _STATE_REASONS.get(state) if state is not None else None


_STATE_REASONS = {SessionState.CANCELLED: "revoked", SessionState.EXPIRED: "expired"}

# A gateway attaches the same tokens to request after request, and a P-256 verification costs
# more than the rest of judging a token: the check of each signed body is remembered.
_checks: LRU[tuple[type, bytes, Signature], Check] = registry.lru("tokens.signature_checks")


def _checked(token: SessionToken | BearerToken) -> Check:
    """`token.check()`, remembered by the digest of the bytes it signs and its signature (a pure
    function of them); tokens given as JSON, whose bytes are not at hand, are checked each time."""
    if token.signed_data is None or token.signature is None:
        return token.check()
    key = (type(token), hashlib.sha256(token.signed_data).digest(), token.signature)
    found = _checks.get(key)
    if found is None:
        found = token.check()
        _checks.put(key, found)
    return found


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
    check = _checked(token)
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
