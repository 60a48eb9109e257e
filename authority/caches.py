"""Every process-local cache of the authority, declared in one table: what it holds, its bound, how
long an entry is trusted, and the events that evict from it.

The modules that use a cache make it from its declaration (`registry.lru(name, ...)`) or attach
the clear function of a cache of another shape (`registry.attach(name, ...)`); code that changes
what a cache holds announces the event (`invalidate(Event.KEY_DESTROYED, ...)`), and the registry
evicts from every cache of this process that declared the event. Tests reset every cache with
`registry.clear_all()`.

Two bounds the rest of the code relies on:
- **Zero lag for session state.** No cache here decides from a remembered state: the trade's
  recording statement reads the session's state from the database on every request, and the
  decision point's rows (authority.decision_rows) are reused only until a committed write is
  announced, which it is before its request answers (authority.state_changes), and a session's
  row holds its expiry, not its state: a cancel, an expiry or a revocation acts from the next
  request. FACTS_TTL bounds a write nobody announced (made outside the application).
- **KEY_TTL for keys in other processes.** Events reach this process only. Every cache that holds
  a key record or a public key trusts an entry for at most KEY_TTL seconds, so another process
  stops using a destroyed key, or starts using a rotated one, within KEY_TTL.
- **OAUTH2_PRINCIPAL_TTL for OAuth2 access tokens in other processes.** A revoked or ended
  django-oauth-toolkit token stops authenticating in this process at once, elsewhere within
  OAUTH2_PRINCIPAL_TTL (5 s); so does a client secret changed, or an application deleted, at
  the token endpoint.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from authority.lru import LRU
from tokens.wire.signature import load_public_key
from tokens.wire.token import account_of

K = TypeVar("K")
V = TypeVar("V")

KEY_TTL = 30.0  # seconds: how long another process may go on using a destroyed or rotated key
# Seconds another process may go on accepting an OAuth2 access token that was revoked or ended
# (a password change, a removed membership): its validated principal is cached at most this long.
OAUTH2_PRINCIPAL_TTL = 5.0
# Seconds a decision-point row is remembered at most (authority.state_changes): the lag of a write
# nobody announced (made outside the application, or its announcement lost).
FACTS_TTL = 1.0


class Event(enum.Enum):
    KEY_ROTATED = "a key of a purpose became active (first generation or rotation): purpose"
    KEY_DESTROYED = "a key was destroyed in the key store: key_pk, kid, purpose"
    SETTINGS_CHANGED = "Django's setting_changed (tests): setting"
    TEST_RESET = "a test rolled its database back: every cache"
    OAUTH2_TOKEN_DELETED = "an OAuth2 access token was revoked, ended or swept: checksum"  # noqa: S105
    OAUTH2_CLIENT_CHANGED = "an OAuth2 application was saved or deleted: client_id"


@dataclass(frozen=True)
class Declaration:
    name: str
    holds: str
    bound: int | None  # entries at most; None: a handful by construction
    ttl: float | None  # seconds an entry is trusted; None: until an event evicts it
    events: frozenset[Event]


def _declare(
    name: str, holds: str, *, bound: int | None, ttl: float | None = None, events: tuple[Event, ...]
) -> Declaration:
    return Declaration(name, holds, bound, ttl, frozenset({*events, Event.TEST_RESET}))


# fmt: off
DECLARATIONS = {d.name: d for d in (
    _declare("hsm.active_keys", "the active key record by (purpose, owner)",
             bound=10_000, ttl=KEY_TTL, events=(Event.KEY_ROTATED, Event.KEY_DESTROYED)),
    _declare("hsm.keys_by_pk", "key records by primary key (delegation digests)",
             bound=10_000, ttl=KEY_TTL, events=(Event.KEY_DESTROYED,)),
    _declare("tokens.verifying_keys", "access-token public keys by kid (introspection)",
             bound=1_000, ttl=KEY_TTL, events=(Event.KEY_DESTROYED,)),
    # Entries carry their own expiry (the access token's); the key includes the session's access
    # generation, which a revocation bumps in the database.
    # KEY_TTL too: another process's cached tokens of a key destroyed here stop within it.
    # The claims of access tokens whose signature, type and issuer were checked (their times and
    # audience are judged on every use). An entry is used only while its key is still in
    # tokens.verifying_keys, so it ends with the key's entry; a changed ISSUER clears them.
    _declare("tokens.verified_access_tokens", "checked access tokens' claims, by token",
             bound=10_000, events=(Event.SETTINGS_CHANGED,)),
    _declare("tokens.issued_tokens", "access tokens by (session, generation, scope, audience)",
             bound=10_000, ttl=KEY_TTL, events=(Event.KEY_DESTROYED,)),
    # Facts that never change (owner, secret digest, verbs) and the access generation the trade's
    # statement checks again in the database: nothing to invalidate.
    _declare("tokens.known_sessions", "what a full trade learnt of a delegation session",
             bound=10_000, events=()),
    _declare("tokens.confirmed_client_tokens", "client tokens the HSM confirmed, as local HMACs",
             bound=10_000, events=(Event.KEY_DESTROYED,)),
    _declare("tokens.confirmed_secrets", "delegation secrets the HSM confirmed, as local HMACs",
             bound=10_000, events=(Event.KEY_DESTROYED,)),
    # Leases end with their rate-limit window; the table is pruned past 100,000 clients.
    _declare("authority.rate_windows", "rate-limit numbers leased by client and window",
             bound=100_000, events=()),
    # A table at the cap of one-filter records converts to under 1 MB of wire objects (measured
    # 0.5-0.8 MB): 64 bound this cache near 64 MB per process.
    # Keyed by (table pk, updated_at): every write of a table's rows through the services bumps
    # updated_at, so an edit is a new key at once, in every process; old versions age out.
    _declare("authority.eacl_wire_tables", "stored eACL tables converted to tokens.wire tables",
             bound=64, events=()),
    _declare("tokens.active_sql", "the active-session condition compiled, by database vendor",
             bound=None, events=()),
    # The statements, not their rows (those are authority.decision_rows, forgotten at every
    # announced write); the eACL table's rows by version, above.
    _declare("authority.scoped_statements",
             "hot-path reads (the decision point's container, introspection's session) compiled "
             "from visible_to, by read, vendor and principal kind", bound=None, events=()),
    # Rows of the decision point's reads (container, membership, token state), each with the
    # generation of announcements it was read at: forgotten when a committed write anywhere is
    # announced; FACTS_TTL at most (authority.state_changes).
    _declare("authority.decision_rows", "decision-point rows by statement, between writes",
             bound=10_000, ttl=FACTS_TTL, events=()),
    # A changed CACHES setting (tests) is another Redis: subscribe again.
    _declare("authority.state_change_listener", "this process's subscription to announced writes",
             bound=1, events=(Event.SETTINGS_CHANGED,)),
    _declare("tokens.client_session_statement", "the client-token check's statement",
             bound=None, events=()),
    _declare("authority.row_converters", "column converters by connection and column list",
             bound=None, events=()),
    # Keyed by the settings the keys derive from: a changed setting is a new entry.
    _declare("authority.audit_key", "the current audit MAC key by its settings",
             bound=4, events=()),
    _declare("authority.audit_key_ring", "the audit keys that verify, by their settings",
             bound=4, events=()),
    # Pure: an address's stored spelling never changes.
    _declare("authority.client_addresses", "client addresses as the audit column stores them",
             bound=1024, events=()),
    _declare("authority.audit_insert", "the audit row's INSERT statement and column preparers",
             bound=None, events=()),
    # Bearer authentication without DOT's ~6 ms per request. Zero lag here for a deletion in this
    # process (post_delete evicts); OAUTH2_PRINCIPAL_TTL in the others; never past the token's
    # own expiry. Only authentication is cached: memberships and roles are read per request.
    _declare("authority.oauth2_principals", "OAuth2 access tokens DOT validated, by checksum",
             bound=10_000, ttl=OAUTH2_PRINCIPAL_TTL, events=(Event.OAUTH2_TOKEN_DELETED,)),
    # The token endpoint's client lookup. Unknown ids are remembered too (as None), so that a
    # known id answers no faster than an unknown one. A secret changed or an application deleted
    # in another process applies there within OAUTH2_PRINCIPAL_TTL, as a revoked token does.
    _declare("authority.oauth2_clients", "OAuth2 applications (or None) by client id",
             bound=10_000, ttl=OAUTH2_PRINCIPAL_TTL, events=(Event.OAUTH2_CLIENT_CHANGED,)),
    _declare("authority.unknown_client_secret", "the hash unknown client ids are checked against",
             bound=None, events=(Event.SETTINGS_CHANGED,)),
    # The audit stream sink's open file (one per process, reopened after a fork or a new target)
    # and when each audit sink last failed (a failure is retried after 5 s).
    _declare("authority.audit_stream", "the audit stream's open descriptor", bound=1, events=()),
    _declare("authority.audit_sink_health", "when each audit sink last failed to record",
             bound=2, ttl=5.0, events=()),
    # Rows of allowed verify decisions and active introspections made but not yet written
    # (tokens/services/decision_audit).
    _declare("tokens.decision_audit_batch", "audit rows of allowed decisions to write",
             bound=10_000, ttl=None, events=()),
    # Pure: a byte string decodes to one token (frozen objects, shared read-only). Keyed by the
    # bytes' SHA-256; tokens over DECODED_TOKEN_MAX_BYTES are decoded each time instead.
    # Likewise pure: a token's signature check, by its signed bytes' digest and its signature.
    _declare("tokens.signature_checks", "the decision point's token signature checks, by digest",
             bound=4_096, events=()),
    _declare("tokens.decoded_tokens", "NeoFS tokens decoded from request bodies, by digest",
             bound=1_024, events=()),
    _declare("authority.settings", "AUTHORITY options over their defaults",
             bound=None, events=(Event.SETTINGS_CHANGED,)),
    # Pure functions of their argument (tokens.wire has no Django and no registry).
    _declare("wire.public_keys", "decompressed P-256 public keys", bound=4096, events=()),
    _declare("wire.owner_ids", "the owner id each public key derives", bound=4096, events=()),
)}
# fmt: on

Evict = Callable[[Event, dict[str, Any]], None]


class Registry:
    """The caches of this process, by declared name."""

    def __init__(self, declarations: dict[str, Declaration]) -> None:
        self._declarations = declarations
        self._evictors: dict[str, tuple[Callable[[], None], Evict | None]] = {}
        self._lock = threading.Lock()

    def lru(
        self, name: str, *, evict: Callable[[LRU[K, V], Event, dict[str, Any]], None] | None = None
    ) -> LRU[K, V]:
        """A new LRU of the declared bound and TTL. `evict(lru, event, facts)` drops what an
        event concerns; without it, every declared event clears the cache."""
        declaration = self._declarations[name]
        cache: LRU[K, V] = LRU(declaration.bound or 10_000, ttl=declaration.ttl)
        self.attach(
            name,
            clear=cache.clear,
            evict=None if evict is None else (lambda event, facts: evict(cache, event, facts)),
        )
        return cache

    def attach(self, name: str, *, clear: Callable[[], None], evict: Evict | None = None) -> None:
        """Registers a declared cache's clear function (and a finer eviction, if it has one)."""
        if name not in self._declarations:
            raise LookupError(f"Undeclared cache {name!r}: declare it in authority.caches.")
        with self._lock:
            if name in self._evictors:
                raise LookupError(f"Cache {name!r} is attached twice.")
            self._evictors[name] = (clear, evict)

    def invalidate(self, event: Event, **facts: Any) -> None:
        """Evicts what `event` concerns from every cache of this process that declared it."""
        for name, (clear, evict) in list(self._evictors.items()):
            if event not in self._declarations[name].events:
                continue
            if evict is None or event is Event.TEST_RESET:
                clear()
            else:
                evict(event, facts)

    def clear_all(self) -> None:
        self.invalidate(Event.TEST_RESET)

    def unattached(self) -> list[str]:
        return sorted(set(self._declarations) - set(self._evictors))

    def declaration(self, name: str) -> Declaration:
        return self._declarations[name]


registry = Registry(DECLARATIONS)


def invalidate(event: Event, **facts: Any) -> None:
    registry.invalidate(event, **facts)


registry.attach("wire.public_keys", clear=load_public_key.cache_clear)
registry.attach("wire.owner_ids", clear=account_of.cache_clear)
