"""RFC 7662 token introspection and RFC 7009 revocation, for clients of the token's owner.

Unknown, foreign and inactive tokens all answer `{"active": false}` — nothing tells them apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F
from django.utils import timezone

from authority.principals import Principal
from authority.raw import fetch_instance
from authority.roles import DECISION_ROLES, WRITER_ROLES
from authority.scoping import scoped_statement
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role
from tokens.models import RevokedAccessToken, Session, SessionState
from tokens.services.access_tokens import access_token_claims
from tokens.services.decision_audit import introspection_record
from tokens.services.delegation import delegation_session_matches, delegation_token_parse
from tokens.services.neofs import neofs_token_matches, neofs_token_parse
from tokens.services.sessions import session_cancel

INACTIVE: dict[str, Any] = {"active": False}


def _visible(actor: Principal, session_id: uuid.UUID, roles: Any = None) -> Any:
    return (
        Session.objects.visible_to(actor, roles=roles).select_related("owner").filter(pk=session_id)
    )


# What introspecting an access token reads of its session: its state, and the token's revocation.
_READ_FIELDS = (
    "id",
    "owner_id",
    "expires_at",
    "cancelled_at",
)  # in the model's field order (Model.from_db)


def _access_token_read(actor: Principal, session_id: uuid.UUID, jti: str) -> Any:
    """An access token's session, if the actor may introspect it (DECISION_ROLES), with whether
    the token is revoked: compiled once (authority.scoping.scoped_statement), one query."""
    return (
        _visible(actor, session_id, DECISION_ROLES)
        .order_by()
        .annotate(revoked=Exists(RevokedAccessToken.objects.filter(jti=jti)))
        .values_list(*_READ_FIELDS, "revoked")
    )


def _session_token(actor: Principal, token: str, roles: Any = None) -> Session | None:
    """The session a delegation or NeoFS session token proves, if the actor may see it."""
    parsed = delegation_token_parse(token)
    if parsed is not None:
        session = _visible(actor, parsed[0], roles).first()
        return session if delegation_session_matches(session, parsed[1]) else None
    neofs = neofs_token_parse(token)
    if neofs is None:
        return None
    session = _visible(actor, neofs[0], roles).first()
    return session if neofs_token_matches(session, neofs[1]) else None


def _timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def token_introspect(*, actor: Principal, token: str) -> dict[str, Any]:
    """RFC 7662 §2.2: the token's claims when it is active, else `{"active": false}`; audited
    either way (tokens/services/decision_audit.py). Members of the token's owner and its resource
    servers (DECISION_ROLES) may ask."""
    result, owner_id = _introspect(actor, token)
    introspection_record(actor=actor, token=token, owner_id=owner_id, result=result)
    return result


def _introspect(actor: Principal, token: str) -> tuple[dict[str, Any], int | None]:
    """The answer, and the owner of the session it found active (None when inactive)."""
    claims = access_token_claims(token) if token.count(".") == 2 else None
    if claims is not None:
        try:
            session_id = uuid.UUID(str(claims["sid"]))
        except ValueError:
            return INACTIVE, None
        jti = str(claims["jti"])
        prepared = [Session._meta.pk.get_db_prep_value(session_id, connection), jti]
        statement = scoped_statement(
            "introspection.access_token", actor, _access_token_read, [session_id, jti], prepared
        )
        session = (
            fetch_instance(
                Session, *statement, fields=_READ_FIELDS, extra=("revoked",), remembered=True
            )
            if statement is not None
            else None
        )
        revoked = session is not None and session.revoked  # type: ignore[attr-defined]
        if session is None or revoked or session.state != SessionState.ACTIVE:
            return INACTIVE, None
        return {"active": True, "token_type": "access_token", **claims}, session.owner_id
    session = _session_token(actor, token, DECISION_ROLES)
    if session is None or session.state != SessionState.ACTIVE:
        return INACTIVE, None
    return {
        "active": True,
        "token_type": "session_token",
        "scope": " ".join(session.verbs),
        "client_id": session.subject,
        "sub": session.owner.neofs_owner_id,
        "iat": _timestamp(session.created_at),
        "exp": _timestamp(session.expires_at),
        "sid": str(session.id),
        "cid": session.container_id,
        "kind": session.kind,
    }, session.owner_id


def token_revoke(*, actor: Principal, token: str) -> None:
    """Access tokens are deny-listed until their expiry; a session token cancels its session.
    Unknown or foreign tokens change nothing (RFC 7009 §2.2: still a 200). Revoking is a write:
    a viewer of the token's owner is refused (403), as for every other write."""
    claims = access_token_claims(token) if token.count(".") == 2 else None
    if claims is not None:
        try:
            session = _visible(actor, uuid.UUID(str(claims["sid"]))).first()
        except ValueError:
            return
        if session is None:
            return
        require_role(actor, session.owner, WRITER_ROLES)
        with transaction.atomic():
            _, created = RevokedAccessToken.objects.get_or_create(
                jti=claims["jti"],
                defaults={
                    "session": session,
                    "expires_at": dt.datetime.fromtimestamp(claims["exp"], tz=dt.UTC),
                },
            )
            if created:
                # Cached copies of it (in every process) retire with the generation.
                Session.objects.filter(pk=session.pk).update(
                    access_generation=F("access_generation") + 1
                )
                audit_record(
                    actor=actor, owner=session.owner, action=AuditAction.ACCESS_TOKEN_REVOKE,
                    object_type="session", object_id=str(session.id), token=token,
                )  # fmt: skip
        return
    session = _session_token(actor, token)
    if session is not None:
        # Holding the session token and writing for its owner is enough to give it up.
        require_role(actor, session.owner, WRITER_ROLES)
        session_cancel(actor=actor, session=session, by_token_holder=True)


def revoked_access_token_purge(*, now: dt.datetime | None = None) -> int:
    """Deny-list entries past their expiry are no longer needed."""
    deleted, _ = RevokedAccessToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
