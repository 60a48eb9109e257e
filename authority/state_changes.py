"""Committed writes announced to every process, and the decision point's rows remembered between
announcements.

Verify and introspection read the same container, membership and token rows on request after
request, and the database round trip was a third of their cost. Here a process remembers those
rows (`remembered_row`) and forgets them when any process, on any node, commits a write: every
Django connection carries an execute wrapper that sees each statement, and a write (INSERT,
UPDATE, DELETE, DDL: anything but a read or a transaction's own control) to a table outside
`UNWATCHED_TABLES` is announced on a Redis channel once its transaction commits (at once in
autocommit), before the request that made it answers. Each process listens on the channel and
reads what has arrived (a poll of its socket, no round trip) before it reuses a row.

So a change (a cancel, a revocation, an ACL edit, a removed membership) acts at the next request:
- in the writing process, at once (it forgets before it announces);
- on the same host, at once: after publishing, the writer waits for a second reply from Redis,
  which Redis sends only after it has written the announcement to every listener's socket, so the
  announcement is in each listener's socket before the writer answers;
- on another host, as soon as the announcement crosses the network, which it has started to do
  before the writer answers. Should the link from Redis to that host fail or lose a packet, or
  Redis hang, the host stops trusting its rows LIVE_FOR (0.1 s) after the subscription last
  answered a PING (Redis answers on the same connection, in order, after the announcements
  before it), and forgets them before it trusts the subscription again.

Bounds, written down in docs/operations.md:
- Rows are remembered only while this process listens (Redis configured, reachable, and its
  subscription answering within LIVE_FOR; the embedded defaults read the database every time),
  only outside a transaction (inside one, the database's view, with the transaction's own
  writes, is the truth), and for FACTS_TTL (1 s) at most: the lag of a write nobody announced
  (made outside the application, or whose announcement could not be published: counted in
  `authority_state_change_announce_failures_total`). A listener that loses its connection
  forgets everything and remembers nothing until it listens again.
- A Redis that hangs costs an announcement, or a subscription attempt (once a second), at most
  ANNOUNCEMENT_TIMEOUT (authority.cache): then the database is read, as without Redis.
- Time is never remembered: a row holds a session's expiry, not its state, so expiry acts on
  time whatever was remembered.
- The unwatched tables are the ones the remembered reads never consult and that are written at
  the rate of requests (audit rows, authentication's own tokens, login attempts).
"""

from __future__ import annotations

import collections
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from authority import metrics
from authority.cache import ANNOUNCEMENT_TIMEOUT, RedisCache
from authority.caches import FACTS_TTL, registry
from authority.lru import LRU

logger = logging.getLogger(__name__)

CHANNEL = "state-changes"
# Seconds between attempts to subscribe when one fails.
RESUBSCRIBE_AFTER = 1.0
# Seconds between PINGs on a subscription in use, and how recent its last answer must be for
# remembered rows to count (the most a broken link to Redis can delay an announcement).
HEARTBEAT = 0.025
LIVE_FOR = 0.1

# Written at the rate of requests, and read by no remembered row: their writes announce nothing.
UNWATCHED_TABLES = frozenset(
    {
        "authority_auditevent",
        "authority_auditchain",
        "oauth2_provider_accesstoken",
        "oauth2_provider_refreshtoken",
        "oauth2_provider_grant",
        "oauth2_provider_idtoken",
        "oauth2_provider_devicegrant",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "django_session",
        "django_admin_log",
    }
)

# Statements that never write: reads, a transaction's own control, and settings of the session
# (`SET LOCAL synchronous_commit`).
_NOT_WRITES = (
    "SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SHOW", "EXPLAIN", "SET ",
)  # fmt: skip
_TARGET = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?\s', re.IGNORECASE)


def is_announced_write(sql: str) -> bool:
    """Whether a statement writes what a remembered row may hold: a write to a watched table,
    or any statement that may write and names no single table (DDL, WITH, TRUNCATE)."""
    if sql.lstrip()[:9].upper().startswith(_NOT_WRITES):
        return False
    target = _TARGET.match(sql)
    return target is None or target.group(1).lower() not in UNWATCHED_TABLES


def _redis() -> RedisCache | None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    return backend if isinstance(backend, RedisCache) else None


class _Listener:
    """This process's subscription to the announcements, made on first use (after a fork: a
    parent's subscription is not the child's). `generation` advances with every announcement
    heard and every subscription made; a row counts only at the generation it was read at.

    A subscription is trusted only while it shows it is alive: a PING goes out on it every
    HEARTBEAT seconds while it is used, and Redis answers on the same connection, after every
    announcement published before the PING. A connection that dies without a word (a frozen
    link, a vanished host, a Redis that hangs) stops answering, and rows stop counting LIVE_FOR
    seconds after its last answer. Announcements may have been lost while it was silent (a
    writer whose PUBLISH timed out), so once it answers again — or answers a PING later than
    LIVE_FOR — everything remembered before is forgotten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._pubsub: Any = None
        self._retry_at = 0.0
        self._pinged_at = 0.0
        self._answered_at = 0.0
        self._unanswered: collections.deque[float] = collections.deque()  # PINGs' send times
        self._lapsed = False
        self.generation = 0

    def heard(self) -> int | None:
        """The generation after what has arrived; None while not listening, or while the
        subscription has not answered within LIVE_FOR."""
        with self._lock:
            if self._pid != os.getpid():
                self._pubsub, self._pid = None, os.getpid()  # not this process's socket
            if self._pubsub is None and not self._subscribe():
                return None
            try:
                while (message := self._pubsub.get_message(timeout=0.0)) is not None:
                    if message["type"] == "message":
                        self._forget()
                    elif message["type"] == "pong":
                        self._answered(time.monotonic())
                now = time.monotonic()
                if now - self._pinged_at >= HEARTBEAT:
                    self._pubsub.ping()
                    self._pinged_at = now
                    self._unanswered.append(now)
            except Exception:  # noqa: BLE001 - the channel is lost: nothing can be vouched for
                self._drop()
                return None
            if now - self._answered_at > LIVE_FOR:
                self._lapsed = True
                return None
            if self._lapsed:  # silent a while: what was announced meanwhile may be lost
                self._lapsed = False
                self._forget()
            return self.generation

    def _answered(self, at: float) -> None:
        sent = self._unanswered.popleft() if self._unanswered else at
        if at - sent > LIVE_FOR:
            self._lapsed = True  # an answer this late: the link stalled
        self._answered_at = at

    def forget(self) -> None:
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        self.generation += 1
        _rows.clear()

    def _subscribe(self) -> bool:
        backend = _redis()
        if backend is None or time.monotonic() < self._retry_at:
            return False
        pubsub = None
        try:
            client, channel = backend.announcements(CHANNEL)
            pubsub = client.pubsub()
            pubsub.subscribe(channel)
            confirmed = pubsub.get_message(timeout=ANNOUNCEMENT_TIMEOUT)
            if confirmed is None or confirmed["type"] != "subscribe":
                raise ConnectionError("no subscription confirmed")
            self._pinged_at = self._answered_at = time.monotonic()  # the confirmation answers
            self._unanswered.clear()
            self._lapsed = False
        except Exception:  # noqa: BLE001 - not listening: read the database meanwhile
            self._retry_at = time.monotonic() + RESUBSCRIBE_AFTER
            if pubsub is not None:
                self._close(pubsub)
            return False
        self._pubsub = pubsub
        self._forget()  # rows read before listening were heard of by nobody
        return True

    def _drop(self, retry_at: float | None = None) -> None:
        """Stops listening and forgets; subscribes again from `retry_at` (default: in
        RESUBSCRIBE_AFTER seconds)."""
        pubsub, self._pubsub = self._pubsub, None
        self._retry_at = time.monotonic() + RESUBSCRIBE_AFTER if retry_at is None else retry_at
        self._forget()
        if pubsub is not None:
            self._close(pubsub)

    @staticmethod
    def _close(pubsub: Any) -> None:
        try:
            pubsub.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection
            pass

    def clear(self) -> None:
        """Tests: stop listening (the next use subscribes again, to the current settings)."""
        with self._lock:
            self._drop(retry_at=0.0)


_listener = _Listener()


def state_changed() -> None:
    """Announces a committed write: this process forgets at once, the others as the module says.
    A failure is logged and counted (FACTS_TTL bounds it): the write itself is committed."""
    _listener.forget()
    backend = _redis()
    if backend is None:
        return
    try:
        client, channel = backend.announcements(CHANNEL)
        client.publish(channel, b"")
        # Redis answers a command only after writing out everything the previous one queued:
        # this reply means the announcement is in every listener's socket.
        client.ping()
    except Exception:  # noqa: BLE001 - the write is committed; FACTS_TTL bounds the lag
        metrics.state_change_announce_failures_total.inc()
        logger.error(
            "state changes: a committed write could not be announced; other processes may go "
            "on using what they remember for up to %s s",
            FACTS_TTL,
        )


def _announce_on_commit(db: BaseDatabaseWrapper) -> None:
    if not db.in_atomic_block:
        state_changed()  # autocommit: the statement is committed
        return
    # Once per transaction: a callback registered in a savepoint that rolls back goes with it,
    # and a later write registers it again.
    if not any(entry[1] is state_changed for entry in db.run_on_commit):
        db.on_commit(state_changed, robust=True)


def _watch_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    result = execute(sql, params, many, context)
    if is_announced_write(sql):
        _announce_on_commit(context["connection"])
    return result


def watch_writes(connection: BaseDatabaseWrapper) -> None:
    """Announces `connection`'s committed writes: the project's database backends call it as
    they are made (authority.db), so no connection of theirs is ever without it."""
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


@receiver(connection_created)
def _watch_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    watch_writes(connection)  # a backend of another engine, from its first connection on


# Rows by (statement, parameters): (the listener's generation they were read at, the row).
_rows: LRU[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = registry.lru("authority.decision_rows")
registry.attach(
    "authority.state_change_listener",
    clear=_listener.clear,
    evict=lambda event, facts: _listener.clear() if facts.get("setting") == "CACHES" else None,
)


def remembered_row(
    key: tuple[Any, ...], read: Callable[[], Sequence[Any] | None]
) -> Sequence[Any] | None:
    """`read()` (one row, or None), or the row it gave since the last announcement heard.
    Absent rows are not remembered (ids nobody has cannot crowd out the ones in use)."""
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return _read(read)
    generation = _listener.heard()  # before the read: a write after it is heard after it
    if generation is None:
        return _read(read)
    found = _rows.get(key)
    if found is not None and found[0] == generation:
        _FROM_MEMORY.inc()
        return found[1]
    row = _read(read)
    if row is not None:
        _rows.put(key, (generation, tuple(row)))
    return row


_FROM_MEMORY = metrics.decision_rows_total.labels("memory")
_FROM_DATABASE = metrics.decision_rows_total.labels("database")


def _read(read: Callable[[], Sequence[Any] | None]) -> Sequence[Any] | None:
    _FROM_DATABASE.inc()
    return read()
