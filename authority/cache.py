"""Django's Redis cache, with one client object per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every operation, and redis-py's client
set-up (response callbacks and all) costs about as much as the round trip itself. A client is
thread-safe and draws connections from its pool, so one per pool is enough; the hot paths (trade
throttling, the access-token cache, proof nonces) make several cache calls per request.
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# Seconds the announcements' client (authority.state_changes) waits to connect or for a reply.
ANNOUNCEMENT_TIMEOUT = 0.25


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    # The private helpers below are Django's own (django.core.cache.backends.redis), which its
    # type stubs leave out; this method replaces theirs with the same signature.
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """settings.CACHES backend `authority.cache.RedisCache`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
        self._announcer: Any = None

    def count_in_window(self, key: str, timeout: int, amount: int = 1) -> int:
        """INCR and EXPIRE NX sent together, one round trip, no MULTI (Django's incr reads the key
        first, a second round trip)."""
        redis_key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        pipeline.incr(redis_key, amount)
        pipeline.expire(redis_key, timeout, nx=True)
        count, _ = pipeline.execute()
        return int(count)

    def announcements(self, name: str) -> tuple[Any, str]:
        """(a redis-py client of short timeouts, the channel named `name` for this cache's
        database and key prefix): Redis's channels span its databases, so the name carries
        both. The client is this cache's own (authority.state_changes): a Redis that hangs costs
        a decision or a write ANNOUNCEMENT_TIMEOUT, not the pool's five seconds."""
        if self._announcer is None:
            self._announcer = redis.Redis.from_url(
                self._servers[0],  # type: ignore[attr-defined]  # Django's, as set by its __init__
                socket_timeout=ANNOUNCEMENT_TIMEOUT,
                socket_connect_timeout=ANNOUNCEMENT_TIMEOUT,
            )
        database = self._announcer.connection_pool.connection_kwargs.get("db", 0)
        return self._announcer, f"{self.make_and_validate_key(name)}:db{database}"


def count_in_window(
    key: str, timeout: int, amount: int = 1, *, alias: str = DEFAULT_CACHE_ALIAS
) -> int:
    """An atomic per-window counter on any Django cache, raised by `amount`: one round trip on
    our Redis backend."""
    backend = caches[alias]  # the backend itself: `django.core.cache.cache` is only a proxy
    if isinstance(backend, RedisCache):
        return backend.count_in_window(key, timeout, amount)
    try:
        return int(backend.incr(key, amount))
    except ValueError:  # the first hit of the window
        if backend.add(key, amount, timeout=timeout):
            return amount
        return int(backend.incr(key, amount))
