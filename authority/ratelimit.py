"""Fixed-window rate limiting shared by every process through the cache, in leases.

Each request of a client gets a number within the current window, and numbers up to the limit
pass. Numbers come from one counter per client and window in the cache, but a process takes them
`lease` at a time (one INCRBY) and hands them out itself: one round trip per lease instead of
one per request, which at trade rates was the largest cost after the database. The price: numbers
a process leased but did not use before the window ended are lost, so a client may be refused up
to `lease - 1` requests per process early. Leases grow with the limit (1, exact, up to 199 a
window; at most 16) so that this stays about 1% of the limit per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from authority.cache import count_in_window
from authority.caches import registry

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """A rate spelt as DRF's throttles spell it (`10/minute`, `600/m`, `5/s`) as (requests
    allowed, window in seconds): the one parser of the throttles and the login counters."""
    count, _, period = str(rate).partition("/")
    try:
        return int(count), _PERIODS[period.strip()[:1]]
    except (ValueError, KeyError):
        raise ValueError(f"Not a rate: {rate!r} (write e.g. 10/minute)") from None


def subject_key(purpose: str, value: str) -> str:
    """A counter's name for a secret or personal value (a token, a user name, an address): a
    keyed hash under SECRET_KEY, so the cache holds none of them in the clear. Its own key, not
    the audit key, so rotating the audit key resets no counter."""
    return salted_hmac(f"authority.ratelimit.{purpose}", value, algorithm="sha256").hexdigest()[:32]


MAX_LEASE = 16


def lease_size(limit: int) -> int:
    return max(1, min(MAX_LEASE, limit // 100))


@dataclass
class _Lease:
    window: int
    next: int
    end: int


class WindowNumbers:
    """Per process: the numbers leased for each client key in its current window."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def take(self, key: str, window: int, duration: int, limit: int) -> int:
        """This request's number (1 = the window's first) for `key` in `window`."""
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.window == window and lease.next <= lease.end:
                lease.next += 1
                return lease.next - 1
        size = lease_size(limit)
        end = count_in_window(f"{key}:{window}", duration + 1, size)
        with self._lock:
            self._leases[key] = _Lease(window, end - size + 2, end)
            if len(self._leases) > 100_000:  # clients gone quiet: forget leases of past windows
                self._leases = {k: v for k, v in self._leases.items() if v.window >= window}
        return end - size + 1

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()


window_numbers = WindowNumbers()
registry.attach("authority.rate_windows", clear=window_numbers.clear)


def allow(key: str, *, window: int, duration: int, limit: int) -> bool:
    return window_numbers.take(key, window, duration, limit) <= limit
