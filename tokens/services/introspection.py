"""RFC 7662 token introspection and RFC 7009 revocation, for clients of the token's owner.

Unknown, foreign and inactive tokens all answer `{"active": false}` — nothing tells them apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Exists, F
from django.utils import timezone

from authority.principals import Principal
from authority.roles import WRITER_ROLES
from authority.services.audit import audit_record
from authority.services.permissions import require_role
from tokens.models import RevokedAccessToken, Session, SessionState
from tokens.services.access_tokens import access_token_claims
from tokens.services.delegation import delegation_session_matches, delegation_token_parse
from tokens.services.neofs import neofs_token_matches, neofs_token_parse
from tokens.services.sessions import session_cancel

INACTIVE: dict[str, Any] = {"active": False}


def _visible(actor: Principal, session_id: uuid.UUID) -> Any:
    return Session.objects.visible_to(actor).select_related("owner").filter(pk=session_id)


def _session_token(actor: Principal, token: str) -> Session | None:
    """The session a delegation or NeoFS session token proves, if the actor may see it."""
    parsed = delegation_token_parse(token)
    if parsed is not None:
        session = _visible(actor, parsed[0]).first()
        return session if delegation_session_matches(session, parsed[1]) else None
    neofs = neofs_token_parse(token)
    if neofs is None:
        return None
    session = _visible(actor, neofs[0]).first()
    return session if neofs_token_matches(session, neofs[1]) else None


def _timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def token_introspect(*, actor: Principal, token: str) -> dict[str, Any]:
    claims = access_token_claims(token) if token.count(".") == 2 else None
    if claims is not None:
        try:
            session_id = uuid.UUID(str(claims["sid"]))
        except ValueError:
            return INACTIVE
        session = (
            _visible(actor, session_id)
            .annotate(revoked=Exists(RevokedAccessToken.objects.filter(jti=claims["jti"])))
            .first()
        )
        if session is None or session.revoked or session.state != SessionState.ACTIVE:
            return INACTIVE
        return {"active": True, "token_type": "access_token", **claims}
    session = _session_token(actor, token)
    if session is None or session.state != SessionState.ACTIVE:
        return INACTIVE
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
    }


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
                    actor=actor, owner=session.owner, action="access_token.revoke",
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
