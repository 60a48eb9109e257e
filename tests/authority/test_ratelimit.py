"""Rate-limit numbering shared through the cache (Redis in CI's first run, local memory else)."""

from __future__ import annotations

from django.core.cache import cache

from authority.ratelimit import WindowNumbers, lease_size


def test_lease_size_is_exact_for_small_limits_and_bounded():
    assert [lease_size(n) for n in (1, 2, 60, 199, 200, 600, 1600, 10**8)] == [
        1, 1, 1, 1, 2, 6, 16, 16,
    ]  # fmt: skip


def test_small_limits_count_every_request_in_the_cache():
    numbers = WindowNumbers()
    assert [numbers.take("client", 7, 60, limit=3) for _ in range(4)] == [1, 2, 3, 4]
    assert cache.get("client:7") == 4


def test_numbers_are_leased_and_shared_by_processes():
    first, second = WindowNumbers(), WindowNumbers()  # two processes' views
    taken = [first.take("client", 7, 60, limit=1000) for _ in range(25)]
    assert taken == list(range(1, 26))
    assert cache.get("client:7") == 30  # three leases of 10, one round trip each
    assert second.take("client", 7, 60, limit=1000) == 31  # the other process leases after them
    assert first.take("client", 7, 60, limit=1000) == 26  # the first still holds 26..30


def test_the_limit_holds_across_processes():
    first, second = WindowNumbers(), WindowNumbers()
    passed = 0
    for turn in range(1200):
        numbers = first if turn % 2 else second
        passed += numbers.take("client", 7, 60, limit=1000) <= 1000
    assert 1000 - 2 * (lease_size(1000) - 1) <= passed <= 1000


def test_a_new_window_starts_from_one():
    numbers = WindowNumbers()
    for _ in range(15):
        numbers.take("client", 7, 60, limit=1000)
    assert numbers.take("client", 8, 60, limit=1000) == 1
