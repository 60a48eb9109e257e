"""Sessions whose NeoFS tokens the client takes part in: dynamic sessions (NeoFS
SessionService.Create; `frostfs-cli session create --out blank_token`) and imported
client-signed static tokens.

The authority generates the session key pair in the HSM and hands out a blank, unsigned token
(id, session key, lifetime). The client fills in the context and owner id, and either signs it
itself or has the authority sign it with the owner's key (`session_complete`). The authority can
then sign data with the session key on the owner's behalf — only within the session's context and
lifetime. The key is a token object in the HSM: it never leaves it, every worker finds it by its
CKA_ID, and it is destroyed when the session is cancelled or expires.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from authority.epoch import current_epoch, epoch_at, epoch_start
from authority.errors import Conflict, InvalidInput, NotAllowed, NotFound
from authority.models import Container, Owner
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.selectors import key_active_cached
from hsm.services import key_destroy, key_generate, key_sign
from hsm.signer import HSMSigner
from tokens.models import (
    CONTAINER_VERBS,
    OBJECT_VERBS,
    Session,
    SessionContext,
    SessionKind,
    SessionState,
)
from tokens.services.sessions import max_lifetime, renew_period, session_lock
from tokens.wire.ids import OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.session import (
    ContainerContext,
    ObjectContext,
    ObjectVerb,
    SessionBody,
    SessionToken,
)
from tokens.wire.signature import Scheme
from tokens.wire.token import Check


@transaction.atomic
def dynamic_session_create(
    *, actor: Principal, owner: Owner, renewer: Principal, lifetime: int | None = None
) -> tuple[Session, SessionToken]:
    """A session whose key pair is generated in the HSM, and its blank (unsigned) token."""
    require_role(actor, owner)
    if lifetime is not None and lifetime <= 0:
        raise InvalidInput("Lifetime must be positive.", field="lifetime")
    key = key_generate(purpose=KeyPurpose.DYNAMIC_SESSION, owner=owner, actor=actor)
    now = timezone.now()
    max_expires_at = now + dt.timedelta(
        seconds=min(lifetime or max_lifetime(owner), max_lifetime(owner))
    )
    session = Session.objects.create(
        owner=owner,
        subject=actor.label,
        renewer_user=renewer.user if renewer.application is None else None,
        renewer_application=renewer.application,
        kind=SessionKind.DYNAMIC,
        context=SessionContext.OBJECT,  # until the client completes the token
        verbs=[],
        session_key=key.public_key,
        dynamic_key=key,
        created_at=now,
        expires_at=min(now + dt.timedelta(seconds=renew_period(owner)), max_expires_at),
        max_expires_at=max_expires_at,
    )
    epoch = current_epoch()
    blank = SessionToken(
        SessionBody(
            id=session.id.bytes,
            lifetime=Lifetime(exp=epoch_at(max_expires_at), nbf=epoch, iat=epoch),
            session_key=bytes(key.public_key or b""),
        )
    )
    audit_record(
        actor=actor, owner=owner, action=AuditAction.SESSION_CREATE_DYNAMIC, object_type="session",
        object_id=str(session.id), detail={"key": key.label},
    )  # fmt: skip
    return session, blank


def _context_fields(
    owner: Owner, context: ObjectContext | ContainerContext | None
) -> tuple[str, list[str], bytes | None, list[str]]:
    cid: bytes | None
    if isinstance(context, ObjectContext):
        if not isinstance(context.verb, ObjectVerb) or context.verb.name not in OBJECT_VERBS:
            raise InvalidInput("Not an object verb.", field="token.body.object.verb")
        if context.container is None:
            raise InvalidInput(
                "Object sessions need a container.", field="token.body.object.target"
            )
        cid = context.container.value
        objects = [str(o) for o in context.objects]
        kind, verb = SessionContext.OBJECT, context.verb.name
    elif isinstance(context, ContainerContext):
        name = getattr(context.verb, "name", "")
        if name not in CONTAINER_VERBS:
            raise InvalidInput("Not a container verb.", field="token.body.container.verb")
        cid = (
            None
            if context.wildcard
            else (context.container_id.value if context.container_id else None)
        )
        if not context.wildcard and cid is None:
            raise InvalidInput("Name a container or set wildcard.", field="token.body.container")
        objects, kind, verb = [], SessionContext.CONTAINER, name
    else:
        raise InvalidInput("The token has no context.", field="token.body")
    if cid is not None and not Container.objects.filter(owner=owner, cid=cid).exists():
        raise InvalidInput("No such container.", field="token.body.context")
    return kind, [verb], cid, objects


@transaction.atomic
def session_complete(*, actor: Principal, session: Session, token: SessionToken) -> SessionToken:
    """Records the client's completed token — signed by the client with the owner's key, or
    signed here with the owner's HSM key — after checking it is this session's token."""
    require_role(actor, session.owner)
    session = session_lock(session)
    if session.kind != SessionKind.DYNAMIC:
        raise Conflict("Only dynamic sessions are completed.")
    if session.token is not None:
        raise Conflict("The session's token is already complete.")
    if session.state != SessionState.ACTIVE:
        raise Conflict(f"The session is {session.state}.")
    body = token.body
    if body.id != session.id.bytes:
        raise InvalidInput("The token's id is not this session's.", field="token.body.id")
    if body.session_key != bytes(session.session_key or b""):
        raise InvalidInput(
            "The token's session key is not this session's.", field="token.body.sessionKey"
        )
    if body.owner_id != OwnerID.from_string(session.owner.neofs_owner_id or "", "owner"):
        raise InvalidInput(
            "The token's owner is not the session's owner.", field="token.body.ownerID"
        )
    lifetime = body.lifetime
    if (
        lifetime is None
        or lifetime.exp > epoch_at(session.max_expires_at)
        or lifetime.nbf > lifetime.exp
    ):
        raise InvalidInput(
            "The lifetime is outside the session's bounds.", field="token.body.lifetime"
        )
    context, verbs, cid, objects = _context_fields(session.owner, body.context)
    if token.signature is None:
        if session.owner.signs_own_tokens:
            raise Conflict("This owner signs its own tokens: sign it and send it signed.")
        signer = HSMSigner(key_active_cached(purpose=KeyPurpose.OWNER_SIGNING, owner=session.owner))
        token = SessionToken(body).signed(signer, Scheme.ECDSA_RFC6979_SHA256)
    elif token.check() is not Check.OK:
        raise InvalidInput(
            f"The token's signature: {token.check().value}.", field="token.signature"
        )
    session.context, session.verbs, session.container_cid, session.objects_list = (
        context,
        verbs,
        cid,
        objects,
    )
    session.token = token.encode()
    session.save(update_fields=["context", "verbs", "container_cid", "objects_list", "token"])
    audit_record(
        actor=actor, owner=session.owner, action=AuditAction.SESSION_COMPLETE,
        object_type="session", object_id=str(session.id), token=token.encode(),
        detail={"verbs": verbs},
    )  # fmt: skip
    return token


def session_sign(
    *, actor: Principal, session: Session, data: bytes, verb: str, container: bytes | None,
    scheme: Scheme = Scheme.ECDSA_RFC6979_SHA256,
) -> bytes:  # fmt: skip
    """Signs with the session key on the owner's behalf, within the session's context only."""
    require_role(actor, session.owner)
    if session.kind != SessionKind.DYNAMIC or session.dynamic_key_id is None:
        raise Conflict("Only dynamic sessions hold a key the authority signs with.")
    if session.token is None:
        raise Conflict("Complete the session's token first.")
    if session.state != SessionState.ACTIVE:
        raise Conflict(f"The session is {session.state}.")
    if verb not in session.verbs:
        raise NotAllowed(f"The session allows {', '.join(session.verbs)}, not {verb}.")
    if session.container_cid is not None and container != bytes(session.container_cid):
        raise NotAllowed("The session does not cover this container.")
    key: KeyRecord = session.dynamic_key  # type: ignore[assignment]
    signature = key_sign(key=key, data=data, scheme=scheme)
    audit_record(
        actor=actor, owner=session.owner_id, action=AuditAction.SESSION_SIGN, object_type="session",
        object_id=str(session.id), detail={"verb": verb, "bytes": len(data)},
    )  # fmt: skip
    return signature


def ended_session_keys_destroy(*, now: dt.datetime | None = None, batch_size: int = 1000) -> int:
    """Destroys the HSM keys of dynamic sessions that were cancelled or have expired."""
    now = now or timezone.now()
    destroyed = 0
    while True:
        keys = list(
            KeyRecord.objects.filter(
                purpose=KeyPurpose.DYNAMIC_SESSION, state=KeyState.ACTIVE,
                pk__in=Session.objects.filter(dynamic_key__isnull=False)
                .ended(now)
                .values("dynamic_key_id"),
            )[:batch_size]
        )  # fmt: skip
        for key in keys:
            key_destroy(key=key)
        destroyed += len(keys)
        if len(keys) < batch_size:
            return destroyed


@transaction.atomic
def static_session_import(*, actor: Principal, token: SessionToken) -> Session:
    """Registers a static token an owner signed with its own wallet (`frostfs-cli util sign
    session-token`), after checking signature, issuer binding and lifetime, so that verify,
    introspect and cancel know it. A token modified after signing fails the signature check."""
    check = token.check()
    if check is not Check.OK:
        raise InvalidInput(f"The token's signature: {check.value}.", field="token.signature")
    body = token.body
    owner = Owner.objects.visible_to(actor).filter(neofs_owner_id=str(body.owner_id)).first()
    if owner is None:
        raise InvalidInput("The token's issuer is none of your owners.", field="token.body.ownerID")
    require_role(actor, owner)
    lifetime = body.lifetime
    if lifetime is None or lifetime.exp < current_epoch():
        raise InvalidInput("The token has expired.", field="token.body.lifetime")
    if len(body.id) != 16 or not body.session_key:
        raise InvalidInput("A session token needs an id and a session key.", field="token.body")
    session_id = uuid.UUID(bytes=body.id)
    existing = Session.objects.filter(pk=session_id)
    if existing.exists():
        if not existing.visible_to(actor).exists():  # another owner's: never revealed (404)
            raise NotFound("No such session.")
        raise Conflict("A session with this id is already registered.")
    context, verbs, cid, objects = _context_fields(owner, body.context)
    ends = epoch_start(lifetime.exp + 1)  # the token is valid through its exp epoch
    session = Session.objects.create(
        id=session_id,
        owner=owner,
        subject=actor.label,
        renewer_user=actor.user if actor.application is None else None,
        renewer_application=actor.application,
        kind=SessionKind.STATIC,
        context=context,
        verbs=verbs,
        container_cid=cid,
        objects_list=objects,
        session_key=body.session_key,
        token=token.encode(),
        expires_at=ends,
        max_expires_at=ends,
    )
    audit_record(
        actor=actor, owner=owner, action=AuditAction.SESSION_IMPORT, object_type="session",
        object_id=str(session.id), token=token.encode(), detail={"verbs": verbs},
    )  # fmt: skip
    return session
