"""The trade: a session token for a short-lived access token (broker GetAccessToken, RFC 8693),
read top to bottom — parse the presented token, look the session up, check it, reuse or sign an
access token, record the trade.

The hot path: a first trade of a session reads it (one prepared statement) and writes its audit
row (one statement); a repeated trade of a delegation session is one statement that records the
trade only if the session is still active at the access generation of the cached token
(`_trade_again`). Keys, confirmed secrets and recently issued access tokens come from per-process
caches (authority.caches), but the session's state always comes from the database, so a cancelled
or expired session trades nothing at once, whatever is cached; revoking an access token bumps the
session's `access_generation`, which is part of the cache key, so no process hands it out again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from authority.caches import Event, registry
from authority.conf import authority_settings
from authority.epoch import current_epoch
from authority.errors import BadCredentials, Conflict, InvalidInput
from authority.lru import LRU
from authority.principals import Principal
from authority.raw import fetch_instance
from authority.services.audit import audit_record, audit_record_if
from tokens.models import Session, SessionKind, SessionQuerySet, SessionState
from tokens.selectors import TRADE_ACTION
from tokens.services.access_tokens import access_token_sign
from tokens.services.delegation import (
    delegation_secret_confirmed,
    delegation_session_matches,
    delegation_token_parse,
)
from tokens.services.neofs import neofs_token_matches, neofs_token_parse
from tokens.services.proof import Proof, proof_check

MIN_REUSE_SECONDS = 30  # a cached token is handed out again only while it has this much life


@dataclass(frozen=True)
class TradeResult:
    access_token: str
    expires_in: int
    scope: str
    session_id: uuid.UUID
    cached: bool


@dataclass(frozen=True)
class KnownSession:
    """What a full trade learnt of a session: facts that never change, and the access generation
    its cached tokens belong to (checked again by the database on every trade)."""

    owner_id: int
    secret_digest: str
    verbs: tuple[str, ...]
    access_generation: int


def _evict_signed_by(
    cache: LRU[tuple[Any, ...], tuple[str, float, str]], event: Event, facts: dict[str, Any]
) -> None:
    cache.evict_if(lambda slot, issued: issued[2] == facts["kid"])


# Recently issued access tokens of this process, (token, expiry, kid) by session, access
# generation, scope and audience; and the delegation sessions they were traded from.
issued_tokens: LRU[tuple[Any, ...], tuple[str, float, str]] = registry.lru(
    "tokens.issued_tokens", evict=_evict_signed_by
)
known_sessions: LRU[uuid.UUID, KnownSession] = registry.lru("tokens.known_sessions")


def access_token_trade(
    *, subject_token: str, scope: str | None = None, audience: str | None = None,
    proof: Proof | None = None,
) -> TradeResult:  # fmt: skip
    """A session token for an access token scoped to the session (or narrower).

    A repeated trade of a delegation session whose access token this process holds takes one
    statement (`_trade_again`); every other trade reads the session, checks it, and signs or
    reuses a token (`_trade`). Both re-check the session's state in the database."""
    audience = audience or authority_settings.ACCESS_TOKEN_AUDIENCE
    parsed = delegation_token_parse(subject_token)
    if parsed is not None and proof is None:
        again = _trade_again(parsed[0], parsed[1], scope, audience)
        if again is not None:
            return again
    return _trade(subject_token, scope, audience, proof)


def _trade_again(
    session_id: uuid.UUID, secret: str, scope: str | None, audience: str
) -> TradeResult | None:
    """The cached access token for a session this process traded before, recorded in the same
    statement that finds the session still active at the same access generation; None when any
    of that is not so (the full trade then says why)."""
    known = known_sessions.get(session_id)
    if known is None or not delegation_secret_confirmed(session_id, known.secret_digest, secret):
        return None
    try:
        verbs = _scope(known.verbs, scope)
    except InvalidInput:
        return None  # the full trade answers, in its order of checks
    now = timezone.now()
    cached = issued_tokens.get((session_id, known.access_generation, " ".join(verbs), audience))
    if cached is None or cached[1] - now.timestamp() < MIN_REUSE_SECONDS:
        return None
    token, expires, _ = cached
    if not audit_record_if(
        _still_live_sql(),
        [
            Session._meta.pk.get_db_prep_value(session_id, connection),
            known.access_generation,
            Session.prepare_moment(now, connection),
        ],
        **_trade_audit(session_id, known.owner_id, token, verbs, cached=True),
    ):
        return None
    return TradeResult(token, int(expires - now.timestamp()), " ".join(verbs), session_id, True)


def _trade(
    subject_token: str, scope: str | None, audience: str, proof: Proof | None
) -> TradeResult:
    session = _session_presented(subject_token, proof)
    now = timezone.now()
    state = session.state_at(now)
    if state != SessionState.ACTIVE:
        raise Conflict(f"The session is {state}.")
    verbs = _scope(session.verbs, scope)
    _check_audience(session, audience)
    slot = (session.id, session.access_generation, " ".join(verbs), audience)
    cached = issued_tokens.get(slot)
    if cached is not None and cached[1] - now.timestamp() >= MIN_REUSE_SECONDS:
        token, expires, _ = cached
        reused = True
    else:
        expires_at = min(
            now + dt.timedelta(seconds=authority_settings.ACCESS_TOKEN_TTL), session.expires_at
        )
        if (expires_at - now).total_seconds() < 1:
            raise Conflict("The session expires too soon to issue an access token.")
        token, kid = access_token_sign(
            session=session, verbs=verbs, audience=audience, now=now, expires_at=expires_at
        )
        expires, reused = expires_at.timestamp(), False
        issued_tokens.put(slot, (token, expires, kid))
    if session.kind == SessionKind.DELEGATION:
        known_sessions.put(
            session.id,
            KnownSession(
                session.owner_id, session.secret_digest, tuple(session.verbs),
                session.access_generation,
            ),
        )  # fmt: skip
    audit_record(
        **_trade_audit(session.id, session.owner_id, token, verbs, cached=reused),
        synchronous=False,
    )
    return TradeResult(token, int(expires - now.timestamp()), " ".join(verbs), session.id, reused)


# The helpers, in the order the trade calls them.


def _session_presented(subject_token: str, proof: Proof | None) -> Session:
    """The session a presented token proves, or BadCredentials (never saying which part failed)."""
    parsed = delegation_token_parse(subject_token)
    if parsed is not None:
        session = _session_by_id(parsed[0])
        if not delegation_session_matches(session, parsed[1]):
            raise BadCredentials("Unknown or invalid session token.")
        return session  # type: ignore[return-value]
    neofs = neofs_token_parse(subject_token)
    session = _session_by_id(neofs[0]) if neofs else None
    if neofs is None or session is None or not neofs_token_matches(session, neofs[1]):
        raise BadCredentials("Unknown or invalid session token.")
    lifetime = neofs[2].body.lifetime
    if lifetime is None or not lifetime.valid_at(current_epoch()):
        raise Conflict("The NeoFS session token is outside its epoch lifetime.")
    if proof is None:
        raise BadCredentials("A NeoFS session token needs a proof of possession of its key.")
    proof_check(session_id=session.id, session_key=neofs[2].body.session_key, proof=proof)
    return session


# The trade's one read, as hand-written SQL: setting up an ORM query costs several times the
# round trip itself, on the path that runs for every trade. The model's other fields stay deferred.
_TRADE_SESSION_FIELDS = (
    "id", "owner_id", "subject", "kind", "verbs", "container_cid", "token", "secret_digest",
    "secret_key_id", "expires_at", "cancelled_at", "access_generation",
)  # fmt: skip
_TRADE_SESSION_SQL = f"""
    SELECT {", ".join(f"s.{name}" for name in _TRADE_SESSION_FIELDS)}, o.neofs_owner_id,
        o.access_token_audiences
    FROM tokens_session s JOIN authority_owner o ON o.id = s.owner_id
    WHERE s.id = %s
"""  # noqa: S608 - column names from the tuple above, the id a parameter


def _session_by_id(session_id: uuid.UUID) -> Session | None:
    """What a trade reads, with the owner's NeoFS id (the token's `sub`) as `owner_neofs_id`
    and its audience allow-list as `owner_audiences`."""
    key = Session._meta.pk.get_db_prep_value(session_id, connection)
    return fetch_instance(
        Session, _TRADE_SESSION_SQL, [key], fields=_TRADE_SESSION_FIELDS,
        extra=("owner_neofs_id", "owner_audiences"),
    )  # fmt: skip


def _check_audience(session: Session, audience: str) -> None:
    """ACCESS_TOKEN_AUDIENCE, or one of the owner's allow-list (Owner.access_token_audiences).
    Checked only once the session token proved itself, so the list is told to no stranger; a
    repeated trade reuses a token issued after this check."""
    if audience == authority_settings.ACCESS_TOKEN_AUDIENCE:
        return
    if audience not in (getattr(session, "owner_audiences", None) or "").split():
        raise InvalidInput("The session's owner does not allow this audience.", field="audience")


def _scope(verbs: Sequence[str], scope: str | None) -> list[str]:
    if not scope:
        return list(verbs)
    wanted = scope.split()
    extra = [verb for verb in wanted if verb not in verbs]
    if extra:
        raise InvalidInput(f"Beyond the session's verbs: {', '.join(extra)}.", field="scope")
    return [verb for verb in verbs if verb in wanted]  # the session's order, deduplicated


def _still_live_sql() -> str:
    """The condition of a repeated trade's statement, on (session id, access generation, now):
    the session is active (`SessionQuerySet.active`, compiled) and its cached tokens are still of
    its current access generation."""
    return (
        "EXISTS (SELECT 1 FROM tokens_session WHERE id = %s AND access_generation = %s"  # noqa: S608 - a compiled condition, values are parameters
        f" AND {SessionQuerySet.active_sql(connection)})"
    )


def _trade_audit(
    session_id: uuid.UUID, owner_id: int, token: str, verbs: list[str], *, cached: bool
) -> dict[str, Any]:
    return {
        "actor": Principal(system=f"session-holder:{session_id}"),
        "owner": owner_id,
        "action": TRADE_ACTION,
        "object_type": "session",
        "object_id": str(session_id),
        "token": token,
        "detail": {"scope": verbs, "cached": cached},
    }
