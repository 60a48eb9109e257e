"""Session lifecycle: issue, renew, cancel (broker GetSessionToken / RenewSessionToken /
CancelSessionToken; NeoFS static sessions). Every write audited in its own transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from authority.conf import authority_settings
from authority.dispatch import enqueue_on_commit
from authority.errors import Conflict, InvalidInput, NotAllowed
from authority.models import ADMIN_ROLES, Container, Owner
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role
from hsm.models import KeyPurpose
from hsm.selectors import key_active_cached
from hsm.services import key_active_or_generate
from hsm.signer import HSMSigner
from tokens.models import (
    CONTAINER_VERBS,
    OBJECT_VERBS,
    RenewalSchedule,
    Session,
    SessionContext,
    SessionKind,
    SessionState,
)
from tokens.services.delegation import delegation_digest, delegation_secret, delegation_token
from tokens.services.neofs import session_body
from tokens.wire.errors import WireError
from tokens.wire.ids import ObjectID, check_public_key
from tokens.wire.session import SessionToken
from tokens.wire.signature import Scheme

MAX_OBJECTS = 1000
# Tasks sent after commit, by name (authority/tasks.py, tokens/tasks.py).
SEAL_AUDIT_LOG = "authority.seal_audit_log"
DESTROY_SESSION_KEYS = "tokens.destroy_session_keys"


@dataclass(frozen=True)
class SessionRequest:
    """What a caller asks to delegate."""

    kind: SessionKind
    context: SessionContext
    verbs: tuple[str, ...]
    renewer: Principal
    container: Container | None = None
    objects: tuple[str, ...] = ()
    lifetime: int | None = None  # seconds; capped at the owner's maximum lifetime
    session_key: bytes | None = None


@dataclass(frozen=True)
class IssuedSession:
    session: Session
    delegation_token: str | None = None  # returned once, never stored
    neofs_token: SessionToken | None = field(default=None)


def renew_period(owner: Owner) -> int:
    return owner.renew_period or authority_settings.SESSION_RENEW_PERIOD


def max_lifetime(owner: Owner) -> int:
    return owner.max_lifetime or authority_settings.SESSION_MAX_LIFETIME


def _check_request(owner: Owner, request: SessionRequest) -> None:
    allowed = OBJECT_VERBS if request.context == SessionContext.OBJECT else CONTAINER_VERBS
    if not request.verbs:
        raise InvalidInput("Name at least one verb.", field="verbs")
    unknown = [v for v in request.verbs if v not in allowed]
    if unknown:
        raise InvalidInput(
            f"Not a {request.context} verb: {', '.join(unknown)} (allowed: {', '.join(allowed)}).",
            field="verbs",
        )
    if len(set(request.verbs)) != len(request.verbs):
        raise InvalidInput("Verbs repeat.", field="verbs")
    if request.kind != SessionKind.DELEGATION and len(request.verbs) != 1:
        raise InvalidInput("A NeoFS session token carries exactly one verb.", field="verbs")
    if request.container is not None and request.container.owner_id != owner.pk:
        raise InvalidInput("No such container.", field="container")
    if request.context == SessionContext.OBJECT and request.container is None:
        raise InvalidInput("Object sessions need a container.", field="container")
    if request.objects and request.context != SessionContext.OBJECT:
        raise InvalidInput("Only object sessions name objects.", field="objects")
    if len(request.objects) > MAX_OBJECTS:
        raise InvalidInput(f"At most {MAX_OBJECTS} objects.", field="objects")
    for index, text in enumerate(request.objects):
        try:
            ObjectID.from_string(text, f"objects[{index}]")
        except WireError as exc:
            raise InvalidInput(exc.message, field=exc.field) from None
    if request.lifetime is not None and request.lifetime <= 0:
        raise InvalidInput("Lifetime must be positive.", field="lifetime")
    if request.kind == SessionKind.STATIC:
        if request.session_key is None:
            raise InvalidInput(
                "A static session needs the trusted party's key.", field="session_key"
            )
        try:
            check_public_key(request.session_key, "session_key")
        except WireError as exc:
            raise InvalidInput(exc.message, field="session_key") from None
        if owner.signs_own_tokens:
            raise Conflict(
                "This owner signs its own tokens: sign the token and register it instead.",
                field="kind",
            )
    elif request.session_key is not None:
        raise InvalidInput("Only static sessions take a session key.", field="session_key")


@transaction.atomic
def session_issue(*, actor: Principal, owner: Owner, request: SessionRequest) -> IssuedSession:
    """Creates the session; a delegation secret is returned once, a static token signed in the
    HSM with the owner's key (exp = the epoch of the session's maximum expiry)."""
    require_role(actor, owner)  # operators and admins delegate; viewers do not
    _check_request(owner, request)
    now = timezone.now()
    lifetime = min(request.lifetime or max_lifetime(owner), max_lifetime(owner))
    max_expires_at = now + dt.timedelta(seconds=lifetime)
    session = Session(
        owner=owner,
        subject=actor.label,
        renewer_user=request.renewer.user if request.renewer.application is None else None,
        renewer_application=request.renewer.application,
        kind=request.kind,
        context=request.context,
        verbs=list(request.verbs),
        container_cid=bytes(request.container.cid) if request.container else None,
        objects_list=list(request.objects),
        session_key=request.session_key,
        created_at=now,
        expires_at=min(now + dt.timedelta(seconds=renew_period(owner)), max_expires_at),
        max_expires_at=max_expires_at,
    )
    secret = token = None
    if request.kind == SessionKind.DELEGATION:
        key = key_active_or_generate(purpose=KeyPurpose.DELEGATION_HMAC)
        secret = delegation_secret()
        session.secret_key = key
        session.secret_digest = delegation_digest(key, session.id, secret)
    elif request.kind == SessionKind.STATIC:
        signer = HSMSigner(key_active_cached(purpose=KeyPurpose.OWNER_SIGNING, owner=owner))
        body = session_body(session, session_key=request.session_key or b"")
        token = SessionToken(body).signed(signer, Scheme.ECDSA_RFC6979_SHA256)
        session.token = token.encode()
    session.save(force_insert=True)
    delegation = delegation_token(session.id, secret) if secret else None
    audit_record(
        actor=actor,
        owner=owner,
        action=AuditAction.SESSION_ISSUE,
        object_type="session",
        object_id=str(session.id),
        token=delegation or (bytes(session.token) if session.token else None),
        detail={
            "kind": str(request.kind),
            "verbs": list(request.verbs),
            "renewer": session.renewer_label,
        },
    )
    enqueue_on_commit(SEAL_AUDIT_LOG)  # chain the record now, not at the next beat
    return IssuedSession(session=session, delegation_token=delegation, neofs_token=token)


def session_lock(session: Session) -> Session:
    """The session, locked for a change; its owner is read with it but not locked (without
    `of`, PostgreSQL would lock the owner's row too, and every session change of a tenant
    would wait on every other)."""
    return (
        Session.objects.select_for_update(of=("self",)).select_related("owner").get(pk=session.pk)
    )


def is_renewer(actor: Principal, session: Session) -> bool:
    """Whether `actor` is the one principal the session names to renew (and cancel) it."""
    return actor.same_as(
        user_id=session.renewer_user_id, application_id=session.renewer_application_id
    )


def require_renewer_or_admin(actor: Principal, session: Session) -> None:
    """The renewer, or an admin of the session's owner (404 for a stranger, else 403)."""
    if not is_renewer(actor, session):
        require_role(actor, session.owner, ADMIN_ROLES)


@transaction.atomic
def session_renew(*, actor: Principal, session: Session) -> Session:
    """Only the renewer: `expires_at = min(now + renew period, max_expires_at)`."""
    session = session_lock(session)
    if not is_renewer(actor, session):
        raise NotAllowed("Only the session's renewer may renew it.")
    now = timezone.now()
    state = session.state_at(now)
    if state != SessionState.ACTIVE:
        raise Conflict(f"The session is {state}; it cannot be renewed.")
    if session.expires_at >= session.max_expires_at:
        raise Conflict("The session is at its maximum lifetime; it cannot be renewed.")
    previous = session.expires_at
    session.expires_at = min(
        now + dt.timedelta(seconds=renew_period(session.owner)), session.max_expires_at
    )
    session.save(update_fields=["expires_at"])
    audit_record(
        actor=actor,
        owner=session.owner,
        action=AuditAction.SESSION_RENEW,
        object_type="session",
        object_id=str(session.id),
        detail={"from": previous.isoformat(), "to": session.expires_at.isoformat()},
    )
    enqueue_on_commit(SEAL_AUDIT_LOG)
    return session


@transaction.atomic
def session_cancel(*, actor: Principal, session: Session, by_token_holder: bool = False) -> Session:
    """The renewer or an owner admin (or, through RFC 7009 revocation, a member holding the
    session token); idempotent. Trades stop at once: every trade re-reads the session's state.
    The record stays, cancelled, for audit."""
    session = session_lock(session)
    if not by_token_holder:
        require_renewer_or_admin(actor, session)
    if session.cancelled_at is not None:
        return session
    session.cancelled_at = timezone.now()
    session.save(update_fields=["cancelled_at"])
    audit_record(
        actor=actor,
        owner=session.owner,
        action=AuditAction.SESSION_CANCEL,
        object_type="session",
        object_id=str(session.id),
    )
    RenewalSchedule.objects.filter(session=session, active=True).update(
        active=False, last_outcome="stopped: session cancelled"
    )
    enqueue_on_commit(SEAL_AUDIT_LOG)
    if session.dynamic_key_id is not None:
        enqueue_on_commit(DESTROY_SESSION_KEYS)  # the sweep destroys it too, if this send fails
    return session
