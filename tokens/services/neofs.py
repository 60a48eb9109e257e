"""NeoFS session tokens and Session records: building a token's body from a record (issue, dynamic,
verify), and matching a presented token to the one recorded (trade, introspection)."""

from __future__ import annotations

import base64
import hmac
import uuid

from authority.epoch import current_epoch, epoch_at
from tokens.models import Session, SessionContext
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, ObjectID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.session import (
    ContainerContext,
    ContainerVerb,
    ObjectContext,
    ObjectVerb,
    SessionBody,
    SessionToken,
)


def session_context(session: Session) -> ObjectContext | ContainerContext:
    """The NeoFS context of a session with one verb (static and dynamic sessions have one)."""
    verb = session.verbs[0]
    container = ContainerID(bytes(session.container_cid)) if session.container_cid else None
    if session.context == SessionContext.OBJECT:
        objects = tuple(ObjectID.from_string(o, "objects") for o in session.objects_list)
        return ObjectContext(ObjectVerb[verb], container, objects)
    return ContainerContext(ContainerVerb[verb], wildcard=container is None, container_id=container)


def session_body(session: Session, *, session_key: bytes) -> SessionBody:
    """neo.fs.v2 SessionToken.Body for the session: iat = nbf = now, exp = epoch of max expiry."""
    now = current_epoch()
    return SessionBody(
        id=session.id.bytes,
        owner_id=OwnerID.from_string(session.owner.neofs_owner_id or "", "owner"),
        lifetime=Lifetime(exp=epoch_at(session.max_expires_at), nbf=now, iat=now),
        session_key=session_key,
        context=session_context(session),
    )


def neofs_token_parse(token: str) -> tuple[uuid.UUID, bytes, SessionToken] | None:
    """(session id, raw bytes, token) of a base64 NeoFS session token, or None."""
    try:
        raw = base64.b64decode(token, validate=True)
        decoded = SessionToken.decode(raw)
        return uuid.UUID(bytes=decoded.body.id), raw, decoded
    except (ValueError, WireError):
        return None


def neofs_token_matches(session: Session | None, raw: bytes) -> bool:
    """Whether `raw` is, byte for byte, the NeoFS token recorded for `session`."""
    return (
        session is not None
        and session.token is not None
        and hmac.compare_digest(bytes(session.token), raw)
    )
