"""A bounded, thread-safe map that drops its least recently used entries, and optionally entries
older than a time to live: the shape of most per-process caches (declared in authority.caches)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def _clock() -> float:
    return time.monotonic()


class LRU(Generic[K, V]):
    def __init__(self, size: int = 10_000, *, ttl: float | None = None) -> None:
        self._size = size
        self._ttl = ttl
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if self._ttl is not None and _clock() - found[1] >= self._ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = (value, _clock() if self._ttl is not None else 0.0)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def evict_if(self, doomed: Callable[[K, V], bool]) -> None:
        """Drops every entry for which `doomed(key, value)` holds (a scan: for rare events)."""
        with self._lock:
            for key in [k for k, (v, _) in self._entries.items() if doomed(k, v)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
