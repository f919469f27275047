"""Leased budget positions (apps.accounts.ratelimit): one Redis round trip serves several
requests of a process, yet no more than the limit is ever let through, by any number of
processes, and each answer's remaining count is exact."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from apps.accounts import ratelimit
from apps.accounts.hotcache import redis_client

pytestmark = pytest.mark.redis

LEASE = 16


@pytest.fixture(autouse=True)
def one_window(monkeypatch, settings):
    frozen = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: frozen))
    settings.RATELIMIT_LEASE_SIZE = LEASE


def spend(limit: int, value: str = "s1") -> ratelimit.Budget:
    budget = ratelimit.spend(group="test", value=value, limit=limit, period_seconds=3600)
    assert budget is not None
    return budget


def stored_count(value: str = "s1") -> int:
    (key,) = redis_client().keys(cache.make_key(f"rl:test:*:{value}"))
    return int(redis_client().get(key))


def another_process(monkeypatch) -> None:
    """What a second web process sees: the same Redis, none of this one's leases."""
    monkeypatch.setattr(ratelimit, "_leases", ratelimit.LeaseBook())


def test_one_round_trip_serves_a_lease_of_requests(monkeypatch):
    calls = []
    real_run = ratelimit.hotcache.run_script
    monkeypatch.setattr(
        ratelimit.hotcache, "run_script", lambda *args: calls.append(args) or real_run(*args)
    )

    remaining = [spend(10_000).remaining for _ in range(LEASE + 1)]

    assert remaining == list(range(9_999, 9_999 - LEASE - 1, -1))  # exact, one by one
    assert len(calls) == 2  # the first request and the one after the lease ran out
    assert stored_count() == 2 * LEASE


def test_near_the_limit_every_request_counts_alone():
    limit = LEASE * ratelimit.LEASE_FLOOR_FACTOR - 1

    spent = [spend(limit) for _ in range(limit + 2)]

    assert stored_count() == limit + 2  # no position was reserved ahead
    assert [budget.exceeded for budget in spent] == [False] * limit + [True, True]
    assert spent[limit - 1].remaining == 0


def test_a_lease_stops_short_of_the_floor_and_the_limit_holds(monkeypatch):
    limit = LEASE * ratelimit.LEASE_FLOOR_FACTOR + 40
    admitted = 0
    for n in range(limit + 10):
        if n % 3 == 0:
            another_process(monkeypatch)  # requests land on different processes
        admitted += not spend(limit).exceeded

    assert admitted <= limit
    # What other processes held unused when the floor was reached is all that can be lost.
    assert admitted >= limit - (LEASE - 1) * 3


class LeasesPerThread:
    """Each thread keeps its own leases, as each web process does."""

    def __init__(self) -> None:
        self.local = threading.local()

    def book(self) -> ratelimit.LeaseBook:
        if not hasattr(self.local, "book"):
            self.local.book = ratelimit.LeaseBook()
        return self.local.book

    def take(self, key: str) -> int | None:
        return self.book().take(key)

    def keep(self, key: str, first: int, last: int, *, window_ends: float) -> None:
        self.book().keep(key, first, last, window_ends=window_ends)


def test_processes_never_admit_more_than_the_limit_together(monkeypatch):
    """Four threads stand in for four processes (each its own leases and Redis connection),
    spending from one budget at once."""
    monkeypatch.setattr(ratelimit, "_leases", LeasesPerThread())
    limit, processes = 1_000, 4
    admitted: list[int] = []
    start = threading.Barrier(processes)

    def process() -> None:
        start.wait()
        admitted.append(sum(not spend(limit).exceeded for _ in range(400)))

    threads = [threading.Thread(target=process) for _ in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(admitted) == processes
    assert limit - processes * (LEASE - 1) <= sum(admitted) <= limit


def test_a_lease_belongs_to_its_window(monkeypatch):
    spend(10_000)
    later = time.time() + 3600
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: later))

    assert spend(10_000).remaining == 9_999  # a new window: a new count, not the old lease


def test_lease_size_one_asks_redis_every_time(settings):
    settings.RATELIMIT_LEASE_SIZE = 1

    [spend(10_000) for _ in range(5)]

    assert stored_count() == 5


def test_two_leases_of_one_window_are_both_taken_in_order():
    book = ratelimit.LeaseBook()
    ends = time.time() + 3600
    book.keep("k", 2, 3, window_ends=ends)
    book.keep("k", 18, 19, window_ends=ends)  # another thread reserved too
    book.keep("other", 5, 5, window_ends=ends)

    assert [book.take("k") for _ in range(5)] == [2, 3, 18, 19, None]
    assert book.take("other") == 5 and book.take("other") is None


def test_a_full_book_forgets_the_leases_of_ended_windows_first():
    """Leases of windows that have ended are never asked for again: a full book drops those,
    not the live ones (clearing everything made live budgets lose their leased positions)."""
    book = ratelimit.LeaseBook(max_entries=3)
    now = time.time()
    book.keep("ended-1", 1, 5, window_ends=now - 10)
    book.keep("ended-2", 1, 5, window_ends=now - 1)
    book.keep("live", 7, 9, window_ends=now + 600)

    book.keep("new", 3, 4, window_ends=now + 600)

    assert book.take("live") == 7 and book.take("new") == 3
    assert book.take("ended-1") is None and book.take("ended-2") is None
